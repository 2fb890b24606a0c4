"""Daily notes on disk: finding them, reading them safely, editing them atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import fcntl
import os
import pathlib
import re
import stat
import tempfile
import time
import typing as t

from memory_schema.errors import ConcurrentEditError, NoteError, NoteReadError
from memory_schema.model import Entry, Problem
from memory_schema.parse import ParsedNote, parse_note
from memory_schema.text import decode_note

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DAILY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.md$")
#: Notes larger than this are refused rather than parsed (bounded time per check).
MAX_NOTE_BYTES = 8 * 1024 * 1024
LOCK_TIMEOUT = 10.0


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
    """Say why *path* is unsafe to run commands from (writable by others), or None."""
    try:
        info = path.stat()
    except OSError:
        return None
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        kind = "folder" if stat.S_ISDIR(info.st_mode) else "note"
        who = "others" if info.st_mode & stat.S_IWOTH else "its group"
        return (
            f"the {kind} is writable by {who} (mode {stat.S_IMODE(info.st_mode):o}), "
            f"so anyone could make the heartbeat run commands; fix it with `chmod go-w {path}`"
        )
    return None


def read_bytes(path: pathlib.Path) -> bytes:
    """Read a note's bytes, refusing what is not a regular file within bounds.

    A symlink is followed only when it stays inside the note's folder. FIFOs,
    folders and devices raise NoteReadError without being opened.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise NoteReadError(path, 1, f"cannot be read: {error.strerror}") from None
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
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise NoteReadError(path, 1, f"is {kind}; a daily note must be a Markdown file")
    if info.st_size > MAX_NOTE_BYTES:
        raise NoteReadError(
            path,
            1,
            f"is {info.st_size} bytes, over the {MAX_NOTE_BYTES} the heartbeat reads; "
            "move old content to another file",
        )
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) * 0
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NoteReadError(path, 1, "is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_NOTE_BYTES:
                raise NoteReadError(path, 1, "grew past the size the heartbeat reads")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_note(path: pathlib.Path) -> ParsedNote:
    """Read and parse one note. Raises NoteReadError, FileNotFoundError."""
    return parse_note(decode_note(read_bytes(path), path), path)


@dataclasses.dataclass
class Collection:
    """The entries of several notes merged: a later mention overrides an earlier one."""

    notes: list[pathlib.Path]
    parsed: list[ParsedNote]
    entries: list[Entry]
    all_entries: list[Entry]
    problems: list[Problem]

    def get(self, name: str) -> Entry | None:
        return next((e for e in self.entries if e.name == name), None)


def collect(
    notes_dir: pathlib.Path, date: datetime.date, days: int = 2
) -> Collection:
    """Read the notes of *date* and the *days* before it, oldest first.

    Unreadable notes become problems (file:line); missing notes are skipped.
    Raises NoteError when *notes_dir* itself is missing or not a folder.
    """
    if not notes_dir.is_dir():
        raise NoteError(
            f"{notes_dir}: the notes folder does not exist; create it or point "
            "HEARTBEAT_NOTES_DIR (or --notes-dir) at the folder of your daily notes"
        )
    notes: list[pathlib.Path] = []
    parsed: list[ParsedNote] = []
    problems: list[Problem] = []
    merged: dict[str, Entry] = {}
    all_entries: list[Entry] = []
    for back in range(days, -1, -1):
        path = note_path(notes_dir, date - datetime.timedelta(days=back))
        if not os.path.lexists(path):
            continue
        notes.append(path)
        try:
            note = read_note(path)
        except NoteReadError as error:
            problems.append(Problem(error.path, error.line, error.reason))
            continue
        except FileNotFoundError:
            continue
        parsed.append(note)
        problems.extend(note.problems)
        for entry in note.entries:
            all_entries.append(entry)
            previous = merged.pop(entry.name, None)
            if entry.status_only:
                if previous is None:
                    if entry.active:
                        problems.append(
                            Problem(
                                entry.file,
                                entry.line,
                                f"{entry.name!r} has a status but no command, and no earlier "
                                "entry gives one; add the command it runs",
                            )
                        )
                    continue
                entry = dataclasses.replace(
                    previous,
                    status=entry.status,
                    active=entry.active,
                    file=entry.file,
                    line=entry.line,
                    end_line=entry.end_line,
                    canonical=False,
                )
            merged[entry.name] = entry
    return Collection(notes, parsed, list(merged.values()), all_entries, problems)


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def folder_lock(folder: pathlib.Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive flock on *folder* itself: no lock file left in the user's folder.

    Serialises the heartbeat's own writers; raises NoteError after *timeout*.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise NoteError(
                        f"{folder}: another heartbeat process kept the notes locked for "
                        f"{timeout:.0f} s; try again"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)


def atomic_write(path: pathlib.Path, data: bytes, mode: int | None = None) -> None:
    """Write *data* to *path* atomically: temp file in the same folder, fsync, rename.

    Keeps *mode* (the old file's mode by default). On any failure the old file
    is intact and the temporary file removed.
    """
    folder = path.parent
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    except OSError as error:  # pragma: no cover - some filesystems refuse directory fsync
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def edit_note(
    path: pathlib.Path,
    transform: Callable[[ParsedNote], str],
    *,
    create: str | None = None,
    tries: int = 8,
) -> bool:
    """Apply *transform* to the note at *path* and write the result atomically.

    *transform* gets the parsed note and returns the new full text. When the
    file is missing it starts from *create* (or raises FileNotFoundError).
    Holds the folder lock; if the file changed on disk between read and write
    (the assistant appending), re-reads and re-applies instead of overwriting.
    After the rename it checks that nothing was appended to the old file in the
    meantime, and carries such late appends over. Returns True when the file
    was written, False when the transform changed nothing (the file is then
    not touched at all: same bytes, same mtime).
    """
    if path.is_symlink() and path.resolve().parent != path.parent.resolve():
        raise NoteReadError(path, 1, "is a symlink out of the notes folder; it is not edited")
    target = path.resolve() if path.is_symlink() else path
    with folder_lock(target.parent):
        for _ in range(tries):
            try:
                fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
            except FileNotFoundError:
                if create is None:
                    raise
                new_text = transform(parse_note(create, path))
                if os.path.lexists(target):
                    continue
                atomic_write(target, new_text.encode("utf-8"))
                return True
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise NoteReadError(path, 1, "is not a regular file; it is not edited")
                data = _read_fd(fd)
                inode = os.fstat(fd).st_ino
                text = decode_note(data, path)
                new_text = transform(parse_note(text, path))
                if new_text == text:
                    return False
                if _changed(target, inode, len(data)):
                    continue
                atomic_write(target, new_text.encode("utf-8"))
                late = os.pread(fd, MAX_NOTE_BYTES, len(data))
            finally:
                os.close(fd)
            if late:
                _carry_late_append(target, late)
            return True
    raise ConcurrentEditError(path, tries)


def _carry_late_append(target: pathlib.Path, late: bytes) -> None:
    """Append bytes that another writer appended to the file we just replaced."""
    current = target.read_bytes()
    atomic_write(target, current + late)


def _read_fd(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _changed(path: pathlib.Path, inode: int, size: int) -> bool:
    try:
        info = path.stat()
    except FileNotFoundError:
        return True
    return (info.st_ino, info.st_size) != (inode, size)
