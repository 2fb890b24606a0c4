"""The one exception base of memory_schema."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import pathlib


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
