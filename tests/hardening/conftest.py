"""Fixtures of the hardening suite: stand-in agents on a private server, a notifier, mounts.

Faults are made real wherever the machine allows it: a real tmux server killed
or frozen, real files where folders are expected, a real tmpfs that fills up,
a real RLIMIT_FSIZE, a real SIGKILL. Where the machine does not allow one (no
mount permission, no chattr), the test says so in its skip reason.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import typing as t

import pytest

from tests import helpers

if t.TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def agents(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, socket_path: pathlib.Path
) -> pathlib.Path:
    """Stand-in agents first on PATH and in path_prefix; no second look. Returns the socket."""
    monkeypatch.setenv("PATH", f"{helpers.AGENTS}:{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_DELAY", "0.05")
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "runs.log"))
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(helpers.AGENTS), second_look_seconds=0
    )
    return socket_path


@pytest.fixture
def notify_log(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> pathlib.Path:
    """A notifier that appends each message as one line (an argument list, not a shell)."""
    log = tmp_path / "notify.log"
    script = tmp_path / "notifier"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" >> {log}\n")
    script.chmod(0o755)
    monkeypatch.setenv("HEARTBEAT_NOTIFY", f"{script} {{message}}")
    return log


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
