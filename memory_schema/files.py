"""Daily notes on disk: finding them, reading them safely, and writing them atomically.

The writes (a folder lock, atomic replace, exclusive create) know nothing of
what a note says; :func:`memory_schema.edit_note` builds on them.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import os
import pathlib
import re
import stat
import time
import typing as t

from memory_schema.model import NoteError, NoteReadError, decode_note

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from memory_schema.model import ParsedNote


# -------------------------------------------------------------- safe writes

LOCK_TIMEOUT = 10.0


@contextlib.contextmanager
def folder_lock(folder: pathlib.Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive flock on *folder* itself: no lock file left in the user's folder.

    Serialises this library's writers (the assistant does not take it); raises
    NoteError after *timeout*.
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
                        f"{folder}: another writer kept the notes folder locked for "
                        f"{timeout:.0f} s; try again when it is done"
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
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644 & ~umask()
    tmp = write_temp(path, data, mode)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_temp(path: pathlib.Path, data: bytes, mode: int) -> pathlib.Path:
    """A fsynced temporary file holding *data*, beside *path*, with *mode*."""
    fd, tmp = _mkstemp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


#: How ``tempfile.mkstemp`` opens its file: new, private, not through a symlink.
_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


def _mkstemp(path: pathlib.Path) -> tuple[int, pathlib.Path]:
    """``tempfile.mkstemp`` for ``.NAME.XXXXXXXX.tmp`` beside *path*, without importing tempfile.

    (tempfile and the random module it loads cost a check several milliseconds.)
    """
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def fsync_folder(folder: pathlib.Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    except OSError as error:  # pragma: no cover - some filesystems refuse directory fsync
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(dir_fd)


def create_exclusive(path: pathlib.Path, data: bytes) -> bool:
    """Create *path* holding *data* only if it does not exist yet (link, not rename).

    Returns False, writing nothing, when another writer created it first.
    """
    tmp = write_temp(path, data, 0o644 & ~umask())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    fsync_folder(path.parent)
    return True


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale_temps(target: pathlib.Path) -> None:
    """Remove temporary copies of *target* left by a writer that was killed mid-write.

    Only this library's own names (``.NAME.XXXXXXXX.tmp``, see write_temp),
    and only under the folder lock, when no other writer of this library can
    be writing one.
    """
    prefix = f".{target.name}."
    try:
        found = list(target.parent.iterdir())
    except OSError:
        return
    for path in found:
        name = path.name
        if name.startswith(prefix) and name.endswith(".tmp") and len(name) == len(prefix) + 12:
            with contextlib.suppress(OSError):
                path.unlink()


# -------------------------------------------------------------- daily notes

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
