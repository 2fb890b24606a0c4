"""Daily notes on disk: finding them and reading them safely."""

from __future__ import annotations

import datetime
import os
import pathlib
import re
import stat
import typing as t

from memory_schema.atomic import atomic_write, folder_lock
from memory_schema.errors import NoteReadError
from memory_schema.text import decode_note

if t.TYPE_CHECKING:
    from memory_schema.note import ParsedNote

__all__ = [
    "MAX_NOTE_BYTES",
    "atomic_write",
    "daily_notes",
    "folder_lock",
    "loose_permissions",
    "note_date",
    "note_path",
    "read_bytes",
    "read_note",
    "today",
]

DAILY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.md$")
#: Notes larger than this are refused rather than parsed (bounded time per read).
MAX_NOTE_BYTES = 8 * 1024 * 1024


def note_date(path: pathlib.Path) -> datetime.date | None:
    """The date of a daily note named exactly ``YYYY-MM-DD.md``, else None."""
    match = DAILY_RE.match(path.name)
    if not match:
        return None
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def note_path(notes_dir: pathlib.Path, date: datetime.date) -> pathlib.Path:
    """The path of the daily note for *date* (it may not exist)."""
    return notes_dir / f"{date.isoformat()}.md"


def today(tz: str | None = None) -> datetime.date:
    """Today's date in timezone *tz* (an IANA name; None for the local zone)."""
    import pendulum

    now = pendulum.now(tz) if tz else pendulum.now()
    return datetime.date(now.year, now.month, now.day)


def daily_notes(notes_dir: pathlib.Path) -> list[pathlib.Path]:
    """Every daily note in *notes_dir*, oldest first; other files are left be."""
    found = [p for p in notes_dir.iterdir() if note_date(p) is not None]
    return sorted(found, key=lambda p: p.name)


def loose_permissions(path: pathlib.Path) -> str | None:
    """Say why *path* is unsafe to run commands from (writable by others), or None.

    As sshd judges key files: writable by the group or others, or owned by
    another user (who can write it) than the one running or root.
    """
    try:
        info = path.stat()
    except OSError:
        return None
    kind = "folder" if stat.S_ISDIR(info.st_mode) else "note"
    if info.st_uid not in (os.geteuid(), 0):
        return (
            f"the {kind} is owned by another user (uid {info.st_uid}), who could put commands "
            f"in it that get run; fix it with `chown {os.geteuid()} {path}`"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "others" if info.st_mode & stat.S_IWOTH else "its group"
        return (
            f"the {kind} is writable by {who} (mode {stat.S_IMODE(info.st_mode):o}), "
            f"so anyone could put commands in it that get run; fix it with `chmod go-w {path}`"
        )
    return None


def read_bytes(path: pathlib.Path) -> bytes:
    """Read a note's bytes, refusing what is not a regular file within bounds.

    A symlink is followed only when it stays inside the note's folder. FIFOs,
    folders and devices raise NoteReadError without being opened.
    """
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            target = path.resolve()
            if target.parent != path.parent.resolve():
                raise NoteReadError(
                    path,
                    1,
                    f"is a symlink out of the notes folder (to {target}); "
                    "copy the note into the folder instead",
                )
            info = target.stat()
    except FileNotFoundError:
        if os.path.lexists(path):
            raise NoteReadError(
                path, 1, "is a symlink to a file that does not exist; remove or fix the link"
            ) from None
        raise
    except (OSError, RuntimeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise NoteReadError(path, 1, f"cannot be read ({reason}); check the file") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise NoteReadError(path, 1, f"is {kind}; a daily note must be a Markdown file")
    if info.st_size > MAX_NOTE_BYTES:
        raise NoteReadError(
            path,
            1,
            f"is {info.st_size} bytes, over the {MAX_NOTE_BYTES} bytes a note may have; "
            "move old content to another file",
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise NoteReadError(
            path, 1, f"cannot be read ({error.strerror}); check its permissions"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NoteReadError(path, 1, "is not a regular file")
        chunks = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_NOTE_BYTES:
                raise NoteReadError(
                    path, 1, "grew past the size a note may have while it was read; try again"
                )
        return b"".join(chunks)
    except OSError as error:
        raise NoteReadError(path, 1, f"cannot be read ({error.strerror})") from None
    finally:
        os.close(fd)


def read_note(path: pathlib.Path) -> ParsedNote:
    """Read and parse one note. Raises NoteReadError, FileNotFoundError."""
    from memory_schema.parse import parse_note

    return parse_note(decode_note(read_bytes(path), path), path)
