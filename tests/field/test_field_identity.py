"""Identity and ownership in the field (DESIGN §4 "Identity and ownership").

Inputs from tmux's manual: ``-L``/``-S``/``-f`` and the default socket under TMUX_TMPDIR,
``rename-session``, ``new-window -b``, ``split-window``, ``respawn-pane -k``,
``remain-on-exit``, ``base-index``/``pane-base-index``/``renumber-windows``, grouped sessions
(``new-session -t``). None may start a second agent where one runs, or kill or respawn a
process that is not the logged agent's finished anatomy pane.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import signal
import typing as t

import pytest
from libtmux.test.retry import retry_until

from heartbeat.tmux import Tmux
from tests import helpers
from tests.field import (
    check_at,
    kill_servers,
    panes,
    runs,
    session,
    sessions,
    sh,
    tmux_at,
    wait_command,
    wait_for,
)

FOREVER = "codex exec -s workspace-write 'scenario:work-forever keep the API green'"
FAIL = "codex exec -s workspace-write 'scenario:fail port the handlers to async'"


@pytest.fixture
def tmux_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> t.Iterator[pathlib.Path]:
    """A private TMUX_TMPDIR (tmux's default socket and -L sockets); servers killed after."""
    folder = tmp_path / "tt"
    folder.mkdir()
    monkeypatch.setenv("TMUX_TMPDIR", str(folder))
    base = folder / f"tmux-{os.geteuid()}"
    yield base
    if base.is_dir():
        kill_servers(*base.iterdir())


@pytest.fixture
def own_socket(user_path: pathlib.Path, tmp_path: pathlib.Path) -> t.Iterator[pathlib.Path]:
    """A ``-S`` socket under the user's HOME (spelled with ``~`` in the note), killed after."""
    folder = user_path / f"s{abs(hash(tmp_path)) % 10**8}"
    folder.mkdir(exist_ok=True)
    sock = folder / "agents.sock"
    yield sock
    kill_servers(sock)


def anatomy(command: str, work: pathlib.Path) -> str:
    return f"cd {work} && {command}; EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; sleep 999999"


def agent_panes(socket: pathlib.Path) -> list[dict[str, str]]:
    """Panes of the server whose process tree runs the stand-in codex."""
    found = []
    for pane in panes(socket):
        pids = _tree(int(pane["pane_pid"]))
        if any("standins/bin/codex" in _cmdline(pid) for pid in pids):
            found.append(pane)
    return found


def _cmdline(pid: int) -> str:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except OSError:
        return False
    return True


# --- A. Identity -----------------------------------------------------------------------


def test_a_dash_L_server_with_its_own_config_file_is_watched_not_duplicated(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmux_dir: pathlib.Path
) -> None:
    """`tmux -f /dev/null -L ci new-session -d -s … -c DIR CMD` (long form, -c, -f first)."""
    work = helpers.work_dir(notes_dir)
    body = f"{FOREVER}; EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; sleep 999999"
    line = f"tmux -f /dev/null -L ci new-session -d -s api-green -c {work} {shlex.quote(body)}"
    helpers.write_note(notes_dir, f"- **api-green**: `{line}`\n")
    sh(line)
    socket = tmux_dir / "ci"
    wait_for(socket, "api-green", "exec")
    pid = helpers.session_pid(socket, "api-green")
    for offset in (0, 300):
        api = session(check_at(offset), "api-green")
        assert (api.diagnosis, api.action) == ("healthy", "none"), api
    assert helpers.session_pid(socket, "api-green") == pid
    assert sessions(socket) == ["api-green"]
    assert sessions(agents) == []  # nothing started on the stable socket
    assert not (tmux_dir / "default").exists()


def test_a_dash_S_socket_spelled_with_tilde_is_restarted_on_that_server(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmux_dir: pathlib.Path,
    own_socket: pathlib.Path,
    user_path: pathlib.Path,
) -> None:
    work = helpers.work_dir(notes_dir)
    spelled = "~/" + str(own_socket.relative_to(user_path))
    line = f"tmux -S {spelled} new -d -s nightly {shlex.quote(anatomy(FOREVER, work))}"
    helpers.write_note(notes_dir, f"- `nightly` — `{line}`\n")
    sh(line)
    wait_for(own_socket, "nightly", "exec")
    tmux_at(own_socket, "new-session", "-d", "-s", "scratch")  # the server outlives it
    tmux_at(own_socket, "kill-session", "-t", "=nightly")
    nightly = session(check_at(), "nightly")
    assert (nightly.diagnosis, nightly.action) == ("died", "restarted"), nightly
    assert retry_until(lambda: len(agent_panes(own_socket)) == 1, 90, raises=False)
    assert sessions(own_socket) == ["nightly", "scratch"]
    assert sessions(agents) == []
    assert not (tmux_dir / "default").exists()


def test_plain_tmux_new_on_the_default_socket_fails_and_is_restarted_there(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmux_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """No -L/-S: tmux's default socket ($TMUX_TMPDIR/tmux-UID/default), not the stable one."""
    work = helpers.work_dir(notes_dir)
    line = f"tmux new -d -s port-async {shlex.quote(anatomy(FAIL, work))}"
    helpers.write_note(notes_dir, f"- port-async: `{line}`\n")
    sh(line)
    default = tmux_dir / "default"
    helpers.wait_exited(default, "port-async")
    result = check_at()
    port = session(result, "port-async")
    assert (port.diagnosis, port.action) == ("failed", "restarted"), port
    assert retry_until(lambda: len(runs(tmp_path)) == 2, 90, raises=False), runs(tmp_path)
    assert sessions(default) == ["port-async"]
    assert sessions(agents) == []


def test_renamed_after_the_first_check_on_a_dash_L_server_is_followed(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmux_dir: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    line = f"tmux -L field new -d -s refactor {shlex.quote(anatomy(FOREVER, work))}"
    helpers.write_note(notes_dir, f"- `{line}`\n")
    sh(line)
    socket = tmux_dir / "field"
    wait_for(socket, "refactor", "exec")
    pid = helpers.session_pid(socket, "refactor")
    assert session(check_at(), "refactor").diagnosis == "healthy"
    tmux_at(socket, "rename-session", "-t", "=refactor", "refactor-alex")
    for offset in (60, 400):
        refactor = session(check_at(offset), "refactor")
        assert (refactor.diagnosis, refactor.action) == ("healthy", "none"), refactor
    assert sessions(socket) == ["refactor-alex"]
    assert helpers.session_pid(socket, "refactor-alex") == pid
    assert len(agent_panes(socket)) == 1
    assert sessions(agents) == []


def test_renamed_before_any_check_on_the_default_socket_is_not_duplicated(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmux_dir: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    line = f"tmux new -s billing -d {shlex.quote(anatomy(FOREVER, work))}"
    helpers.write_note(notes_dir, f"- `billing`: `{line}`\n")
    sh(line)
    default = tmux_dir / "default"
    wait_for(default, "billing", "exec")
    tmux_at(default, "rename-session", "-t", "=billing", "0")  # tmux's own default-style name
    for offset in (0, 120):
        billing = session(check_at(offset), "billing")
        assert billing.action == "none", billing
        assert billing.diagnosis == "healthy", billing
    assert sessions(default) == ["0"]
    assert len(agent_panes(default)) == 1
    assert sessions(agents) == []


def test_killed_and_recreated_with_the_same_name_by_the_user_is_not_owned(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The check saw the agent; the user killed it and made `docs` a log-watching session."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("docs", FOREVER, work))
    helpers.start(agents, "docs", FOREVER, work)
    wait_for(agents, "docs", "exec")
    assert session(check_at(), "docs").diagnosis == "healthy"
    tmux = Tmux(agents)
    # one chained call: killing the server's last session and making another in two calls
    # races the server's exit ("server exited unexpectedly")
    made = tmux.run(
        "kill-session",
        "-t",
        "=docs",
        ";",
        "new-session",
        "-d",
        "-s",
        "docs",
        "-c",
        str(work),
        "exec tail -f README.md",
    )
    assert made.returncode == 0, made.stderr
    wait_command(agents, "=docs:", "tail")
    pid = helpers.session_pid(agents, "docs")
    for offset in (60, 600):
        docs = session(check_at(offset), "docs")
        assert docs.action != "restarted", docs
        assert docs.diagnosis == "not_owned", docs
    assert helpers.session_pid(agents, "docs") == pid and alive(pid)
    assert agent_panes(agents) == []
    assert sessions(agents) == ["docs"]


def test_base_index_one_and_a_window_inserted_before_the_agent(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """base-index 1, pane-base-index 1, renumber-windows: the agent's window moves to 2."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("ingest", FAIL, work))
    helpers.start(agents, "ingest", FAIL, work)
    tmux = Tmux(agents)
    for option in ("base-index", "pane-base-index"):
        tmux.run("set-option", "-g", option, "1")
    tmux.run("set-option", "-g", "renumber-windows", "on")
    helpers.wait_exited(agents, "ingest")
    user = tmux.run("new-window", "-d", "-b", "-t", "=ingest:^", "-P", "-F", "#{pane_id}")
    assert user.returncode == 0, user.stderr
    user_pane = user.stdout.strip()
    user_pid = tmux.run("display", "-p", "-t", user_pane, "#{pane_pid}").stdout.strip()
    ingest = session(check_at(), "ingest")
    assert (ingest.diagnosis, ingest.action) == ("failed", "restarted"), ingest
    assert retry_until(lambda: len(runs(tmp_path)) == 2, 90, raises=False)
    now = {p["pane_id"]: p["pane_pid"] for p in panes(agents, "ingest")}
    assert now.get(user_pane) == user_pid
    assert len(now) == 2
    assert sessions(agents) == ["ingest"]


def test_a_grouped_session_watching_the_agent_is_no_second_agent(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """`new-session -t job -s job-view`: the same windows under another name."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("etl", FAIL, work))
    helpers.start(agents, "etl", FAIL, work)
    helpers.wait_exited(agents, "etl")
    tmux = Tmux(agents)
    assert tmux.run("new-session", "-d", "-t", "=etl", "-s", "etl-view").returncode == 0
    result = check_at()
    etl = session(result, "etl")
    assert (etl.diagnosis, etl.action) == ("failed", "restarted"), etl
    assert all(s.action != "restarted" for s in result.sessions if s.name != "etl")
    assert retry_until(lambda: len(runs(tmp_path)) == 2, 90, raises=False)
    assert sessions(agents) == ["etl", "etl-view"]
    assert len(agent_panes(agents)) <= 1  # the old pane is at its tail, not an agent
    later = check_at(30)
    assert all(s.action != "restarted" for s in later.sessions), later.sessions


# --- B. Ownership ----------------------------------------------------------------------


def test_a_split_the_user_opened_survives_the_agents_restart(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("search", FAIL, work))
    helpers.start(agents, "search", FAIL, work)
    helpers.wait_exited(agents, "search")
    tmux = Tmux(agents)
    split = tmux.run("split-window", "-d", "-h", "-t", "=search:", "-P", "-F", "#{pane_id}")
    assert split.returncode == 0, split.stderr
    user_pane = split.stdout.strip()
    user_pid = tmux.run("display", "-p", "-t", user_pane, "#{pane_pid}").stdout.strip()
    search = session(check_at(), "search")
    assert (search.diagnosis, search.action) == ("failed", "restarted"), search
    assert retry_until(lambda: len(runs(tmp_path)) == 2, 90, raises=False)
    now = {p["pane_id"]: p["pane_pid"] for p in panes(agents, "search")}
    assert now.get(user_pane) == user_pid and alive(user_pid)
    assert len(now) == 2
    assert sessions(agents) == ["search"]


def test_the_agents_pane_dies_beside_a_user_window(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The agent's pane is gone (its shell killed); the session lives on in the user's window."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("queue", FOREVER, work))
    helpers.start(agents, "queue", FOREVER, work)
    wait_for(agents, "queue", "exec")
    assert session(check_at(), "queue").diagnosis == "healthy"
    tmux = Tmux(agents)
    agent_pid = helpers.session_pid(agents, "queue")
    user = tmux.run("new-window", "-d", "-t", "=queue:", "-P", "-F", "#{pane_id} #{pane_pid}")
    user_pane, user_pid = user.stdout.split()
    for pid in _tree(int(agent_pid)):
        os.kill(pid, signal.SIGKILL)
    assert retry_until(lambda: len(panes(agents, "queue")) == 1, 90, raises=False)
    result = check_at(60)
    queue = session(result, "queue")
    assert queue.diagnosis != "healthy", queue
    left = {p["pane_id"]: p["pane_pid"] for p in panes(agents, "queue")}
    assert left.get(user_pane) == user_pid and alive(user_pid)
    assert sessions(agents) == ["queue"]
    assert retry_until(lambda: len(agent_panes(agents)) <= 1, 5, raises=False)
    check_at(400)
    assert len(agent_panes(agents)) <= 1
    assert alive(user_pid)


def test_a_bash_prompt_after_the_anatomy_typed_by_hand_is_not_owned(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The user typed the logged anatomy (without the sleep tail) into bash: its EXITED: 1."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("lint", FAIL, work))
    tmux = Tmux(agents)
    made = tmux.run("new-session", "-d", "-s", "lint", "-c", str(work), "bash --norc --noprofile")
    assert made.returncode == 0, made.stderr
    typed = f"PATH={helpers.AGENTS}:$PATH {FAIL}; EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE"
    tmux.run("send-keys", "-t", "=lint:", typed, "Enter")
    wait_for(agents, "lint", "EXITED: 1")
    wait_command(agents, "=lint:", "bash")
    pid = helpers.session_pid(agents, "lint")
    result = check_at()
    lint = session(result, "lint")
    assert (lint.diagnosis, lint.action) == ("not_owned", "reported"), lint
    assert helpers.session_pid(agents, "lint") == pid and alive(pid)
    assert len(runs(tmp_path)) == 1
    assert sessions(agents) == ["lint"]


def test_an_editor_in_the_logged_session_is_not_owned(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("plan", FAIL, work))
    tmux = Tmux(agents)
    made = tmux.run("new-session", "-d", "-s", "plan", "-c", str(work))
    assert made.returncode == 0, made.stderr
    tmux.run("send-keys", "-t", "=plan:", "vim -u NONE -n README.md", "Enter")
    wait_command(agents, "=plan:", "vim")
    pane_pid = helpers.session_pid(agents, "plan")
    result = check_at()
    plan = session(result, "plan")
    assert (plan.diagnosis, plan.action) == ("not_owned", "reported"), plan
    assert helpers.session_pid(agents, "plan") == pane_pid
    wait_command(agents, "=plan:", "vim", 2)
    assert runs(tmp_path) == []


def test_a_remain_on_exit_dead_agent_pane_is_respawned_the_user_window_kept(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """`set -g remain-on-exit on`, the agent run without the hook: its pane dies with status 1."""
    work = helpers.work_dir(notes_dir)
    tmux = Tmux(agents)
    assert tmux.run("new-session", "-d", "-s", "keep").returncode == 0
    tmux.run("set-option", "-g", "remain-on-exit", "on")
    line = f"tmux -S {agents} new -d -s schema -c {work} {shlex.quote(FAIL)}"
    helpers.write_note(notes_dir, f"- `schema`: `{line}`\n")
    sh(line)
    user = tmux.run("new-window", "-d", "-t", "=schema:", "-P", "-F", "#{pane_id} #{pane_pid}")
    user_pane, user_pid = user.stdout.split()

    def dead() -> bool:
        return any(p["pane_dead"] == "1" for p in panes(agents, "schema"))

    assert retry_until(dead, 90, raises=False)
    schema = session(check_at(), "schema")
    assert (schema.diagnosis, schema.action) == ("failed", "restarted"), schema
    assert retry_until(lambda: len(runs(tmp_path)) == 2, 90, raises=False)
    left = {p["pane_id"]: p["pane_pid"] for p in panes(agents, "schema")}
    assert left.get(user_pane) == user_pid and alive(user_pid)
    assert sessions(agents) == ["keep", "schema"]


def test_a_dead_user_pane_beside_a_running_agent_is_left_dead(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("cache", FOREVER, work))
    helpers.start(agents, "cache", FOREVER, work)
    wait_for(agents, "cache", "exec")
    tmux = Tmux(agents)
    agent_pane = panes(agents, "cache")[0]["pane_id"]
    tmux.run("set-option", "-w", "-t", agent_pane, "remain-on-exit", "on")
    user_cmd = "sh -c 'echo 3 failed, 41 passed; exit 2'"
    split = tmux.run("split-window", "-d", "-t", agent_pane, "-P", "-F", "#{pane_id}", user_cmd)
    user_pane = split.stdout.strip()

    def user_dead() -> bool:
        return any(p["pane_id"] == user_pane and p["pane_dead"] == "1" for p in panes(agents))

    assert retry_until(user_dead, 90, raises=False)
    agent_pid = helpers.session_pid(agents, "cache").split()[0]
    for offset in (0, 300):
        cache = session(check_at(offset), "cache")
        assert (cache.diagnosis, cache.action) == ("healthy", "none"), cache
    assert user_dead()
    assert alive(agent_pid)
    assert len(agent_panes(agents)) == 1


def test_the_only_pane_respawned_by_the_user_is_not_owned(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Same session, same pane id the check saw; `respawn-pane -k` put `top` there."""
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("vector", FOREVER, work))
    helpers.start(agents, "vector", FOREVER, work)
    wait_for(agents, "vector", "exec")
    assert session(check_at(), "vector").diagnosis == "healthy"
    tmux = Tmux(agents)
    assert tmux.run("respawn-pane", "-k", "-t", "=vector:", "exec top -d 5").returncode == 0
    wait_command(agents, "=vector:", "top")
    pid = helpers.session_pid(agents, "vector")
    for offset in (60, 600):
        vector = session(check_at(offset), "vector")
        assert vector.action != "restarted", vector
        assert vector.diagnosis == "not_owned", vector
    assert helpers.session_pid(agents, "vector") == pid and alive(pid)
    assert agent_panes(agents) == []
    assert sessions(agents) == ["vector"]
