"""`heartbeat demo`: a real check over stand-in agents, on a private socket, in seconds.

Everything lives in one temporary folder: the tmux socket, the notes, the state,
CODEX_HOME, HOME for the demo's processes, a git repository, and the stand-ins
(``heartbeat.demo.standin``, a codex that replays a few codex 0.169.0 runs, plus an
``openclaw`` that writes its notifications to a file and a ``devserver``). Sessions are
started with ``heartbeat launch``'s own function, one is only listed in the note (it
"died"), and the check is ``run_check`` itself. Afterwards the demo's tmux server and
every process it started are stopped and the folder removed, also on Ctrl-C or an error.
The user's socket, notes, state and crontab are never read or written: the settings are
built here, not loaded.

Read top to bottom: the stage (the sessions, the settings, the stand-in programs, the
repository), the run (``run_demo``), the cleanup (the server, its processes, the folder).
The stand-in codex is a program of its own (``python -m heartbeat.demo.standin``), run in
the demo's panes: it imports nothing of heartbeat. Python imports this package before it,
so the heartbeat modules the demo runs are imported in the functions that use them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import typing as t

from heartbeat.errors import HeartbeatError, TmuxError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import pendulum

    from heartbeat.check import CheckResult
    from heartbeat.config import Settings
    from heartbeat.tmux import Tmux

__all__ = ["DEMO_SESSIONS", "DemoError", "DemoResult", "DemoSession", "run_demo"]


# --------------------------------------------------------------------------------------- the stage


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
    # off the stand-in's path: `python -m heartbeat.demo.standin` imports this package
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


# ----------------------------------------------------------------------------------------- the run


#: How long the sessions may take to finish before the demo gives up.
FINISH_TIMEOUT = 20.0
POLL = 0.1
#: Seconds between the stand-in's steps (its default 0.2 makes the demo slower).
STANDIN_DELAY = "0.05"


@dataclasses.dataclass
class DemoResult:
    """What the demo saw; the folder is gone by the time this is returned."""

    folder: pathlib.Path
    socket: pathlib.Path
    sessions: tuple[DemoSession, ...]
    check: CheckResult
    note: pathlib.Path
    note_text: str
    notifications: list[str]
    seconds: float = 0.0
    cleanup_warnings: list[str] = dataclasses.field(default_factory=list)


def run_demo(
    say: Callable[[str], None] | None = None,
    *,
    base: pathlib.Path | None = None,
    timeout: float = FINISH_TIMEOUT,
) -> DemoResult:
    """Run the demo in a temporary folder under *base* (default: the system's).

    *say* gets progress lines. Raises TmuxError when tmux is missing, DemoError
    when the sessions do not finish within *timeout* seconds. Whatever happens,
    the demo's tmux server, its processes and its folder are gone on return,
    and this process's environment is as it was.
    """
    say = say or (lambda _line: None)
    if shutil.which("tmux") is None:
        raise TmuxError(
            "tmux is not on PATH, and the demo runs real tmux sessions: install it "
            "(apt-get install tmux / brew install tmux)"
        )
    started_at = time.monotonic()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="heartbeat-demo-", dir=base))
    socket = folder / "sock"
    warnings: list[str] = []
    try:
        with _environment(_demo_env(folder)):
            result = _run(folder, socket, say, timeout)
    finally:
        warnings += stop_server(socket)
        warnings += remove_folder(folder)
    result.seconds = time.monotonic() - started_at
    result.cleanup_warnings = warnings
    return result


def _demo_env(folder: pathlib.Path) -> dict[str, str | None]:
    """The environment of the demo's processes (None: unset): all of it inside *folder*."""
    bin_dir = folder / "bin"
    home = folder / "home"
    return {
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", os.defpath)]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "CODEX_HOME": str(folder / "codex"),
        "HEARTBEAT_NOTES_DIR": str(folder / "memory"),
        "HEARTBEAT_SOCKET": str(folder / "sock"),
        "HEARTBEAT_STATE_DIR": str(folder / "state"),
        "HEARTBEAT_CONFIG": str(folder / "config.toml"),
        "HEARTBEAT_NOTIFY": "",
        "HEARTBEAT_PING_URL": None,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "STANDIN_DELAY": STANDIN_DELAY,
        "STANDIN_LOG": None,
        "TMUX": None,
        "TMUX_PANE": None,
    }


@contextlib.contextmanager
def _environment(updates: Mapping[str, str | None]) -> Iterator[None]:
    """Apply *updates* to os.environ; restore it exactly afterwards (run_check edits PATH)."""
    saved = dict(os.environ)
    try:
        for key, value in updates.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run(
    folder: pathlib.Path,
    socket: pathlib.Path,
    say: Callable[[str], None],
    timeout: float,
) -> DemoResult:
    # off the stand-in's path: `python -m heartbeat.demo.standin` imports this package
    import pendulum

    import memory_schema as ms
    from heartbeat.check import run_check
    from heartbeat.tmux import Tmux

    say(f"demo folder {folder} (removed at the end); private tmux socket {socket}")
    notifications = folder / "notifications.log"
    install_programs(folder / "bin", notifications)
    (folder / "home").mkdir(mode=0o700)
    (folder / "codex").mkdir(mode=0o700)
    (folder / "memory").mkdir(mode=0o700)
    repo = folder / "app"
    make_repo(repo)
    settings = settings_for(folder)
    now = pendulum.now()
    day = datetime.date(now.year, now.month, now.day)

    say("a stand-in codex acts out the scenario named in each task (scenario:NAME):")
    for session in DEMO_SESSIONS:
        _start(settings, now, day, repo, session, say)
    tmux = Tmux(socket)
    names = {s.name for s in DEMO_SESSIONS if s.finishes}
    say(f"waiting for {', '.join(sorted(names))} to finish …")
    _wait_finished(tmux, names, timeout)

    say("running a real check (`heartbeat check`) with the demo's settings …")
    check = run_check(settings, pendulum.now(), date=day)
    note = ms.note_path(settings.notes_dir, day)
    note_text = note.read_text(encoding="utf-8")
    try:
        sent = notifications.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        sent = []
    return DemoResult(
        folder=folder,
        socket=socket,
        sessions=DEMO_SESSIONS,
        check=check,
        note=note,
        note_text=note_text,
        notifications=sent,
    )


def _start(
    settings: Settings,
    now: pendulum.DateTime,
    day: datetime.date,
    repo: pathlib.Path,
    session: DemoSession,
    say: Callable[[str], None],
) -> None:
    """Launch *session* as `heartbeat launch` does, or only list it (started 42 min ago)."""
    # off the stand-in's path: `python -m heartbeat.demo.standin` imports this package
    from heartbeat import notes
    from heartbeat.launch import launch

    if session.started:
        launch(settings, now, session.name, repo, session.command, date=day)
    else:
        earlier = now.subtract(minutes=42)
        notes.add(settings, day, earlier, session.name, session.command, str(repo))
    how = "started" if session.started else "listed only"
    say(f"  {session.name:<13} {how:<11} {session.story}")


def _wait_finished(tmux: Tmux, names: set[str], timeout: float) -> None:
    """Poll (one batched probe per round) until every session of *names* shows ``EXITED:``."""
    deadline = time.monotonic() + timeout
    while True:
        probe = tmux.probe(names, 40)
        output = {
            name: "\n".join(probe.output.get(p.pane_id, "") for p in probe.session_panes(name))
            for name in names
        }
        waiting = sorted(name for name in names if "EXITED:" not in output[name])
        if not waiting:
            return
        if time.monotonic() > deadline:
            last = output[waiting[0]].strip().splitlines()[-3:]
            raise DemoError(
                f"{', '.join(waiting)} did not finish within {timeout:.0f} s "
                f"(last lines: {' | '.join(last) or 'none'}); is the machine very busy? "
                "Run the demo again"
            )
        time.sleep(POLL)


# ------------------------------------------------------------------------------------- the cleanup


#: How long stopped processes may take to exit before they are killed.
STOP_TIMEOUT = 3.0


def live_groups(groups: set[int]) -> set[int]:
    """The process groups of *groups* that still have a live (non-zombie) process."""
    try:
        listing = subprocess.run(
            ["ps", "-A", "-o", "pgid=,stat="],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    alive = set()
    for line in listing.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and not parts[1].startswith("Z"):
            alive.add(int(parts[0]))
    return groups & alive


def stop_server(socket: pathlib.Path) -> list[str]:
    """Stop the demo's tmux server and every process of its panes; warnings, never raises.

    Each pane runs in its own process group (tmux makes the pane a session
    leader), so the agents and their children are signalled as groups: HUP,
    then KILL for what is still alive after ``STOP_TIMEOUT``.
    """
    # off the stand-in's path: `python -m heartbeat.demo.standin` imports this package
    from heartbeat.tmux import Tmux

    if not os.path.lexists(socket):
        return []
    tmux = Tmux(socket, timeout=10)
    groups: set[int] = set()
    warnings: list[str] = []
    try:
        listing = tmux.run("list-panes", "-a", "-F", "#{pane_pid}")
        if listing.returncode == 0:
            groups = {int(pid) for pid in listing.stdout.split() if pid.isdigit()}
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGHUP)
        tmux.run("kill-server")
    except TmuxError as error:
        warnings.append(f"the demo's tmux server could not be stopped: {error}")
    deadline = time.monotonic() + STOP_TIMEOUT
    alive = live_groups(groups)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = live_groups(alive)
    for group in alive:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    return warnings


def remove_folder(folder: pathlib.Path) -> list[str]:
    """Remove the demo's folder (a late write of a dying process gets a second try)."""
    for _ in range(5):
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            return []
        except OSError:
            time.sleep(0.1)
            continue
        return []
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        return [f"the demo's folder {folder} could not be removed entirely; remove it yourself"]
    return []
