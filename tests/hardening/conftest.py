"""Fixtures of the hardening suite: stand-in agents on a private server, a notifier, mounts.

Faults are made real wherever the machine allows it: a real tmux server killed
or frozen, real files where folders are expected, a real tmpfs that fills up,
a real RLIMIT_FSIZE, a real SIGKILL. Where the machine does not allow one (no
mount permission, no chattr), the test says so in its skip reason.
"""

from __future__ import annotations

import contextlib
import pathlib
import subprocess
import typing as t

import pytest

if t.TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def mounted(args: list[str], target: pathlib.Path) -> Iterator[None]:
    """``mount ARGS TARGET`` for the block, or skip the test saying why it cannot mount."""
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip() or 'no permission'})")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@contextlib.contextmanager
def immutable(path: pathlib.Path) -> Iterator[None]:
    """``chattr +i`` for the block (root ignores modes, not this), or skip saying why."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not available here ({done.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
