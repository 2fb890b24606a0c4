"""Signatures: regular expressions over one output line, shipped as data in the agent profiles."""

from __future__ import annotations

import datetime
import functools
import re
import typing as t

from heartbeat.errors import ConfigError
from heartbeat.words import Kind

#: The kinds a signature may have (``words.Kind``: what each means).
KINDS = tuple(Kind)
ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r")

#: Secrets and their markers: (pattern, replacement), compiled at the first redaction.
SECRET_SOURCES = (
    (r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{6,}", "sk-[REDACTED]"),
    (r"\b[Bb]earer\s+[A-Za-z0-9._~+/=-]{6,}", "Bearer [REDACTED]"),
    (r"\bgh[opsur]_[A-Za-z0-9]{6,}", "gh_[REDACTED]"),
    (r"\bgithub_pat_[A-Za-z0-9_]{10,}", "github_pat_[REDACTED]"),
    (r"\bxox[abposr]-[A-Za-z0-9-]{6,}", "xox-[REDACTED]"),
    (r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*", "[REDACTED-JWT]"),
    (
        r"(?i)\b((?:api[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|"
        r"secret|password|passwd)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}",
        r"\1[REDACTED]",
    ),
)


#: What a line holds, in lower case, when one of SECRET_SOURCES can match it.
SECRET_NEEDLES = (
    "sk-",
    "bearer",
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "ghr_",
    "github_pat_",
    "xox",
    "eyj",
    "key",
    "token",
    "secret",
    "passw",
)


def redact(text: str) -> str:
    """Replace API keys, bearer tokens and similar secrets by markers.

    Text that holds none of SECRET_NEEDLES comes back as it is, unscanned.
    """
    low = text.lower()
    if not any(needle in low for needle in SECRET_NEEDLES):
        return text
    for pattern, replacement in secret_patterns():
        text = pattern.sub(replacement, text)
    return text


@functools.cache
def secret_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """SECRET_SOURCES compiled."""
    return tuple((re.compile(source), replacement) for source, replacement in SECRET_SOURCES)


def clean(line: str) -> str:
    """A line without ANSI escapes and carriage returns."""
    return ANSI_RE.sub("", line)


class Signature(t.NamedTuple):
    """A regular expression over one output line (``source``), compiled when first used.

    ``literals`` are strings one of which every line the pattern matches
    contains, compared in ASCII lower case: a scan runs the pattern only on the
    lines that hold one. Empty when not known: the pattern then runs on every line.
    """

    name: str
    kind: str
    source: str
    where: str = "both"
    literals: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self.source)

    @property
    def needles(self) -> tuple[bytes, ...]:
        """The literals as the prefilter looks for them: UTF-8, ASCII lower case."""
        return _needles(self.literals)


@functools.cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


@functools.cache
def _needles(literals: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(literal.encode("utf-8").lower() for literal in literals)


class Match(t.NamedTuple):
    signature: Signature
    line: str
    groups: dict[str, str]

    @property
    def kind(self) -> str:
        return self.signature.kind


def compile_signature(raw: t.Mapping[str, t.Any], where: str, *, check: bool = True) -> Signature:
    """A signature from its table (name, kind, pattern, where, literals).

    Raises ConfigError naming *where* for a table that is not one.
    With *check* the pattern is compiled now, so that a bad one is reported at
    once; the shipped profiles' patterns (tested) are compiled when first used.
    """
    for key in ("name", "kind", "pattern"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{where}: a signature needs a string {key!r}")
    kind = raw["kind"]
    if kind not in KINDS:
        raise ConfigError(
            f"{where}: signature {raw['name']!r} has unknown kind {kind!r}; "
            f"use one of {', '.join(KINDS)}"
        )
    location = raw.get("where", "both")
    if location not in {"pane", "log", "both"}:
        raise ConfigError(f"{where}: signature {raw['name']!r}: where must be pane, log or both")
    literals = raw.get("literals", [])
    if not isinstance(literals, list) or not all(
        isinstance(x, str) and x and "\n" not in x for x in literals
    ):
        raise ConfigError(
            f"{where}: signature {raw['name']!r}: literals must be a list of non-empty "
            "one-line strings, one of which every matching line contains (or leave it out)"
        )
    signature = Signature(raw["name"], kind, raw["pattern"], location, tuple(literals))
    if check:
        try:
            _pattern(signature.source)
        except re.error as error:
            raise ConfigError(
                f"{where}: signature {raw['name']!r} has a bad pattern ({error}); fix the regex"
            ) from None
    return signature


def scan(
    lines: t.Iterable[str], signatures: t.Sequence[Signature], where: str = "pane"
) -> list[Match]:
    """Every match, in line order; at most one match per kind and line.

    The same matches as ``scan_plain``, at grep speed: a line that holds none
    of the signatures' literals (and no escape or carriage return, which
    ``clean`` removes) is skipped before any regex runs.
    """
    usable = [s for s in signatures if s.where in ("both", where)]
    lines = list(lines)
    if not usable or not lines:
        return []
    if any(not s.literals for s in usable):
        return _scan_lines(lines, usable)
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if data.count(b"\n") != len(lines) - 1:  # a line that holds a newline: no shortcut
        return _scan_lines(lines, usable)
    picked = _line_numbers(data, _starts(data, usable, (b"\x1b", b"\r")))
    return _scan_lines([lines[i] for i in picked], usable)


def may_match(text: str, signatures: t.Sequence[Signature], where: str = "pane") -> bool:
    """Whether some line of *text* could match one of *signatures*; False: ``scan`` finds none."""
    usable = [s for s in signatures if s.where in ("both", where)]
    if any(not s.literals for s in usable):
        return True
    low = text.encode("utf-8", "surrogatepass").lower()
    return any(n in low for n in (b"\x1b", b"\r", *(n for s in usable for n in s.needles)))


def scan_bytes(data: bytes, signatures: t.Sequence[Signature], where: str = "log") -> list[Match]:
    """``scan`` over ``data.decode("utf-8", "replace").splitlines()``, decoding only what it must.

    Only the lines that hold a literal are decoded (a log of whole lines read
    as bytes: the matches are the same).
    """
    usable = [s for s in signatures if s.where in ("both", where)]
    if not usable or not data:
        return []
    if any(not s.literals for s in usable):
        return _scan_lines(data.decode("utf-8", "replace").splitlines(), usable)
    lines: list[str] = []
    # splitlines cuts at a carriage return: only an escape sequence can hide a literal
    for start in _starts(data, usable, (b"\x1b",)):
        end = data.find(b"\n", start)
        segment = data[start:] if end < 0 else data[start:end]
        lines += segment.decode("utf-8", "replace").splitlines()
    return _scan_lines(lines, usable)


def _starts(data: bytes, signatures: t.Sequence[Signature], always: tuple[bytes, ...]) -> list[int]:
    """Sorted offsets of the (newline-separated) lines of *data* that hold a literal.

    A line holding one of *always* (what ``clean`` removes, which may hide a
    literal) is always among them.
    """
    low = data.lower()
    needles = dict.fromkeys([n for s in signatures for n in s.needles] + list(always))
    starts: set[int] = set()
    for needle in needles:
        at = low.find(needle)
        while at >= 0:
            starts.add(low.rfind(b"\n", 0, at) + 1)
            end = low.find(b"\n", at)
            if end < 0:
                break
            at = low.find(needle, end + 1)
    return sorted(starts)


def _line_numbers(data: bytes, starts: t.Sequence[int]) -> list[int]:
    """The line number of each line start in *starts* (sorted)."""
    numbers = []
    number = last = 0
    for start in starts:
        number += data.count(b"\n", last, start)
        last = start
        numbers.append(number)
    return numbers


def _scan_lines(lines: t.Iterable[str], signatures: t.Sequence[Signature]) -> list[Match]:
    """Match every line; a signature runs only on a line holding one of its literals."""
    found: list[Match] = []
    for raw in lines:
        line = clean(raw)
        if not line.strip():
            continue
        low = line.encode("utf-8", "surrogatepass").lower()
        kinds: set[str] = set()
        for signature in signatures:
            if signature.kind in kinds:
                continue
            if signature.literals and not any(n in low for n in signature.needles):
                continue
            match = signature.pattern.search(line)
            if match:
                kinds.add(signature.kind)
                groups = {k: v for k, v in match.groupdict().items() if v is not None}
                found.append(Match(signature, line.strip(), groups))
    return found


def scan_plain(
    lines: t.Iterable[str], signatures: t.Sequence[Signature], where: str = "pane"
) -> list[Match]:
    """Every pattern on every line: the reference ``scan`` is proven against (tests, benchmark)."""
    found: list[Match] = []
    for raw in lines:
        line = clean(raw)
        if not line.strip():
            continue
        kinds: set[str] = set()
        for signature in signatures:
            if signature.where not in ("both", where) or signature.kind in kinds:
                continue
            match = signature.pattern.search(line)
            if match:
                kinds.add(signature.kind)
                groups = {k: v for k, v in match.groupdict().items() if v is not None}
                found.append(Match(signature, line.strip(), groups))
    return found


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def parse_reset(text: str, now: datetime.datetime) -> datetime.datetime | None:
    """The time in "try again at 3:15 PM" / "at Nov 26th, 2026 9:00 AM" / "8pm", in *now*'s zone.

    Pass *now* in the zone the agent printed the time in (codex: the machine's
    local time; Claude Code names its zone).

    A bare time already past is taken as tomorrow's. All digits, 9 to 11 of
    them, are epoch seconds (older Claude Code: ``usage limit reached|1760000400``),
    returned in *now*'s zone. Returns None when the text is not a time this
    understands.
    """
    text = text.strip().rstrip(".")
    if text.isdigit() and 9 <= len(text) <= 11:
        return datetime.datetime.fromtimestamp(int(text), now.tzinfo)
    if ":" not in text and not re.search(r"\d\s*[AaPp][Mm]\b", text):
        parts = re.findall(r"(\d+)\s*(second|minute|hour|day)s?", text, re.I)
        if parts:
            delta = datetime.timedelta()
            for amount, unit in parts:
                delta += datetime.timedelta(**{unit.lower() + "s": int(amount)})
            return now + delta
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    clock = re.search(r"(\d{1,2}):(\d{2})\s*([AaPp][Mm])?|(\d{1,2})\s*([AaPp][Mm])\b", text)
    if not clock:
        return None
    if clock.group(4):  # "8pm": Claude Code's shape
        hour, minute, meridiem = int(clock.group(4)), 0, clock.group(5).lower()
    else:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        meridiem = (clock.group(3) or "").lower()
    if meridiem == "pm" and hour != 12:
        hour += 12
    if meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    date_part = text[: clock.start()].strip(" ,")
    day = now.date()
    if date_part:
        found = re.search(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s*(\d{4})?", date_part)
        if not found or found.group(1).title() not in MONTHS:
            return None
        month = MONTHS.index(found.group(1).title()) + 1
        year = int(found.group(3)) if found.group(3) else now.year
        try:
            day = datetime.date(year, month, int(found.group(2)))
        except ValueError:
            return None
    result = now.replace(
        year=day.year,
        month=day.month,
        day=day.day,
        hour=hour,
        minute=minute,
        second=0,
        microsecond=0,
    )
    if not date_part and result < now - datetime.timedelta(minutes=5):
        result += datetime.timedelta(days=1)
    return result
