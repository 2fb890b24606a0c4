"""Identity and ownership (DESIGN §4), end to end on real tmux servers.

A session is its server (the logged ``-L``/``-S``, tmux's default socket, else
the stable one), its name and the ids a check saw; the check acts on the
agent's own pane only. Each test is a way a second agent could be started in
a folder where one runs, or a user's process could be killed.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import typing as t

import pendulum
import pytest
from libtmux.test.retry import retry_until

from heartbeat.check import CheckResult, run_check
from heartbeat.config import load_settings
from heartbeat.tmux import Tmux
from tests import helpers

FOREVER = "codex exec -s workspace-write 'scenario:work-forever go'"
FAIL = "codex exec -s workspace-write 'scenario:fail go'"


def check_at(offset: float = 0.0, **kwargs: t.Any) -> CheckResult:
    now = pendulum.now().add(seconds=offset)
    return run_check(load_settings(), now, sleep=lambda _: None, **kwargs)


def session(result: CheckResult, name: str) -> t.Any:
    return next(s for s in result.sessions if s.name == name)


def sessions(socket: pathlib.Path) -> list[str]:
    listing = Tmux(socket).run("list-sessions", "-F", "#{session_name}")
    return sorted(listing.stdout.split())


def runs(tmp_path: pathlib.Path) -> list[str]:
    log = tmp_path / "runs.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def tmux_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> t.Iterator[pathlib.Path]:
    """A private TMUX_TMPDIR: tmux's default socket and `-L NAME` sockets live in it.

    The servers a test starts there are killed after it.
    """
    folder = tmp_path / "tmuxdir"
    folder.mkdir()
    monkeypatch.setenv("TMUX_TMPDIR", str(folder))
    base = folder / f"tmux-{os.geteuid()}"
    yield base
    if base.is_dir():
        for sock in base.iterdir():
            Tmux(sock).run("kill-server")


def anatomy_line(flags: str, name: str, command: str, work: pathlib.Path) -> str:
    """A logged full tmux line with the seed's anatomy, on the server *flags* name."""
    body = f"cd {work} && {command}; EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; sleep 999999"
    return f"tmux {flags}new -d -s {name} {shlex.quote(body)}".replace("tmux  ", "tmux ")


def start_logged(line: str) -> None:
    """Run a logged tmux line as the user's shell would (the stand-ins first on PATH)."""
    import subprocess

    subprocess.run(["sh", "-c", line], check=True, env=os.environ.copy())


class Server(t.NamedTuple):
    flags: str
    socket: str  # a path under the private TMUX_TMPDIR, or "" for the stable one


@pytest.mark.parametrize(
    "where",
    [Server("-L work ", "work"), Server("", "default")],
    ids=["dash-L", "default-socket"],
)
def test_a_session_on_its_own_server_is_watched_there_and_never_duplicated(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    tmux_dir: pathlib.Path,
    where: Server,
) -> None:
    work = helpers.work_dir(notes_dir)
    line = anatomy_line(where.flags, "remote", FOREVER, work)
    helpers.write_note(notes_dir, f"- `{line}`\n")
    start_logged(line)
    socket = tmux_dir / where.socket
    helpers.wait_for_text(socket, "remote", "exec")
    result = check_at()
    remote = session(result, "remote")
    assert (remote.diagnosis, remote.action) == ("healthy", "none"), remote
    assert not Tmux(agents).has_session("remote")  # nothing started on the stable socket
    assert sessions(socket) == ["remote"]


def test_a_died_session_on_a_dash_L_server_is_restarted_there(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    tmux_dir: pathlib.Path,
) -> None:
    work = helpers.work_dir(notes_dir)
    line = anatomy_line("-L work ", "lone", FOREVER, work)
    helpers.write_note(notes_dir, f"- `{line}`\n")
    start_logged(line)
    socket = tmux_dir / "work"
    helpers.wait_for_text(socket, "lone", "exec")
    Tmux(socket).run("new-session", "-d", "-s", "keep")  # the server outlives the session
    Tmux(socket).kill_session("lone")
    result = check_at()
    assert (session(result, "lone").diagnosis, session(result, "lone").action) == (
        "died",
        "restarted",
    )
    assert retry_until(lambda: Tmux(socket).has_session("lone"), 90, raises=False)
    assert not Tmux(agents).has_session("lone")


def test_a_renamed_session_is_followed_not_duplicated(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    note = helpers.write_note(notes_dir, helpers.canonical("feat", FOREVER, work))
    helpers.start(agents, "feat", FOREVER, work)
    helpers.wait_for_text(agents, "feat", "exec")
    assert session(check_at(), "feat").diagnosis == "healthy"
    Tmux(agents).run("rename-session", "-t", "=feat", "feat-old")
    result = check_at(60)
    feat = session(result, "feat")
    assert (feat.diagnosis, feat.action) == ("healthy", "none"), feat
    assert "renamed to `feat-old`" in feat.detail
    assert sessions(agents) == ["feat-old"]
    assert "feat renamed → followed (now `feat-old`)" in note.read_text()
    text = note.read_text()
    assert session(check_at(120), "feat").action == "none"
    assert note.read_text() == text  # reported once


def test_renamed_before_any_check_is_tied_by_its_command(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """No remembered ids: the pane started with the logged command is the session."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("early", FOREVER, work))
    helpers.start(agents, "early", FOREVER, work)
    helpers.wait_for_text(agents, "early", "exec")
    Tmux(agents).run("rename-session", "-t", "=early", "mine")
    early = session(check_at(), "early")
    assert early.diagnosis == "healthy" and "renamed to `mine`" in early.detail
    assert sessions(agents) == ["mine"]


def test_a_window_the_user_opened_survives_the_restart(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("job", FAIL, work))
    helpers.start(agents, "job", FAIL, work)
    helpers.wait_exited(agents, "job")
    tmux = Tmux(agents)
    opened = tmux.run("new-window", "-d", "-t", "=job:", "-P", "-F", "#{pane_id} #{pane_pid}")
    assert opened.returncode == 0, opened.stderr
    user_pane = opened.stdout.split()
    result = check_at()
    assert (session(result, "job").diagnosis, session(result, "job").action) == (
        "failed",
        "restarted",
    )
    panes = tmux.run("list-panes", "-s", "-t", "=job", "-F", "#{pane_id} #{pane_pid}")
    assert user_pane in [line.split() for line in panes.stdout.splitlines()]
    assert retry_until(lambda: len(runs(tmp_path)) == 2, 90, raises=False)


@pytest.mark.parametrize(
    "program", ["", "less /etc/hostname"], ids=["shell-at-its-prompt", "a-pager"]
)
def test_an_interactive_pane_is_not_owned_and_never_killed(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path, program: str
) -> None:
    """The user ran the task by hand in a shell: its EXITED line is not the anatomy's tail."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("hand", FAIL, work))
    tmux = Tmux(agents)
    assert tmux.run("new-session", "-d", "-s", "hand", "-c", str(work)).returncode == 0
    tmux.run("send-keys", "-t", "=hand:", f"{FAIL}; echo 'EXITED:' $?", "Enter")
    helpers.wait_exited(agents, "hand")
    if program:
        tmux.run("send-keys", "-t", "=hand:", program, "Enter")
        name = program.split()[0]
        assert retry_until(
            lambda: (
                name
                in tmux.run("list-panes", "-t", "=hand:", "-F", "#{pane_current_command}").stdout
            ),
            20,
            raises=False,
        )
    before = helpers.session_pid(agents, "hand")
    result = check_at()
    hand = session(result, "hand")
    assert (hand.diagnosis, hand.action) == ("not_owned", "reported"), hand
    assert ("interactive shell" in hand.detail) if not program else ("less" in hand.detail)
    assert helpers.session_pid(agents, "hand") == before
    assert result.exit_code == 1
    assert "hand" in sessions(agents)


def test_an_unlogged_agent_is_reported_once_then_adopted(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    note = helpers.write_note(notes_dir, helpers.canonical("known", FOREVER, work))
    helpers.start(agents, "known", FOREVER, work)
    helpers.start(agents, "stray", FOREVER, work)
    helpers.wait_for_text(agents, "stray", "exec")
    first = check_at()
    stray = session(first, "stray")
    assert (stray.diagnosis, stray.action, stray.agent) == ("unlogged", "reported", "codex")
    assert "stray unlogged → reported" in note.read_text()
    second = check_at(60)
    assert session(second, "stray").action == "none"
    assert note.read_text().count("stray unlogged") == 1
    assert second.exit_code == 0
    code, _out, err = helpers.cli("notes", "adopt", "stray")
    assert code == 0, err
    entries = {e.name: e for e in _entries()}
    assert entries["stray"].command == FOREVER
    assert entries["stray"].dir == str(work)
    third = check_at(120)
    assert session(third, "stray").diagnosis == "healthy"
    assert sessions(agents) == ["known", "stray"]  # adopted: watched, not started again


def _entries() -> list[t.Any]:
    from heartbeat import notes

    result = notes.list_entries(load_settings(), pendulum.now().date())
    return [e for e in result.entries if e.active]


def test_an_agent_pane_gone_beside_a_user_window_is_restarted_in_a_new_window(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The agent's pane was seen, then closed; the session lives on in the user's window."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("side", FOREVER, work))
    helpers.start(agents, "side", FOREVER, work)
    helpers.wait_for_text(agents, "side", "exec")
    tmux = Tmux(agents)
    opened = tmux.run("new-window", "-d", "-t", "=side:", "-P", "-F", "#{pane_id} #{pane_pid}")
    user_pane = opened.stdout.split()
    assert session(check_at(), "side").diagnosis == "healthy"
    listed = tmux.run("list-panes", "-s", "-t", "=side", "-F", "#{pane_id}").stdout.split()
    agent = next(p for p in listed if p != user_pane[0])
    tmux.run("kill-pane", "-t", agent)
    result = check_at(60)
    assert (session(result, "side").diagnosis, session(result, "side").action) == (
        "died",
        "restarted",
    )
    listing = tmux.run("list-panes", "-s", "-t", "=side", "-F", "#{pane_id} #{pane_pid}")
    panes = [line.split() for line in listing.stdout.splitlines()]
    assert user_pane in panes and len(panes) == 2
    assert sessions(agents) == ["side"]
    assert session(check_at(120), "side").diagnosis == "healthy"


def test_a_session_marked_done_is_not_reported_as_unlogged(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("over", FOREVER, work))
    helpers.start(agents, "over", FOREVER, work)
    helpers.wait_for_text(agents, "over", "exec")
    code, _out, err = helpers.cli("notes", "done", "over")
    assert code == 0, err
    result = check_at()
    assert [s.name for s in result.sessions] == []
