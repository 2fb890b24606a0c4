"""Running the demo: a folder, a private tmux server, the sessions, one real check."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import pathlib
import shutil
import tempfile
import time
import typing as t

from heartbeat.demo import cleanup, stage
from heartbeat.demo.stage import DEMO_SESSIONS, DemoError, DemoSession
from heartbeat.errors import TmuxError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import pendulum

    from heartbeat.check import CheckResult
    from heartbeat.config import Settings
    from heartbeat.tmux import Tmux

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
        warnings += cleanup.stop_server(socket)
        warnings += cleanup.remove(folder)
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
    import pendulum

    import memory_schema as ms
    from heartbeat.check import run_check
    from heartbeat.tmux import Tmux

    say(f"demo folder {folder} (removed at the end); private tmux socket {socket}")
    notifications = folder / "notifications.log"
    stage.install_programs(folder / "bin", notifications)
    (folder / "home").mkdir(mode=0o700)
    (folder / "codex").mkdir(mode=0o700)
    (folder / "memory").mkdir(mode=0o700)
    repo = folder / "app"
    stage.make_repo(repo)
    settings = stage.settings_for(folder)
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
