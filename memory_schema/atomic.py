"""Safe writes in the notes folder: a folder lock, atomic replace, exclusive create.

Nothing here knows what a note says; :func:`memory_schema.edit_note` builds on it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pathlib
import stat
import time
import typing as t

from memory_schema.errors import NoteError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

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
