"""What a note is, as values: its text, sections, entries, problems, and the errors.

Light to import, and all a cached read needs: the parse cache builds a
``ParsedNote`` from what it kept without importing the parser.

- errors: ``NoteError``, the one exception base, and its subclasses;
- entries, problems and sections, and the names tmux keeps (``Entry``, ``Problem``,
  ``Section``, ``is_valid_name``);
- a note as read (``ParsedNote``);
- a note as text (``NoteText``): decoding, line splitting that keeps every byte,
  newline style.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import pathlib
import re

# ------------------------------------------------------------------- errors


class NoteError(Exception):
    """Base of every error this library raises; the message says how to fix it."""


class NoteReadError(NoteError):
    """A note that cannot be read as text (not UTF-8, binary, not a regular file)."""

    def __init__(self, path: pathlib.Path, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")


class EntryNotFound(NoteError):
    def __init__(self, name: str, where: str) -> None:
        self.name = name
        super().__init__(
            f"no entry named {name!r} in {where}; check the name against the entries "
            "under Active Long-Running Processes"
        )


class ConcurrentEditError(NoteError):
    def __init__(self, path: pathlib.Path, tries: int) -> None:
        super().__init__(
            f"{path} kept changing while it was being edited ({tries} tries); "
            "nothing was written: try again when the other writer is done"
        )


# ---------------------------------------------- entries, problems, sections

#: The section heading that lists the sessions (any level, any case).
SECTION_TITLE = "Active Long-Running Processes"
DASH = r"[\s_\-‐‑‒–—]*"
#: A heading that names that section, in any case and with any dashes or spaces.
SECTION_RE = re.compile(rf"active{DASH}long{DASH}running{DASH}processes", re.IGNORECASE)
#: The section the heartbeat appends its log lines to (created at level 2).
LOG_TITLE = "Heartbeat"

#: Status words of the canonical form, in the order DESIGN §3 lists them.
STATUS_WORDS = (
    "running",
    "done",
    "failed",
    "died",
    "restarted",
    "blocked",
    "stalled",
    "paused",
)
#: Status words that make an entry inactive.
INACTIVE_STATUSES = frozenset({"done"})

#: Session names tmux keeps as written: no `.`/`:` (rewritten), no `#{` (expanded).
NAME_RE = re.compile(r"[A-Za-z0-9_-]+")


def is_valid_name(name: str) -> bool:
    """Return True when tmux would keep *name* as written and it is safe in a target."""
    return bool(NAME_RE.fullmatch(name)) and len(name) <= 200


def name_problem(name: str) -> str | None:
    """Why *name* cannot be a session's name, and how to fix it; None when it can."""
    if is_valid_name(name):
        return None
    return (
        f"session name {name!r} cannot be used: use only ASCII letters, digits, '_' and '-', "
        "at most 200 (tmux rewrites '.' and ':' and expands '#{' in names)"
    )


@dataclasses.dataclass(frozen=True)
class Problem:
    """Something in a note that looks like an entry (or a note) but cannot be read."""

    file: pathlib.Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"file": str(self.file), "line": self.line, "message": self.message}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One session listed under an Active Long-Running Processes heading.

    ``line`` and ``end_line`` are 1-based and inclusive: the lines the entry
    occupies in ``file``. ``canonical`` is True when the entry is in the form
    this library writes, whose status word may be updated in place.
    ``tmux_command`` is True when ``command`` is a full ``tmux ... new ...``
    command line, to be re-run as it was logged.
    """

    name: str
    command: str
    file: pathlib.Path
    line: int
    end_line: int
    dir: str | None = None
    started: str | None = None
    status: str = "running"
    active: bool = True
    canonical: bool = False
    until: str | None = None
    tmux_command: bool = False

    @property
    def status_only(self) -> bool:
        """A mention such as ``- api — done`` that updates an earlier entry."""
        return not self.command

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "command": self.command,
            "dir": self.dir,
            "status": self.status,
            "started": self.started,
            "active": self.active,
            "until": self.until,
            "canonical": self.canonical,
            "tmux_command": self.tmux_command,
            "source": self.source,
        }


@dataclasses.dataclass(frozen=True)
class Section:
    """A heading and the 0-based line range [start, end) it governs."""

    title: str
    level: int
    start: int
    end: int


# ----------------------------------------------------------- a note as read


@dataclasses.dataclass
class ParsedNote:
    """A note read into lines, sections, entries and problems."""

    path: pathlib.Path
    text: NoteText
    sections: list[Section]
    entries: list[Entry]
    problems: list[Problem]
    #: The 0-based index of the first line after the frontmatter.
    body_start: int
    #: 0-based lines of the top-level ATX headings: where a parse may resume
    #: (memory_schema.parse.reparse).
    anchors: list[int] = dataclasses.field(default_factory=list)
    _metadata: dict[str, object] | None = dataclasses.field(default=None, repr=False)

    @property
    def metadata(self) -> dict[str, object]:
        """The frontmatter's mapping ({} when there is none); read on first use."""
        if self._metadata is None:
            from memory_schema.markdown import frontmatter

            self._metadata = frontmatter(self.text, self.path, [])[1]
        return self._metadata

    @property
    def active_sections(self) -> list[Section]:
        return [s for s in self.sections if SECTION_RE.search(s.title)]

    @property
    def log_sections(self) -> list[Section]:
        return [s for s in self.sections if s.level == 2 and s.title.strip() == LOG_TITLE]

    def entries_named(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.name == name]


# ----------------------------------------------------------- a note as text

BOM = codecs.BOM_UTF8.decode("utf-8")
#: Notes longer than this are refused rather than parsed (bounded time per check).
MAX_NOTE_LINES = 20_000


@dataclasses.dataclass
class NoteText:
    """A note's text split into lines that keep their own endings.

    ``"".join(lines)`` with the BOM in front is the original text, byte for
    byte once encoded; only ``\\n`` ends a line (a lone ``\\r`` stays inside it).
    """

    lines: list[str]
    bom: bool = False

    @classmethod
    def from_text(cls, text: str) -> NoteText:
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        return cls(lines=split_lines(text), bom=bom)

    @property
    def text(self) -> str:
        return (BOM if self.bom else "") + "".join(self.lines)

    @functools.cached_property
    def newline(self) -> str:
        """The note's line ending: CRLF when most lines end so, else LF (lines are not changed
        in place, so it is counted once)."""
        crlf = sum(1 for line in self.lines if line.endswith("\r\n"))
        lf = sum(1 for line in self.lines if line.endswith("\n")) - crlf
        return "\r\n" if crlf > lf else "\n"

    @property
    def ends_with_newline(self) -> bool:
        return not self.lines or self.lines[-1].endswith("\n")

    def bare(self, index: int) -> str:
        """Line *index* (0-based) without its ending."""
        return strip_ending(self.lines[index])


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only, keeping the endings (unlike ``str.splitlines``)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def strip_ending(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def decode_note(data: bytes, path: pathlib.Path) -> str:
    """Decode a note, raising NoteReadError for what is not Markdown text.

    Refuses invalid UTF-8 (naming the line of the first bad byte), NUL bytes
    (binary files), notes written on one line with literal ``\\n``
    sequences, which an assistant sometimes produces by double-escaping, notes
    whose lines end with a lone CR (read as one line, they would hide every
    entry), and notes of more than MAX_NOTE_LINES lines (bounded time).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise NoteReadError(
            path,
            line,
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save the note as UTF-8 text",
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise NoteReadError(
            path, line, "contains NUL bytes: this is not a text note; move it out of the folder"
        )
    body = text.rstrip("\r\n")
    if "\n" not in body and body.count("\\n") >= 2:
        raise NoteReadError(
            path,
            1,
            "the note is one line with literal \\n sequences instead of line breaks; "
            "rewrite it with real line breaks",
        )
    lone_cr = body.count("\r") - body.count("\r\n")
    if lone_cr and lone_cr >= body.count("\n"):
        first = re.search(r"\r(?!\n)", body)
        assert first is not None
        raise NoteReadError(
            path,
            body.count("\n", 0, first.start()) + 1,
            "the note's lines end with CR alone (old Mac style), so it reads as one line; "
            "convert it to LF line endings (e.g. `tr '\\r' '\\n'`)",
        )
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > MAX_NOTE_LINES:
        raise NoteReadError(
            path,
            MAX_NOTE_LINES + 1,
            f"the note has {lines} lines, over the {MAX_NOTE_LINES} lines a note may have; "
            "move old content to another file",
        )
    return text
