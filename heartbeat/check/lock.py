"""One check at a time: an flock on a file in the state folder."""

from __future__ import annotations

import contextlib
import fcntl
import os
import typing as t

from heartbeat.errors import ConfigError, LockHeld

if t.TYPE_CHECKING:
    from collections.abc import Iterator

LOCK_FILE = "check.lock"


@contextlib.contextmanager
def check_lock(state_dir: os.PathLike[str] | str) -> Iterator[None]:
    """Hold the check lock; raises LockHeld (exit 3) at once, naming the holder's pid.

    Raises ConfigError (exit 2) when the state folder cannot hold the lock.
    """
    folder = os.fspath(state_dir)
    path = os.path.join(folder, LOCK_FILE)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise ConfigError(
            f"{error.filename or path}: the state folder cannot be used ({error.strerror}); "
            "fix it, or point HEARTBEAT_STATE_DIR (or --state-dir) at a folder you can write"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise LockHeld(path, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
