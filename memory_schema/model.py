"""Typed values of the daily-notes library: entries, problems and sections."""

from __future__ import annotations

import dataclasses
import pathlib
import re

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
