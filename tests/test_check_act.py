"""`heartbeat check` acting: restarts, budget, holds, blocks, write-back, notify, lock.

Real tmux on a private socket, stand-in agents on PATH, real git; the clock is
injected into `run_check` so that an hour of restarts takes seconds.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import typing as t

import pendulum
import pytest
from libtmux.test.retry import retry_until

from heartbeat.check import CheckResult, check_lock, run_check
from heartbeat.config import load_settings
from tests import helpers


def check_at(offset: float = 0.0, **kwargs: t.Any) -> CheckResult:
    now = pendulum.now().add(seconds=offset)
    return run_check(load_settings(), now, sleep=lambda _: None, **kwargs)


def session(result: CheckResult, name: str) -> t.Any:
    return next(s for s in result.sessions if s.name == name)


def runs(tmp_path: pathlib.Path) -> list[str]:
    log = tmp_path / "runs.log"
    return log.read_text().splitlines() if log.exists() else []


def test_died_session_is_restarted_and_runs_again(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    command = "codex exec -s workspace-write 'scenario:work-forever go'"
    note = helpers.write_note(notes_dir, helpers.canonical("job", command, repo))
    result = check_at()
    job = session(result, "job")
    assert (job.diagnosis, job.action) == ("died", "restarted")
    helpers.wait_for_text(agents, "job", "exec")
    text = note.read_text()
    assert "- `job` — restarted" in text
    assert "job died → restarted (1/3)" in text
    second = check_at(5)
    assert (session(second, "job").diagnosis, session(second, "job").action) == (
        "healthy",
        "none",
    )
    assert "- `job` — running" in note.read_text()
    from heartbeat.tmux import Tmux

    started = Tmux(agents).run("list-panes", "-t", "=job:", "-F", "#{pane_start_command}")
    assert command in started.stdout.replace("\\'", "'")  # the note's command, re-run
    assert f"cd {repo}" in started.stdout


def test_exits_at_once_restarts_three_times_then_gives_up_once(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path, notify_log: pathlib.Path
) -> None:
    command = "codex exec -s workspace-write 'scenario:fail go'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    helpers.start(agents, "job", command, None)
    actions = []
    offset = 0.0
    for step in range(6):
        helpers.wait_exited(agents, "job")
        result = check_at(offset)
        actions.append(session(result, "job").action)
        offset += 60 * 2**step + 5  # past each growing delay: 1, 2, 4 … minutes
    assert actions[:3] == ["restarted"] * 3
    assert actions[3:] == ["gave_up"] * 3
    assert len(runs(tmp_path)) == 4  # the first run and three restarts
    notices = notify_log.read_text().splitlines()
    assert sum("gave up" in line for line in notices) == 1
    assert session(result, "job").restarts == 3


def test_restart_waits_for_the_growing_delay(agents: pathlib.Path, notes_dir: pathlib.Path) -> None:
    command = "codex exec -s workspace-write 'scenario:fail go'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    helpers.start(agents, "job", command, None)
    helpers.wait_exited(agents, "job")
    assert session(check_at(0), "job").action == "restarted"
    helpers.wait_exited(agents, "job")
    held = session(check_at(30), "job")
    assert held.action == "backoff"
    assert "next restart after" in held.detail
    again = session(check_at(65), "job")
    assert again.action == "restarted", again


def test_auth_blocked_is_not_restarted_until_resumed(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    command = "codex exec -s workspace-write 'scenario:auth fix'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    helpers.start(agents, "job", command, None)
    helpers.wait_exited(agents, "job")
    pid = helpers.session_pid(agents, "job")
    for offset in (0, 600, 7200):
        job = session(check_at(offset), "job")
        assert (job.diagnosis, job.action) == ("auth_expired", "reported")
        assert "codex login" in job.hint and "codex auth login" in job.hint
    assert helpers.session_pid(agents, "job") == pid
    assert len(runs(tmp_path)) == 1
    # the user logs in again and resumes: the next check restarts it
    subprocess.run(["codex", "login"], check=True, capture_output=True)
    code, _out, err = helpers.cli("notes", "resume", "job")
    assert code == 0, err
    job = session(check_at(7300), "job")
    assert (job.diagnosis, job.action) == ("failed", "restarted")
    assert helpers.session_pid(agents, "job") != pid


def test_two_rate_limited_sessions_restart_one_per_check(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    command = "codex exec -s workspace-write 'scenario:ratelimit go'"
    helpers.write_note(
        notes_dir,
        helpers.canonical("one", command, helpers.work_dir(notes_dir))
        + helpers.canonical("two", command, helpers.work_dir(notes_dir)),
    )
    for name in ("one", "two"):
        helpers.start(agents, name, command, None)
        helpers.wait_exited(agents, name)
    first = check_at(0)
    assert [session(first, n).action for n in ("one", "two")] == ["backoff", "backoff"]
    assert "reduce parallelism" in session(first, "one").hint
    second = check_at(3 * 3600)
    actions = sorted(session(second, n).action for n in ("one", "two"))
    assert actions == ["backoff", "restarted"]
    staggered = next(s for s in second.sessions if s.action == "backoff")
    assert "one rate-limited restart per check" in staggered.detail
    third = check_at(3 * 3600 + 60)
    assert session(third, staggered.name).action == "restarted"


def test_usage_limit_holds_until_the_stated_reset(
    agents: pathlib.Path, notes_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset = pendulum.now().add(hours=2)
    monkeypatch.setenv("STANDIN_RESET", reset.format("h:mm A"))
    command = "codex exec -s workspace-write 'scenario:usagelimit go'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    helpers.start(agents, "job", command, None)
    helpers.wait_exited(agents, "job")
    first = session(check_at(0), "job")
    assert first.action == "backoff"
    held_until = reset.add(minutes=2).format("HH:mm")
    assert held_until in first.detail
    assert session(check_at(2 * 3600 - 60), "job").action == "backoff"
    assert session(check_at(2 * 3600 + 180), "job").action == "restarted"


def test_healthy_session_is_never_restarted_and_quiet_check_writes_nothing(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    command = "codex exec -s workspace-write 'scenario:work-forever go'"
    note = helpers.write_note(
        notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir))
    )
    helpers.start(agents, "job", command, None)
    helpers.wait_for_text(agents, "job", "exec")
    pid = helpers.session_pid(agents, "job")
    before = (note.read_bytes(), note.stat().st_mtime_ns)
    for offset in (0, 300, 600):
        result = check_at(offset)
        assert session(result, "job").action == "none"
        assert not result.note_written
    assert helpers.session_pid(agents, "job") == pid
    assert (note.read_bytes(), note.stat().st_mtime_ns) == before


def test_prefix_name_is_never_confused(agents: pathlib.Path, notes_dir: pathlib.Path) -> None:
    command = "codex exec -s workspace-write 'scenario:work-forever go'"
    helpers.write_note(
        notes_dir,
        helpers.canonical("auth", command, helpers.work_dir(notes_dir))
        + helpers.canonical("auth-fix", command, helpers.work_dir(notes_dir)),
    )
    helpers.start(agents, "auth-fix", command, None)
    helpers.wait_for_text(agents, "auth-fix", "exec")
    pid = helpers.session_pid(agents, "auth-fix")
    result = check_at()
    assert session(result, "auth").action == "restarted"
    assert session(result, "auth-fix").action == "none"
    assert helpers.session_pid(agents, "auth-fix") == pid
    assert helpers.session_pid(agents, "auth") not in ("", pid)


def test_second_look_cancels_a_restart_when_output_moves(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """A pane that prints again between the two samples is not restarted."""
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(helpers.AGENTS), second_look_seconds=1
    )
    command = "sh -c 'echo EXITED: 1; exec sleep 999999'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    from heartbeat.tmux import Tmux

    tmux = Tmux(agents)
    assert tmux.new_session("job", command).returncode == 0
    helpers.wait_for_text(agents, "job", "EXITED: 1")
    pid = helpers.session_pid(agents, "job")

    def someone_types(seconds: float) -> None:
        tmux.run("send-keys", "-t", "=job:", "still here")
        helpers.wait_for_text(agents, "job", "still here")

    result = run_check(load_settings(), pendulum.now(), sleep=someone_types)
    job = session(result, "job")
    assert job.diagnosis == "failed"
    assert job.action == "none"
    assert "new output on a second look" in job.detail
    assert helpers.session_pid(agents, "job") == pid


def test_second_look_cancels_a_restart_when_the_session_is_back(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """A session gone at the first sample and back at the second is left alone."""
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(helpers.AGENTS), second_look_seconds=1
    )
    helpers.write_note(
        notes_dir, helpers.canonical("job", "sleep 600", helpers.work_dir(notes_dir))
    )
    from heartbeat.tmux import Tmux

    tmux = Tmux(agents)

    def user_starts_it(seconds: float) -> None:
        assert tmux.new_session("job", "sleep 600").returncode == 0

    result = run_check(load_settings(), pendulum.now(), sleep=user_starts_it)
    job = session(result, "job")
    assert (job.diagnosis, job.action) == ("died", "none")
    assert "the session exists again" in job.detail


def test_server_gone_is_one_incident_with_staggered_restarts(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path, notify_log: pathlib.Path
) -> None:
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        max_restarts_per_check=2,
    )
    command = "codex exec -s workspace-write 'scenario:work-forever go'"
    helpers.write_note(
        notes_dir,
        "".join(helpers.canonical(n, command, helpers.work_dir(notes_dir)) for n in "abc"),
    )
    result = check_at()
    assert result.server in {"no_socket", "no_server"}
    assert sorted(s.action for s in result.sessions) == ["backoff", "restarted", "restarted"]
    notices = notify_log.read_text().splitlines()
    assert len(notices) == 1
    assert "tmux server down" in notices[0]
    later = check_at(120)
    assert [s.action for s in later.sessions if s.diagnosis == "died"] == ["restarted"]


def test_failing_and_hanging_notifiers_do_not_break_the_check(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    helpers.write_note(
        notes_dir,
        helpers.canonical("job", "codex exec 'scenario:fail x'", helpers.work_dir(notes_dir)),
    )
    monkeypatch.setenv("HEARTBEAT_NOTIFY", "sh -c 'echo boom >&2; exit 3'")
    failing = check_at()
    assert session(failing, "job").action == "restarted"
    assert failing.notifications and "exited 3" in str(failing.notifications[0]["error"])
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        notify_timeout=1,
    )
    monkeypatch.setenv("HEARTBEAT_NOTIFY", "sh -c 'sleep 60'")
    helpers.wait_exited(agents, "job")
    hanging = check_at(120)
    assert session(hanging, "job").action == "restarted"
    assert "timed out" in str(hanging.notifications[0]["error"])


def test_second_concurrent_check_exits_3(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    helpers.write_note(
        notes_dir,
        helpers.canonical("job", "codex exec 'scenario:ok x'", helpers.work_dir(notes_dir)),
    )
    with check_lock(tmp_path / "state"):
        code, _out, err = helpers.cli("check")
    assert code == 3
    assert f"pid {os.getpid()}" in err
    # and two real processes started together: one of them exits 3
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(helpers.AGENTS), second_look_seconds=3
    )
    exe = pathlib.Path(sys.executable).parent / "heartbeat"
    procs = [
        subprocess.Popen([str(exe), "check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    codes = sorted(p.wait(timeout=60) for p in procs)
    assert 3 in codes
    assert codes.count(3) == 1


def test_carry_from_yesterday_into_a_new_note(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    yesterday = pendulum.now().subtract(days=1).format("YYYY-MM-DD")
    command = "codex exec -s workspace-write 'scenario:work-forever go'"
    old = helpers.write_note(notes_dir, "- night: `" + command + "`\n", day=yesterday)
    old_bytes = old.read_bytes()
    helpers.start(agents, "night", command, None)
    helpers.wait_for_text(agents, "night", "exec")
    result = check_at()
    assert session(result, "night").diagnosis == "healthy"
    today = notes_dir / f"{helpers.today()}.md"
    text = today.read_text()
    assert text.startswith(f"# {helpers.today()}\n")
    assert "- `night` — running" in text
    assert old.read_bytes() == old_bytes
    assert not check_at(60).note_written  # carried once


def test_loose_permissions_refuse_the_notes(agents: pathlib.Path, notes_dir: pathlib.Path) -> None:
    helpers.write_note(
        notes_dir,
        helpers.canonical("job", "codex exec 'scenario:ok x'", helpers.work_dir(notes_dir)),
    )
    notes_dir.chmod(0o777)
    try:
        result = check_at()
    finally:
        notes_dir.chmod(0o755)
    assert result.sessions == []
    assert any("chmod go-w" in p.message for p in result.problems)
    assert result.exit_code == 1
    assert not retry_until(lambda: helpers.pane_text(agents, "job") != "", 1, raises=False)


def test_tmux_calls_do_not_grow_with_sessions(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counted through a wrapper `tmux` on PATH, for 1 and 20 sessions."""
    wrapper_dir = tmp_path / "wrap"
    wrapper_dir.mkdir()
    count = tmp_path / "tmux-calls"
    real = subprocess.run(["which", "tmux"], capture_output=True, text=True).stdout.strip()
    (wrapper_dir / "tmux").write_text(f'#!/bin/sh\necho x >> {count}\nexec {real} "$@"\n')
    (wrapper_dir / "tmux").chmod(0o755)
    command = "codex exec -s workspace-write 'scenario:work-forever go'"
    calls = {}
    for n in (1, 20):
        names = [f"s{n}-{i}" for i in range(n)]
        helpers.write_note(
            notes_dir,
            "".join(helpers.canonical(x, command, helpers.work_dir(notes_dir)) for x in names),
        )
        for name in names:
            helpers.start(agents, name, command, None)
        for name in names:
            helpers.wait_for_text(agents, name, "exec")
        monkeypatch.setenv("PATH", f"{wrapper_dir}:{os.environ['PATH']}")
        count.unlink(missing_ok=True)
        _code, report = helpers.check_json("--dry-run")
        monkeypatch.setenv("PATH", os.environ["PATH"].split(":", 1)[1])
        assert {s["diagnosis"] for s in report["sessions"] if s["name"] in names} == {"healthy"}
        calls[n] = len(count.read_text().splitlines())
        assert report["tmux_calls"] == calls[n]
    assert calls[1] == calls[20] == 2


def test_quiet_check_prints_only_what_changed(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    """What cron appends to cron.log: nothing on a quiet check, one stamped line per event."""
    command = "codex exec -s workspace-write 'scenario:work-forever go'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    code, out, _err = helpers.cli("check", "--quiet")
    assert code == 1
    assert "job died → restarted (1/3)" in out
    assert len(out.strip().splitlines()) == 1
    helpers.wait_for_text(agents, "job", "exec")
    code, out, _err = helpers.cli("check", "--quiet")
    assert out.strip().endswith("job healthy again")
    code, out, _err = helpers.cli("check", "--quiet")
    assert (code, out) == (0, "")


def test_read_and_exit_is_wrapped_in_a_ralph_loop_only_when_configured(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    command = "codex exec -s workspace-write 'scenario:read-exit look around'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, repo))
    helpers.start(agents, "job", command, repo)
    helpers.wait_exited(agents, "job")
    pid = helpers.session_pid(agents, "job")
    job = session(check_at(), "job")
    assert (job.diagnosis, job.action) == ("read_and_exit", "reported")
    assert "Ralph loop" in job.hint
    assert helpers.session_pid(agents, "job") == pid
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        auto_ralph=True,
    )
    job = session(check_at(60), "job")
    assert (job.diagnosis, job.action) == ("read_and_exit", "restarted")
    assert "Ralph loop" in job.detail
    helpers.wait_for_text(agents, "job", "[INFO] Running task with Codex...")
    from heartbeat.tmux import Tmux

    started = Tmux(agents).run("list-panes", "-t", "=job:", "-F", "#{pane_start_command}")
    assert "ralphy --codex 'scenario:read-exit look around'" in started.stdout


def test_a_hash_in_the_command_does_not_swallow_the_completion_hook(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    """`fix #42` starts a shell comment: the hook must not be on the command's line."""
    command = "echo fixing #42 and the rest is a comment; exit 3"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    helpers.start(agents, "job", command, helpers.work_dir(notes_dir))
    helpers.wait_for_text(agents, "job", "EXITED: 0")
    job = session(check_at(), "job")
    assert (job.state, job.exit_code) == ("exited", 0)  # the hook ran: the check saw it finish


STAGES = {
    "heartbeat.check.observe": "observe",
    "heartbeat.check.identity": "observe",
    "heartbeat.check.decide": "decide",
    "heartbeat.check.rules": "decide",
    "heartbeat.check.act": "act",
    "heartbeat.check.journal": "journal",
}


def test_a_session_walks_from_the_note_to_a_restart_through_each_stage_once(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    """Observe, decide, act, journal, in that order; nothing goes back to an earlier stage.

    A profiler hook records the module of every stage function called (a spy: it changes
    nothing); reading the frozen Observation, Decision and Outcome is not a stage.
    """
    import sys

    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("job", "sleep 600", work))
    order: list[str] = []

    def spy(frame: t.Any, event: str, arg: object) -> None:
        if event == "call":
            stage = STAGES.get(frame.f_globals.get("__name__", ""))
            # the stages' functions, not the accessors of the frozen records they pass on
            function = frame.f_globals.get(frame.f_code.co_name)
            if getattr(function, "__code__", None) is not frame.f_code:
                return
            if stage and (not order or order[-1] != stage):
                order.append(stage)

    sys.setprofile(spy)
    try:
        result = check_at()
    finally:
        sys.setprofile(None)
    assert session(result, "job").action == "restarted"
    assert order[:4] == ["observe", "decide", "act", "journal"], order
    later = order[order.index("act") :]
    assert "observe" not in later and "decide" not in later, order
