"""The demo's stage: its sessions, its settings, its stand-in programs and its repository."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shlex
import subprocess
import sys
import time
import typing as t

from heartbeat.errors import HeartbeatError

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from heartbeat.config import Settings


class DemoError(HeartbeatError):
    """The demo could not run to its end (the message says what to look at)."""


@dataclasses.dataclass(frozen=True)
class DemoSession:
    """One session of the demo: what it runs and what the check should make of it."""

    name: str
    command: str
    #: False: only listed in the note, never started (a session that died).
    started: bool
    #: The stand-in ends on its own (the demo waits for its ``EXITED:`` line).
    finishes: bool
    #: The diagnosis the check gives it.
    expect: str
    story: str


DEMO_SESSIONS: tuple[DemoSession, ...] = (
    DemoSession(
        "add-health",
        "codex exec -s workspace-write 'Add a /health endpoint scenario:ok'",
        started=True,
        finishes=True,
        expect="completed",
        story="does the work and exits 0 (the sandbox keeps .git read-only: no commit)",
    ),
    DemoSession(
        "refactor-api",
        "codex exec -s workspace-write 'Refactor the API client scenario:ratelimit'",
        started=True,
        finishes=True,
        expect="rate_limited",
        story="hits HTTP 429 until codex gives up",
    ),
    DemoSession(
        "fix-login",
        "codex exec -s workspace-write 'Fix the login redirect scenario:auth'",
        started=True,
        finishes=True,
        expect="auth_expired",
        story="loses its login (Failed to refresh token)",
    ),
    DemoSession(
        "write-tests",
        "codex exec -s workspace-write 'Write tests for the parser scenario:work-forever'",
        started=True,
        finishes=False,
        expect="healthy",
        story="keeps working",
    ),
    # Not a codex command on purpose: while a session shows an expired token the
    # check holds codex restarts (they would fail the same way), see DESIGN §4.
    DemoSession(
        "docs-preview",
        "devserver --port 5173",
        started=False,
        finishes=False,
        expect="died",
        story="is listed in the note but its session is gone",
    ),
)

#: The demo's codex (heartbeat/demo/standin.py), run by this interpreter.
CODEX = """#!/bin/sh
exec {python} -m heartbeat.demo.standin "$@"
"""

OPENCLAW = """#!/bin/sh
# Stand-in for `openclaw system event --text MSG --mode now`: appends MSG to a file.
while [ $# -gt 0 ]; do
  case "$1" in
    --text) shift; printf '%s\\n' "$1" >> {log} ;;
  esac
  shift
done
"""

DEVSERVER = """#!/bin/sh
# Stand-in for a dev server: says where it listens, then serves forever.
echo "devserver: listening on http://127.0.0.1:${2:-5173} (demo stand-in, no socket opened)"
exec sleep 999999
"""


def settings_for(folder: pathlib.Path) -> Settings:
    """The demo's settings, built here (the user's configuration is never loaded)."""
    from heartbeat.config import Settings

    settings = Settings(
        notes_dir=folder / "memory",
        socket=folder / "sock",
        state_dir=folder / "state",
        codex_home=folder / "codex",
        notify=["openclaw", "system", "event", "--text", "{message}", "--mode", "now"],
        path_prefix=str(folder / "bin"),
        second_look_seconds=0.3,
        notify_timeout=5.0,
    )
    demo = ("notes_dir", "socket", "state_dir", "codex_home", "notify", "path_prefix")
    settings.sources = dict.fromkeys(demo, "demo")
    return settings


def install_programs(bin_dir: pathlib.Path, notifications: pathlib.Path) -> None:
    """The demo's stand-in codex, an openclaw that writes to a file, and a devserver."""
    bin_dir.mkdir(mode=0o700)
    scripts = {
        # This interpreter, not `env python3`: a fresh macOS has no usable python3.
        "codex": CODEX.replace("{python}", shlex.quote(sys.executable)),
        "openclaw": OPENCLAW.replace("{log}", shlex.quote(str(notifications))),
        "devserver": DEVSERVER,
    }
    for name, text in scripts.items():
        target = bin_dir / name
        target.write_text(text, encoding="utf-8")
        target.chmod(0o755)


def git(repo: pathlib.Path, *args: str, env: Mapping[str, str] | None = None) -> None:
    identity = ["-c", "user.name=heartbeat demo", "-c", "user.email=demo@example.invalid"]
    result = subprocess.run(
        ["git", "-C", str(repo), *identity, *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=30,
    )
    if result.returncode != 0:
        raise DemoError(
            f"`git {' '.join(args)}` failed in the demo's repository: "
            f"{result.stderr.strip() or result.returncode}; is git installed?"
        )


def make_repo(repo: pathlib.Path) -> None:
    """A git repository whose first commit is a minute old (before any session starts)."""
    repo.mkdir()
    (repo / "README.md").write_text("# app\n\nThe demo's project.\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "README.md")
    then = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(time.time() - 60))
    git(
        repo,
        "commit",
        "-q",
        "-m",
        "Start the app",
        env={"GIT_AUTHOR_DATE": then, "GIT_COMMITTER_DATE": then},
    )
