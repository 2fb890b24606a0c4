"""The one exception base of heartbeat, and the exit codes errors become."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit statuses of every command (DESIGN §5)."""

    OK = 0
    ATTENTION = 1
    USAGE = 2
    LOCKED = 3


class HeartbeatError(Exception):
    """Base of heartbeat's errors; the message says how to fix it."""

    exit_code: ExitCode = ExitCode.ATTENTION


class ConfigError(HeartbeatError):
    """A setting that cannot be used: bad config file, key, value or folder."""

    exit_code = ExitCode.USAGE


class UsageError(HeartbeatError):
    """A command asked for something it cannot do as asked."""

    exit_code = ExitCode.USAGE


class LockHeld(HeartbeatError):
    """Another check holds the lock."""

    exit_code = ExitCode.LOCKED

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(
            f"another heartbeat check is running (pid {holder or 'unknown'}, lock {path}); "
            "this one exits. Nothing to fix unless that process is stuck"
        )


class TmuxError(HeartbeatError):
    """tmux could not be asked (not installed, or it failed in an unexpected way)."""
