"""Faults around a check: tmux, the socket, the notifier, the state, the disk, the clock.

Each fault is real: a tmux server killed or frozen (SIGSTOP) at a chosen
moment, files where folders are expected, a tmpfs that is full, an
RLIMIT_FSIZE, a SIGKILL. What every test asserts is what a user needs from a
cron job: it ends in bounded time with a clear word (no traceback), it never
loses a byte of the note, and it never restarts what it should not.
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import signal
import socket as socketlib
import subprocess
import sys
import time
import typing as t

import pendulum
import pytest

import memory_schema as ms
from heartbeat.state import load_state
from heartbeat.tmux import Tmux
from tests import helpers
from tests.hardening import support
from tests.hardening.conftest import immutable, mounted

FAIL = "codex exec -s workspace-write 'scenario:fail go'"
FOREVER = "codex exec -s workspace-write 'scenario:work-forever go'"


def server_pid(socket: pathlib.Path) -> int:
    done = Tmux(socket).run("display-message", "-p", "#{pid}")
    return int(done.stdout.strip())


def note_with(notes_dir: pathlib.Path, *names: str, command: str = FOREVER) -> pathlib.Path:
    work = helpers.work_dir(notes_dir)
    return helpers.write_note(
        notes_dir, "".join(helpers.canonical(n, command, work) for n in names)
    )


def start_all(socket: pathlib.Path, *names: str, command: str = FOREVER) -> None:
    for name in names:
        helpers.start(socket, name, command, None)
    for name in names:
        helpers.wait_for_text(socket, name, "exec")


# ---------------------------------------------------------------------- tmux dies or hangs


@pytest.mark.slow
def test_server_killed_during_the_second_look(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The server dies while the check waits for its second look: no crash, no double restart."""
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(helpers.AGENTS), second_look_seconds=1
    )
    note_with(notes_dir, "gone", "alive")
    start_all(agents, "alive")

    def kill(_seconds: float) -> None:
        support.kill_server(agents)

    first = support.check_at(sleep=kill)
    assert support.session(first, "gone").action == "restarted"
    assert support.session(first, "alive").diagnosis == "healthy"
    helpers.wait_for_text(agents, "gone", "exec")
    # the next check finds `alive` gone with the server and restarts it, once
    second = support.check_at(offset=120)
    assert support.session(second, "alive").action == "restarted"
    assert support.session(second, "gone").action == "none"
    helpers.wait_for_text(agents, "alive", "exec")
    third = support.check_at(offset=240)
    assert {s.action for s in third.sessions} == {"none"}


@pytest.mark.slow
def test_server_killed_between_listing_and_capture(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real tmux wrapper kills the server just before the capture call of the probe."""
    note_with(notes_dir, "one", "two")
    start_all(agents, "one", "two")
    real = subprocess.run(["which", "tmux"], capture_output=True, text=True).stdout.strip()
    wrapper = tmp_path / "wrap"
    wrapper.mkdir()
    (wrapper / "tmux").write_text(
        "#!/bin/sh\n"
        f'case "$*" in *capture-pane*) {real} -S {agents} kill-server ;; esac\n'
        f'exec {real} "$@"\n'
    )
    (wrapper / "tmux").chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper}:{os.environ['PATH']}")
    during = support.check_at()
    monkeypatch.setenv("PATH", os.environ["PATH"].split(":", 1)[1])
    assert all(s.action != "restarted" for s in during.sessions), during.sessions
    after = support.check_at(offset=60)
    assert sorted(s.action for s in after.sessions) == ["restarted", "restarted"]
    assert after.server in {"no_server", "no_socket"}


@pytest.mark.slow
@pytest.mark.timeout(120)  # a hang guard: a frozen server, no timeout
def test_frozen_server_is_a_problem_within_the_timeout(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    note = note_with(notes_dir, "job")
    start_all(agents, "job")
    before = support.snapshot(note)
    pid = server_pid(agents)
    os.kill(pid, signal.SIGSTOP)
    try:
        result = support.check_at(tmux=Tmux(agents, timeout=2))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert result.exit_code == 1
    assert any("did not answer" in p.message for p in result.problems)
    assert result.sessions == []
    assert support.snapshot(note) == before


@pytest.mark.slow
def test_server_frozen_between_probe_and_restart(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The restart's tmux call times out: reported, the check goes on and saves its state."""
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(helpers.AGENTS), second_look_seconds=1
    )
    note = note_with(notes_dir, "job", "other")
    start_all(agents, "other")
    pid = server_pid(agents)

    def freeze(_seconds: float) -> None:
        os.kill(pid, signal.SIGSTOP)

    try:
        result = support.check_at(tmux=Tmux(agents, timeout=2), sleep=freeze)
    finally:
        os.kill(pid, signal.SIGCONT)
    job = support.session(result, "job")
    assert job.action == "reported"
    assert "did not answer" in job.detail
    assert "job died → reported" in note.read_text()
    assert load_state(tmp_path / "state").checks == 1


class Socket(t.NamedTuple):
    id: str
    make: t.Callable[[pathlib.Path], pathlib.Path]
    server: str


def regular_file(base: pathlib.Path) -> pathlib.Path:
    path = base / "sock"
    path.write_text("not a socket\n")
    return path


def dead_socket(base: pathlib.Path) -> pathlib.Path:
    path = base / "sock"
    sock = socketlib.socket(socketlib.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


def missing_folder(base: pathlib.Path) -> pathlib.Path:
    return base / "no-such-folder" / "sock"


def a_folder(base: pathlib.Path) -> pathlib.Path:
    path = base / "sock"
    path.mkdir()
    return path


SOCKETS = [
    Socket("regular-file", regular_file, "no_server"),
    Socket("socket-without-server", dead_socket, "no_server"),
    Socket("folder-missing", missing_folder, "no_socket"),
    Socket("a-folder", a_folder, "no_server"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", SOCKETS, ids=[c.id for c in SOCKETS])
def test_stale_or_missing_socket_is_one_incident(
    case: Socket,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    notify_log: pathlib.Path,
) -> None:
    socket = case.make(tmp_path)
    monkeypatch.setenv("HEARTBEAT_SOCKET", str(socket))
    note_with(notes_dir, "a", "b", command="sleep 600")
    try:
        run = support.run_cli("check", "--json")
        report = run.json
    finally:
        support.kill_server(socket)
    assert run.code == 1
    assert report["server"] == case.server, report
    assert report["server_message"]
    assert {s["diagnosis"] for s in report["sessions"]} == {"died"}
    for entry in report["sessions"]:
        assert entry["action"] == "restarted" or entry["detail"].startswith("restart failed")
    assert len(notify_log.read_text().splitlines()) == 1


def test_tmux_not_on_path_is_a_clear_problem(
    notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    note = note_with(notes_dir, "job", command="sleep 600")
    before = support.snapshot(note)
    helpers.write_config(tmp_path / "config.toml", path_prefix="")
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare)}
    for command in (["check", "--json"], ["status", "--json"]):
        run = support.run_cli(*command, env=env)
        assert run.code in (1, 2)
        problems = run.json["problems"]
        assert any("tmux is not on PATH" in p["message"] for p in problems), problems
    assert support.snapshot(note) == before


# ---------------------------------------------------------------------- the notifier


class Notifier(t.NamedTuple):
    id: str
    script: str
    error: str


NOTIFIERS = [
    Notifier("fails", "echo 'gateway not running' >&2; exit 1", "exited 1"),
    Notifier("hangs", "sleep 60", "timed out"),
    Notifier("leaves-a-daemon-on-stderr", "setsid sleep 60 &\necho $! > daemon.pid", ""),
    Notifier(
        "prints-a-megabyte",
        "head -c 1048576 /dev/zero | tr '\\0' x; head -c 1048576 /dev/zero | tr '\\0' y >&2"
        "; exit 1",
        "exited 1",
    ),
    Notifier("not-executable", "", "Permission denied"),
]


@pytest.mark.slow
@pytest.mark.timeout(120)  # a hang guard: a notifier that never returns
@pytest.mark.parametrize("case", NOTIFIERS, ids=[c.id for c in NOTIFIERS])
def test_a_bad_notifier_never_breaks_the_check(
    case: Notifier,
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        notify_timeout=1,
    )
    script = tmp_path / "notify"
    script.write_text(f"#!/bin/sh\n{case.script}\n")
    script.chmod(0o644 if case.id == "not-executable" else 0o755)
    monkeypatch.setenv("HEARTBEAT_NOTIFY", str(script))
    monkeypatch.chdir(tmp_path)
    note = note_with(notes_dir, "job")
    try:
        result = support.check_at()
    finally:
        daemon = tmp_path / "daemon.pid"
        if daemon.exists():
            os.kill(int(daemon.read_text()), signal.SIGKILL)
    assert support.session(result, "job").action == "restarted"
    [sent] = result.notifications
    if case.error:
        assert sent["sent"] is False
        assert case.error in str(sent["error"])
        assert len(str(sent["error"])) < 400
    else:
        assert (sent["sent"], sent["error"]) == (True, None)
    assert "job died → restarted" in note.read_text()
    assert load_state(tmp_path / "state").checks == 1


# ---------------------------------------------------------------------- the state


class BadState(t.NamedTuple):
    id: str
    data: bytes


BAD_STATES = [
    BadState("not-json", b"{not json"),
    BadState("truncated", b'{"sessions": {"job": {"restarts": [17000000'),
    BadState("empty", b""),
    BadState("a-list", b"[1, 2, 3]"),
    BadState("binary", b"\xff\xfe\x00" * 100),
    BadState("wrong-types", b'{"sessions": {"job": {"restarts": "x", "failures": "y"}}}'),
    BadState("session-not-an-object", b'{"sessions": {"job": 5}, "checks": "many"}'),
    BadState("events-wrong", b'{"log_events": [{"time": "x"}], "log_offsets": {"a": 3}}'),
    BadState("nulls", b'{"sessions": {"job": {"restarts": [null]}}, "last_check": "x"}'),
]


@pytest.mark.parametrize("case", BAD_STATES, ids=[c.id for c in BAD_STATES])
def test_corrupt_state_is_moved_aside_and_the_check_goes_on(
    case: BadState, agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "state.json").write_bytes(case.data)
    note_with(notes_dir, "job")
    result = support.check_at()
    assert support.session(result, "job").action == "restarted"
    assert any("state" in w for w in result.warnings), result.warnings
    assert json.loads((state_dir / "state.json").read_bytes())["checks"] == 1
    helpers.wait_for_text(agents, "job", "exec")
    again = support.check_at(offset=60)
    assert support.session(again, "job").action == "none"
    assert again.warnings == []


class StateFolder(t.NamedTuple):
    id: str
    make: t.Callable[[pathlib.Path], object]


STATE_FOLDERS = [
    StateFolder("state-folder-is-a-file", lambda d: d.write_text("a file\n")),
    StateFolder("lock-is-a-folder", lambda d: (d / "check.lock").mkdir(parents=True)),
]


@pytest.mark.parametrize("case", STATE_FOLDERS, ids=[c.id for c in STATE_FOLDERS])
def test_unusable_state_folder_is_a_configuration_error(
    case: StateFolder, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    case.make(tmp_path / "state")
    note = note_with(notes_dir, "job", command="sleep 600")
    before = support.snapshot(note)
    run = support.run_cli("check")
    assert run.code == 2, run.stderr
    assert "state" in run.stderr and "HEARTBEAT_STATE_DIR" in run.stderr
    assert support.snapshot(note) == before
    assert not os.path.lexists(os.environ["HEARTBEAT_SOCKET"])


@pytest.mark.slow
def test_unwritable_state_restarts_nothing(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Without a state the budget cannot be kept: a failing agent must not restart every check."""
    (tmp_path / "state" / "state.json").mkdir(parents=True)
    note_with(notes_dir, "job", command=FAIL)
    helpers.start(agents, "job", FAIL, None)
    for step in range(6):
        helpers.wait_exited(agents, "job")
        result = support.check_at(offset=step * 600)
        job = support.session(result, "job")
        assert job.action != "restarted", job
        assert "state" in job.detail
        assert any("cannot be written" in w for w in result.warnings)
    assert len(support.runs(tmp_path)) == 1


@pytest.mark.slow
def test_immutable_state_folder_restarts_nothing(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The lock file exists from earlier checks; the folder then refuses new files."""
    state_dir = tmp_path / "state"
    support.check_at()  # a check with nothing to watch leaves the lock and the state
    note_with(notes_dir, "job", command=FAIL)
    with immutable(state_dir):
        result = support.check_at()
    assert support.session(result, "job").action == "reported"
    assert "state cannot be saved" in support.session(result, "job").detail
    assert support.runs(tmp_path) == []


# ---------------------------------------------------------------------- the notes' disk


@pytest.mark.slow
def test_immutable_notes_folder_keeps_the_note_and_says_so(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    note = note_with(notes_dir, "job")
    before = support.snapshot(note)
    with immutable(notes_dir):
        result = support.check_at()
    assert support.session(result, "job").action == "restarted"
    assert any("the note was not written" in w for w in result.warnings), result.warnings
    assert support.snapshot(note) == before
    assert sorted(os.listdir(notes_dir)) == [note.name]


@pytest.mark.slow
def test_read_only_notes_mount_keeps_the_note_and_says_so(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    note = note_with(notes_dir, "job")
    before = support.snapshot(note)
    with mounted(["--bind", str(notes_dir)], notes_dir):
        done = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(notes_dir)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({done.stderr.strip()})")
        result = support.check_at()
    assert support.session(result, "job").action == "restarted"
    assert any("Read-only file system" in w for w in result.warnings), result.warnings
    assert support.snapshot(note) == before


def fill(path: pathlib.Path) -> None:
    """Fill the filesystem of *path* to the last byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (4096, 1):
            try:
                while os.write(fd, b"x" * chunk):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def prose_note(notes_dir: pathlib.Path, size: int) -> pathlib.Path:
    """Today's note with a died session and *size* bytes of other sections around it."""
    filler = "".join(
        f"## 1{i % 10}:00 UTC - topic {i}\n\nWhat happened, in prose.\n\n"
        for i in range(size // 50)
    )
    note = notes_dir / f"{helpers.today()}.md"
    note.write_text(
        f"# {helpers.today()}\n\n{filler}## Active Long-Running Processes\n\n"
        + helpers.canonical("job", FOREVER, helpers.work_dir(notes_dir))
        + "\n## Later\n\nMore prose.\n"
    )
    return note


@pytest.mark.slow
def test_full_disk_keeps_the_note_then_the_next_check_writes(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    with mounted(["-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs"], notes_dir):
        note = prose_note(notes_dir, 60_000)
        before = support.snapshot(note)
        filler = notes_dir / ".filler"
        fill(filler)
        result = support.check_at()
        assert support.session(result, "job").action == "restarted"
        assert any("No space left" in w for w in result.warnings), result.warnings
        assert support.snapshot(note) == before
        assert sorted(os.listdir(notes_dir)) == [".filler", note.name]
        filler.unlink()
        helpers.wait_for_text(agents, "job", "exec")
        support.kill_server(agents)
        later = support.check_at(offset=300)
        assert later.note_written
        text = note.read_text()
        assert before is not None
        assert text.startswith(before[0].decode()[: before[0].index(b"## Active")])
        assert "job died → restarted" in text


def long_line_note(notes_dir: pathlib.Path, size: int) -> pathlib.Path:
    """Today's note with a died session and *size* bytes of prose in long lines."""
    line = "Prose the assistant wrote, in one long paragraph line. " * 20 + "\n\n"
    note = notes_dir / f"{helpers.today()}.md"
    note.write_text(
        f"# {helpers.today()}\n\n## Active Long-Running Processes\n\n"
        + helpers.canonical("job", FOREVER, helpers.work_dir(notes_dir))
        + "\n## Log\n\n"
        + line * (size // len(line))
    )
    return note


@pytest.mark.slow
def test_file_size_limit_keeps_the_note(agents: pathlib.Path, notes_dir: pathlib.Path) -> None:
    """RLIMIT_FSIZE applies to root too: the installed binary cannot write past 1 MiB.

    The note (1.5 MB) cannot be rewritten; the state and the debug log (which
    rotates at 1 MiB) can. The note must be left exactly as it was.
    """
    note = long_line_note(notes_dir, 1_500_000)
    before = support.snapshot(note)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    done = subprocess.run(
        [str(support.HEARTBEAT), "check", "--json"],
        capture_output=True,
        text=True,
        timeout=support.BOUND_SECONDS,
        preexec_fn=limit,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert any("File too large" in w for w in report["warnings"]), report["warnings"]
    assert support.snapshot(note) == before
    assert sorted(os.listdir(notes_dir)) == [note.name]


def test_a_debug_log_that_cannot_grow_prints_no_traceback(
    notes_dir: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The debug log is past the file size limit (`ulimit -f` in a cron environment)."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "heartbeat.log").write_text("x" * 100_000 + "\n")
    monkeypatch.setenv("HEARTBEAT_NOTIFY", "/bin/false")  # a warning to log
    note_with(notes_dir, "job", command="sleep 600")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    done = subprocess.run(
        [str(support.HEARTBEAT), "check", "--no-restart"],
        capture_output=True,
        text=True,
        timeout=support.BOUND_SECONDS,
        preexec_fn=limit,
        check=False,
    )
    assert done.returncode == 1
    assert "notify failed" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.timeout(120)  # a hang guard: a check over a 7 MiB note takes under a second
def test_oversized_today_note_is_never_rewritten(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    """Yesterday lists a died session; today's note is over the size cap: no carry, no edit."""
    yesterday = pendulum.now().subtract(days=1).format("YYYY-MM-DD")
    helpers.write_note(
        notes_dir, helpers.canonical("job", FOREVER, helpers.work_dir(notes_dir)), day=yesterday
    )
    today = notes_dir / f"{helpers.today()}.md"
    with today.open("wb") as handle:  # few, long lines: under the line cap, over the byte cap
        handle.write(b"# today\n" + (b"Some prose. " * 8000 + b"\n") * 100)
    before = support.snapshot(today)
    result = support.check_at()
    assert any("bytes, over" in p.message for p in result.problems)
    assert support.snapshot(today) == before


# ---------------------------------------------------------------------- SIGKILL mid-write

PAUSE_AT_FSYNC = """
import os, re, sys, time
real, seen, pattern, at = os.fsync, [0], re.compile(sys.argv[1]), int(sys.argv[2])
def fsync(fd):
    if pattern.search(os.readlink(f"/proc/self/fd/{fd}")):
        seen[0] += 1
        if seen[0] == at:
            sys.stderr.write("PAUSED\\n"); sys.stderr.flush(); time.sleep(60)
    real(fd)
os.fsync = fsync
sys.argv = ["heartbeat", "check"]
from heartbeat.cli import main
main()
"""


class Kill(t.NamedTuple):
    id: str
    #: The fsync'd path (regex) and which of its fsyncs the SIGKILL lands on.
    pattern: str
    at: int
    #: Whether the note is still the original, and what the next check then does.
    original: bool
    then: str


KILLS = [
    Kill("state-before-the-restart", r"/state/\.state\.json\..*\.tmp$", 1, True, "restarted"),
    Kill("note-temp-written", r"/memory/\..*\.md\..*\.tmp$", 1, True, "none"),
    Kill("note-renamed", r"/memory$", 1, False, "none"),
    Kill("state-after-the-note", r"/state/\.state\.json\..*\.tmp$", 2, False, "none"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", KILLS, ids=[c.id for c in KILLS])
def test_sigkill_while_writing_keeps_the_note_and_the_next_check_is_fine(
    case: Kill, agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """A real SIGKILL lands at a chosen fsync of a check that restarts and writes.

    Pausing the installed code at an fsync is only a way to aim the kill;
    everything else is the real binary's code. Linux /proc names the file.
    """
    note = prose_note(notes_dir, 20_000)
    original = note.read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSE_AT_FSYNC, case.pattern, str(case.at)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert line.startswith("PAUSED"), line + process.stderr.read()
    text = note.read_bytes()
    kept = ms.read_note(note)
    assert kept.problems == []
    assert [e.name for e in kept.entries] == ["job"]
    if case.original:
        assert text == original
    else:
        assert "job died → restarted" in text.decode()
        assert text.startswith(original[: original.index(b"## Active")])
        assert text.endswith(b"\n")
    # the next check is fine: no crash, no second restart, no leftover in the notes folder
    if case.then == "none":
        helpers.wait_for_text(agents, "job", "exec")
    result = support.check_at(offset=60)
    job = support.session(result, "job")
    assert job.action == case.then
    final = note.read_bytes()
    assert final.startswith(original[: original.index(b"## Active")])
    assert b"## Later\n\nMore prose.\n" in final
    # a temporary copy left by the kill is removed by the next write to the note
    code, _out, err = helpers.cli("notes", "add", "other", "--command", "sleep 1")
    assert code == 0, err
    assert sorted(os.listdir(notes_dir)) == [note.name]


@pytest.mark.slow
def test_sigkill_at_random_moments_never_tears_the_note(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    note = prose_note(notes_dir, 200_000)
    original = note.read_bytes()
    head = original[: original.index(b"## Active")]
    for delay in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
        support.kill_server(agents)
        process = subprocess.Popen(
            [str(support.HEARTBEAT), "check"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        text = note.read_bytes()
        assert text.startswith(head)
        assert b"## Later\n\nMore prose.\n" in text
        parsed = ms.read_note(note)
        assert [e.name for e in parsed.entries] == ["job"]
    result = support.check_at(offset=60)
    assert support.session(result, "job").diagnosis in {"died", "healthy"}
    assert note.read_bytes().startswith(head)


# ---------------------------------------------------------------------- the clock


def restarts_in_any_hour(times: list[float]) -> int:
    return max((sum(1 for u in times if t0 <= u < t0 + 3600) for t0 in times), default=0)


@pytest.mark.slow
def test_clock_jumping_back_hours_does_not_hold_a_restart_for_hours(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    note_with(notes_dir, "job", command=FAIL)
    helpers.start(agents, "job", FAIL, None)
    base = pendulum.now()
    helpers.wait_exited(agents, "job")
    assert support.session(support.check_at(base), "job").action == "restarted"
    helpers.wait_exited(agents, "job")
    # the clock is set back five hours (NTP, a wrong RTC, a VM resumed)
    back = base.subtract(hours=5)
    actions = []
    for minutes in (0, 3, 6, 9, 12, 15):
        helpers.wait_exited(agents, "job")
        actions.append(support.session(support.check_at(back, minutes * 60), "job").action)
    assert "restarted" in actions[:3], actions
    assert actions.count("restarted") <= 2  # three in all within the (real) hour
    assert len(support.runs(tmp_path)) <= 4


@pytest.mark.slow
def test_clock_jumping_forward_hours_keeps_the_budget_per_hour(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    note_with(notes_dir, "job", command=FAIL)
    helpers.start(agents, "job", FAIL, None)
    base = pendulum.now()
    restarts = []
    for offset in (0, 65, 3 * 3600, 3 * 3600 + 65, 3 * 3600 + 200, 3 * 3600 + 500, 3 * 3600 + 1000):
        helpers.wait_exited(agents, "job")
        result = support.check_at(base, offset)
        if support.session(result, "job").action == "restarted":
            restarts.append(base.timestamp() + offset)
    assert restarts_in_any_hour(restarts) <= 3
    assert len(restarts) >= 3


class Dst(t.NamedTuple):
    id: str
    zone: str
    start: str


DST = [
    Dst("berlin-fall-back", "Europe/Berlin", "2026-10-25T01:40:00"),
    Dst("new-york-fall-back", "America/New_York", "2026-11-01T00:40:00"),
    Dst("berlin-spring-forward", "Europe/Berlin", "2026-03-29T01:40:00"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", DST, ids=[c.id for c in DST])
def test_a_dst_day_keeps_the_budget_in_real_time(
    case: Dst,
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEARTBEAT_TZ", case.zone)
    start = pendulum.parse(case.start, tz=case.zone)
    assert isinstance(start, pendulum.DateTime)
    day = start.format("YYYY-MM-DD")
    work = helpers.work_dir(notes_dir)
    note = helpers.write_note(notes_dir, helpers.canonical("job", FAIL, work), day=day)
    helpers.start(agents, "job", FAIL, None)
    restarts = []
    for step in range(16):  # every 10 minutes for 2.5 hours across the change
        now = start.add(minutes=10 * step)
        helpers.wait_exited(agents, "job")
        result = support.check_at(now)
        assert result.notes[-1].endswith(f"{now.format('YYYY-MM-DD')}.md")
        if support.session(result, "job").action == "restarted":
            restarts.append(now.timestamp())
    assert 1 <= len(restarts) <= 3
    assert restarts_in_any_hour(restarts) <= 3
    assert "job failed → gave up" in note.read_text()


@pytest.mark.slow
def test_midnight_passing_between_checks_carries_without_a_second_restart(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # the injected clock is not the panes' clock: keep them from looking stalled
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        stall_minutes=100_000,
    )
    late = pendulum.now().replace(hour=23, minute=59, second=59, microsecond=0)
    day, next_day = late.format("YYYY-MM-DD"), late.add(days=1).format("YYYY-MM-DD")
    old = helpers.write_note(
        notes_dir,
        "- night: `codex exec -s workspace-write 'scenario:work-forever go'` (started 23:58)\n"
        f"  - dir: {helpers.work_dir(notes_dir)}\n",
        day=day,
    )
    first = support.check_at(late)
    assert support.session(first, "night").action == "restarted"
    assert "23:59 night died → restarted" in old.read_text()
    written = old.read_bytes()
    helpers.wait_for_text(agents, "night", "exec")
    second = support.check_at(late, 61)
    assert support.session(second, "night").action == "none"
    new = notes_dir / f"{next_day}.md"
    assert new.read_text().startswith(f"# {next_day}\n")
    assert "`night` — running" in new.read_text()
    assert old.read_bytes() == written
    assert len(support.runs(tmp_path)) <= 1


# ---------------------------------------------------------------------- the codex log


class Log(t.NamedTuple):
    id: str
    #: What takes the log's place, once its folder exists.
    kind: str


def odd_log(path: pathlib.Path, kind: str) -> None:
    path.parent.mkdir(parents=True)
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "binary":
        path.write_bytes(os.urandom(200_000))
    else:
        path.symlink_to(path.parent / "gone")


LOGS = [
    Log("a-folder", "folder"),
    Log("a-fifo", "fifo"),
    Log("a-device", "device"),
    Log("binary", "binary"),
    Log("dangling-link", "dangling"),
]


@pytest.mark.parametrize("case", LOGS, ids=[c.id for c in LOGS])
def test_odd_codex_log_never_breaks_the_check(
    case: Log, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    odd_log(tmp_path / "codex" / "log" / "codex-tui.log", case.kind)
    helpers.write_config(tmp_path / "config.toml", second_look_seconds=0)
    note_with(notes_dir, "job", command="codex exec 'x'")
    run = support.run_cli("check", "--json", "--no-restart")
    assert run.code == 1
    assert [s["name"] for s in run.json["sessions"]] == ["job"]


@pytest.mark.slow
def test_bare_start_time_before_midnight_still_counts_the_codex_log(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """`started 23:58` in yesterday's note is yesterday's 23:58, not today's.

    Read as today's (in the future), it would hide the auth failure logged at
    00:10 and the check would restart into an expired token.
    """
    morning = pendulum.today().add(minutes=15)
    yesterday = morning.subtract(days=1).format("YYYY-MM-DD")
    helpers.write_note(
        notes_dir,
        "- night: `codex exec -s workspace-write 'scenario:work-forever go'` (started 23:58)\n"
        f"  - dir: {helpers.work_dir(notes_dir)}\n",
        day=yesterday,
    )
    log = tmp_path / "codex" / "log" / "codex-tui.log"
    log.parent.mkdir(parents=True)
    stamp = morning.subtract(minutes=5).in_tz("UTC").format("YYYY-MM-DDTHH:mm:ss.SSSSSS")
    log.write_text(f"{stamp}Z ERROR codex_core::auth: Failed to refresh token: 401 Unauthorized\n")
    result = support.check_at(morning)
    night = support.session(result, "night")
    assert night.diagnosis == "auth_expired", night
    assert night.action != "restarted"
    assert support.runs(tmp_path) == []
