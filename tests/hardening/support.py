"""Helpers of the hardening suite: the installed binary under a timeout, checks in-process."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import typing as t

import pendulum

from heartbeat.check import CheckResult, SessionReport, run_check
from heartbeat.config import load_settings

if t.TYPE_CHECKING:
    from heartbeat.tmux import Tmux

#: The installed console script, as cron runs it.
HEARTBEAT = pathlib.Path(sys.executable).parent / "heartbeat"
#: Every bad input and fault must be answered within this (DESIGN §6: a check every minute).
BOUND_SECONDS = 30.0


@dataclasses.dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, t.Any]:
        data = json.loads(self.stdout)
        assert isinstance(data, dict)
        return data


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = BOUND_SECONDS) -> Run:
    """Run the installed ``heartbeat`` in a subprocess with the test's environment.

    Asserts what every answer owes: no traceback. *timeout* is a hang guard
    (``subprocess.TimeoutExpired``), not a speed target.
    """
    done = subprocess.run(
        [str(HEARTBEAT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env if env is not None else dict(os.environ),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    run = Run(done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    return run


def check_at(
    now: pendulum.DateTime | None = None,
    offset: float = 0.0,
    *,
    tmux: Tmux | None = None,
    sleep: t.Callable[[float], None] = lambda _: None,
    **kwargs: t.Any,
) -> CheckResult:
    """One check in-process at *now* (default: the real clock) plus *offset* seconds."""
    moment = (now or pendulum.now()).add(seconds=offset)
    return run_check(load_settings(), moment, tmux=tmux, sleep=sleep, **kwargs)


def session(result: CheckResult, name: str) -> SessionReport:
    return next(s for s in result.sessions if s.name == name)


def runs(tmp_path: pathlib.Path) -> list[str]:
    """One line per stand-in agent run (STANDIN_LOG)."""
    log = tmp_path / "runs.log"
    return log.read_text().splitlines() if log.exists() else []


def snapshot(path: pathlib.Path) -> tuple[bytes, int] | None:
    """A regular file's bytes and mtime (None for anything else), to prove nothing wrote."""
    if path.is_symlink() or not path.is_file():
        return None
    return path.read_bytes(), path.stat().st_mtime_ns


def kill_server(socket: pathlib.Path) -> None:
    subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True, check=False)
