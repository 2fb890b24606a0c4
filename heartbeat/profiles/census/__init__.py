"""The census of what each pinned agent can print about failure (DESIGN §4, its whole voice).

``extract(agent, root)`` reads the installed release under *root* (the ``node_modules`` of the
test bed's cache, see ``tests/realagents/install.py``) and returns every message it can print
about failure: the texts of its error, limit, auth and configuration families, normalised
(whitespace collapsed, placeholders as ``{}``), sorted and without duplicates.

- codex ships a native Rust binary: its printable UTF-8 runs, with rustc's format templates
  (``<length>piece``, ``\\xc0`` for each placeholder) decoded and packed literals cut at
  sentence ends.
- Claude Code and ralphy ship Bun executables whose JavaScript is in the binary; gemini-cli
  ships ``bundle/*.js``: their string and template literals.

The classification is data, one file per agent beside this module (``codex.toml`` …): the
release it was made from and each message with its class (``auth``, ``rate_limit`` with the
``reset`` shape it states, ``config``, ``transient``) or ``ignored`` with ``why``.
``tests/fast/test_census.py`` checks each classified message against its profile's
signatures; ``tests/realagents/test_census.py`` extracts again from the pinned release and
fails on every message the file does not classify. This is a development tool: it is not
part of the installed package.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import tomllib
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

HERE = pathlib.Path(__file__).parent
AGENTS = ("codex", "claude", "gemini", "ralphy")
CLASSES = ("auth", "rate_limit", "config", "transient", "ignored")
RESETS = ("clock", "date_time", "relative", "epoch", "none")

#: The keyword families (lower case): a message is in the census when it holds one.
FAMILIES: dict[str, str] = {
    "limit": (
        r"usage limit|rate limit|rate-limit|rate limited|\bquota\b|out of (?:usage )?credits|"
        r"credit (?:balance|limit)|spend (?:cap|limit)|too many requests|\b429\b|"
        r"limit reached|hit your|exhausted your|resource has been exhausted"
    ),
    "auth": (
        r"not logged in|please (?:run /login|log in|sign in|log out)|log in again|sign in again|"
        r"failed to authenticate|authentication (?:failed|error|required)|unauthori[sz]ed|"
        r"invalid api key|api key not valid|oauth token|refresh token|access token|"
        r"token (?:has )?expired|\b401\b|\b403\b|no longer supported"
    ),
    "config": (
        r"unexpected argument|unknown (?:option|argument)|cannot be used with|"
        r"trusted (?:directory|folder)|not running in a trusted|invalid auth method|"
        r"--dangerously-skip-permissions|--full-auto|permission denied|"
        r"not supported (?:when|with|for)"
    ),
    "plan": (
        r"upgrade to|chatgpt plan|your (?:plan|subscription)\b|"
        r"not (?:included|enabled) (?:in|for) your"
    ),
    "error": (
        r"^(?:error|fatal error|api error|an unexpected critical error)\b|"
        r"exceeded retry limit|unexpected status|high demand|at capacity|overloaded|"
        r"temporary failure|stopping early"
    ),
}
KEYWORDS = re.compile("|".join(f"(?:{p})" for p in FAMILIES.values()), re.I)
#: Literal needles: a text holds a family keyword only if it holds one of these (lower case).
NEEDLES = (
    b"usage limit",
    b"rate limit",
    b"rate-limit",
    b"quota",
    b"out of credits",
    b"out of usage credits",
    b"credit balance",
    b"credit limit",
    b"spend cap",
    b"spend limit",
    b"too many requests",
    b"429",
    b"limit reached",
    b"hit your",
    b"exhausted",
    b"not logged in",
    b"please run /login",
    b"please log",
    b"please sign in",
    b"log in again",
    b"sign in again",
    b"authenticat",
    b"unauthori",
    b"invalid api key",
    b"api key not valid",
    b"oauth token",
    b"refresh token",
    b"access token",
    b"token expired",
    b"token has expired",
    b"401",
    b"403",
    b"no longer supported",
    b"unexpected argument",
    b"unknown option",
    b"unknown argument",
    b"cannot be used with",
    b"trusted",
    b"invalid auth method",
    b"--dangerously-skip-permissions",
    b"--full-auto",
    b"permission denied",
    b"not supported",
    b"error",
    b"exceeded retry limit",
    b"unexpected status",
    b"high demand",
    b"at capacity",
    b"overloaded",
    b"temporary failure",
    b"stopping early",
    b"upgrade to",
    b"chatgpt plan",
    b"your plan",
    b"your subscription",
    b"not included in your",
    b"not enabled for your",
)
#: What a message must look like: words, not an identifier, a URL, a regex or code.
_CODE = re.compile(
    r"[{};]\s*$|^\s*[{(\[]|=>|===|!==|&&|\|\||\bfunction\b|\breturn\b|\\[bdswBDSW]|"
    r"\(\?[:!=<]|\$\{|^[\w.:/-]+$|^[a-z_]+(?:\.[a-z_]+)+|\w+\(\)|\b(?:const|let|var) \w"
)
MIN, MAX = 12, 400
_BINARY = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffd]|[^\x00-\u024f\u2010-\u2bff]")


class Entry(t.NamedTuple):
    """One message and its class (``reset`` for a rate limit, ``why`` for an ignored one)."""

    text: str
    kind: str
    reset: str = ""
    why: str = ""
    #: The line the agent prints, when the census shape with the message is not it
    #: (a placeholder filled in: ``Fatal error: 401 Unauthorized``).
    example: str = ""


class Census(t.NamedTuple):
    agent: str
    version: str
    entries: tuple[Entry, ...]
    #: The agent's usual shape for a printed message (``{}`` is the message).
    shape: str = "{}"

    def by_text(self) -> dict[str, Entry]:
        return {e.text: e for e in self.entries}


def normalise(text: str) -> str:
    """One message as the census keeps it: placeholders ``{}``, whitespace collapsed."""
    text = re.sub(r"\$\{(?:[^{}]|\{[^{}]*\})*\}", "{}", text)
    text = re.sub(r"\{[A-Za-z_][\w.]*(?::[^{}]*)?\}|\{:[^{}]*\}", "{}", text)
    text = re.sub(r"\\[nrt]", " ", text)
    text = text.replace("\\'", "'").replace('\\"', '"').replace("\\`", "`")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)
    return re.sub(r"\s+", " ", text).strip()


def wanted(text: str) -> bool:
    """Whether *text* is a message of one of the families (and looks like a message)."""
    if not MIN <= len(text) <= MAX or " " not in text.strip():
        return False
    if _BINARY.search(text):  # a quote in a binary's data, not a literal
        return False
    if _CODE.search(text.replace("{}", "")) or sum(c.isalpha() for c in text) < len(text) / 2:
        return False
    return KEYWORDS.search(text) is not None


# ---------------------------------------------------------------- where each release keeps its text


def sources(agent: str, root: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    """The files of *agent*'s release under *root* (``node_modules``) and how to read each.

    Raises FileNotFoundError naming what is missing.
    """
    found: list[tuple[pathlib.Path, str]]
    if agent == "codex":
        found = [(p, "native") for p in sorted(root.glob("@openai/codex-*/vendor/*/bin/codex"))]
        found = found[:1]
    elif agent == "claude":
        found = [(p, "js") for p in sorted(root.glob("@anthropic-ai/claude-code-*/claude"))][:1]
        if not found:
            found = [(p, "js") for p in sorted(root.glob("@anthropic-ai/claude-code/cli.js"))]
    elif agent == "gemini":
        found = [(p, "js") for p in sorted(root.glob("@google/gemini-cli/bundle/**/*.js"))]
    elif agent == "ralphy":
        found = [(p, "js") for p in sorted(root.glob("ralphy-cli/dist/ralphy-linux-x64"))]
        found += [(p, "js") for p in sorted(root.glob("ralphy-cli/dist/*.js"))]
    else:
        raise ValueError(f"no census for agent {agent!r}; use one of {', '.join(AGENTS)}")
    if not found:
        raise FileNotFoundError(f"{agent}'s release is not installed under {root}")
    return found


def version(agent: str, root: pathlib.Path) -> str:
    """The installed release's version, from its package.json."""
    package = {
        "codex": "@openai/codex",
        "claude": "@anthropic-ai/claude-code",
        "gemini": "@google/gemini-cli",
        "ralphy": "ralphy-cli",
    }[agent]
    data = json.loads((root / package / "package.json").read_text("utf-8"))
    return str(data["version"])


def extract(agent: str, root: pathlib.Path) -> list[str]:
    """Every failure message *agent*'s release under *root* can print: sorted, unique."""
    found: set[str] = set()
    seen: set[bytes] = set()
    for path, how in sources(agent, root):
        data = path.read_bytes()
        digest = _digest(data)
        if digest in seen:  # gemini's bundle holds copies of the same chunk
            continue
        seen.add(digest)
        texts = _native(data) if how == "native" else _javascript(data)
        found.update(t for t in (normalise(x) for x in texts) if wanted(t))
    return sorted(found)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _hits(data: bytes, *, quoted: bool = False) -> Iterator[int]:
    """The offsets where a needle starts in *data* (ASCII lower case compared), sorted.

    With *quoted* (JavaScript) ``error`` counts only at a literal's start: the error family
    is messages that begin with it, and the word is everywhere in code.
    """
    low = data.lower()
    offsets: set[int] = set()
    for needle in NEEDLES:
        at = low.find(needle)
        while at >= 0:
            if not quoted or needle != b"error" or low[at - 1 : at] in (b'"', b"'", b"`"):
                offsets.add(at)
            at = low.find(needle, at + 1)
    for needle in (b"fatal error", b"api error", b"critical error") if quoted else ():
        at = low.find(needle)
        while at >= 0:
            offsets.add(at)
            at = low.find(needle, at + 1)
    yield from sorted(offsets)


# ---------------------------------------------------------------- native binaries (codex)

_RUN = re.compile(rb"(?:[\x20-\x7e\t]|[\xc2-\xf4][\x80-\xbf]{1,3}|\xc0[\x00-\xff])+")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9.!?)>\]`])(?=[A-Z][a-z]*[ ’'])|(?<=[.!?])(?=[A-Z])")


def _native(data: bytes) -> Iterator[str]:
    """The messages of a native binary around each needle: decoded templates, split literals."""
    done_until = -1
    for hit in _hits(data):
        if hit < done_until:
            continue
        for run in _RUN.finditer(data, max(0, hit - 4096), min(len(data), hit + 4096)):
            if run.start() <= hit < run.end():
                done_until = run.end()
                yield from _pieces(run.group())
                break
            if run.start() > hit:
                break


def _pieces(run: bytes) -> Iterator[str]:
    """A printable run as messages: rustc templates decoded, packed literals cut apart."""
    for template in run.split(b"\xc0\x00"):
        parts = template.split(b"\xc0")
        texts = []
        for index, part in enumerate(parts):
            # each piece of a template starts with its length in bytes
            if part and (index or part[0] == len(part) - 1):
                part = part[1:]
            texts.append(part.decode("utf-8", "replace"))
        joined = "{}".join(texts)
        yield from _SENTENCE_END.split(joined)


# ------------------------------------------------------------ JavaScript (bundles, Bun binaries)

_LITERAL = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|' + r"'(?:[^'\\\n]|\\.)*'|" + r"`(?:[^`\\$]|\\.|\$(?!\{)|\$\{[^{}]*\})*`",
    re.S,
)


def _javascript(data: bytes) -> Iterator[str]:
    """The string and template literals of the JavaScript in *data* that hold a needle.

    Minified code has no line to start from, so each needle's literal is found from the
    quotes before it, nearest first: the first that opens a literal reaching past the needle
    and holding no seam between two literals (``",``, ``"),``) is the one.
    """
    done_until = -1
    for hit in _hits(data, quoted=True):
        if hit < done_until:
            continue
        begin = max(0, hit - 1500)
        chunk = data[begin : min(len(data), hit + 1500)].decode("latin-1")
        offset = hit - begin
        quotes = [i for i in range(offset - 1, -1, -1) if chunk[i] in "\"'`"][:40]
        for quote in quotes:
            if quote and chunk[quote - 1] == "\\":
                continue
            literal = _LITERAL.match(chunk, quote)
            if literal is None or literal.end() <= offset:
                continue
            body = re.sub(r"\$\{[^{}]*\}", "", literal.group()[1:-1])
            if _SEAM.search(body):
                continue
            done_until = begin + literal.end()
            raw = literal.group()[1:-1].encode("latin-1")
            yield raw.decode("utf-8", "replace")
            break


_SEAM = re.compile(r"[\"'`]\s*[,;)(:+?\]}]|[,;(:+=?\[{]\s*[\"'`]")


# ---------------------------------------------------------------- the census files


def path(agent: str) -> pathlib.Path:
    return HERE / f"{agent}.toml"


def load(agent: str) -> Census:
    """The census file of *agent*: its release and classified messages.

    Raises ValueError naming the entry for a class or reset shape that is not one.
    """
    raw = tomllib.loads(path(agent).read_text("utf-8"))
    entries = []
    for row in raw.get("message", []):
        entry = Entry(
            text=row["text"],
            kind=row["class"],
            reset=row.get("reset", ""),
            why=row.get("why", ""),
            example=row.get("example", ""),
        )
        if entry.kind not in CLASSES:
            raise ValueError(
                f"{agent}: {entry.text!r}: class {entry.kind!r} is not one of {CLASSES}"
            )
        if entry.reset and entry.reset not in RESETS:
            raise ValueError(f"{agent}: {entry.text!r}: reset {entry.reset!r} not in {RESETS}")
        if entry.kind == "ignored" and not entry.why:
            raise ValueError(f"{agent}: {entry.text!r} is ignored: say why")
        entries.append(entry)
    return Census(agent, str(raw["version"]), tuple(entries), str(raw.get("shape", "{}")))


def unclassified(census: Census, messages: Iterable[str]) -> list[str]:
    """The *messages* the census does not classify."""
    known = census.by_text()
    return [m for m in messages if m not in known]


def printed(census: Census, entry: Entry) -> str:
    """*entry*'s message as the agent prints it: its example, else in the census's shape."""
    return entry.example or census.shape.replace("{}", entry.text, 1)
