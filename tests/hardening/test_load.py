"""Load: many sessions dying at once, and a thousand checks in a row on a simulated clock."""

from __future__ import annotations

import collections
import pathlib
import typing as t

import pendulum
import pytest

from heartbeat import notes
from heartbeat.config import load_settings
from heartbeat.state import STATE_FILE, load_state
from heartbeat.tmux import Tmux
from tests import helpers
from tests.hardening import support

if t.TYPE_CHECKING:
    from heartbeat.check import CheckResult


def pids(socket: pathlib.Path) -> dict[str, str]:
    listing = Tmux(socket).run("list-panes", "-a", "-F", "#{session_name} #{pane_pid}").stdout
    return dict(line.split(" ", 1) for line in listing.splitlines())


def kill_sessions(socket: pathlib.Path, names: list[str]) -> None:
    """Kill *names* in one tmux call: they die at the same instant."""
    args: list[str] = []
    for name in names:
        args += [*([";"] if args else []), "kill-session", "-t", f"={name}"]
    assert Tmux(socket).run(*args).returncode == 0


@pytest.mark.slow
def test_twenty_of_fifty_dying_at_once_is_one_incident(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    notify_log: pathlib.Path,
) -> None:
    per_check = 5
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        max_restarts_per_check=per_check,
        stall_minutes=100_000,
    )
    names = [f"s{i:02d}" for i in range(50)]
    note = helpers.write_note(
        notes_dir, "".join(helpers.canonical(n, "sleep 100000") for n in names)
    )
    tmux = Tmux(agents)
    for name in names:
        helpers.start(agents, name, "sleep 100000", None)
    base = pendulum.now()
    quiet = support.check_at(base)
    assert {s.diagnosis for s in quiet.sessions} == {"healthy"}
    assert not quiet.note_written
    before = pids(agents)
    dying = names[5:25]
    kill_sessions(agents, dying)

    restarted: collections.Counter[str] = collections.Counter()
    results: list[CheckResult] = []
    for step in range(1, 9):
        result = support.check_at(base, 60 * step, tmux=tmux)
        results.append(result)
        now_restarted = [s.name for s in result.sessions if s.action == "restarted"]
        assert len(now_restarted) <= per_check
        restarted.update(now_restarted)
    assert sorted(restarted) == sorted(dying)
    assert set(restarted.values()) == {1}  # each once, within its budget (1/3)
    after = pids(agents)
    for name in names:
        if name not in dying:
            assert after[name] == before[name], f"{name} was restarted"
    assert all(s.diagnosis == "healthy" for s in results[-1].sessions)
    notices = notify_log.read_text().splitlines()
    assert len(notices) == 1, notices
    assert all(name in notices[0] for name in dying)
    text = note.read_text()
    assert sum(f"{n} died → restarted" in text for n in dying) == 20
    assert text.count("died → restarted") == 20
    assert tmux.calls <= 8 * 3 + 20  # constant probes per check, one call per restart


@pytest.mark.slow
def test_a_thousand_checks_on_a_simulated_clock_keep_the_state_bounded(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Sessions flap (killed, failing, resumed, renamed) for 1,000 checks, one a minute.

    The clock starts at 20:00, so the run also crosses midnight into a new note.
    """
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        stall_minutes=30,
    )
    base = pendulum.now().replace(hour=20, minute=0, second=0, microsecond=0)
    steady, killed, failing = "steady", "killed", "failing"
    entries = {
        steady: "sleep 100000",
        killed: "sleep 100000",
        failing: "sh -c 'echo working; exit 3'",
    }

    def write(day: pendulum.DateTime, extra: str) -> None:
        body = "".join(helpers.canonical(n, c) for n, c in entries.items())
        body += helpers.canonical(extra, "sleep 100000")
        path = notes_dir / f"{day.format('YYYY-MM-DD')}.md"
        if not path.exists():
            helpers.write_note(notes_dir, body, day=day.format("YYYY-MM-DD"))

    settings = load_settings()
    tmux = Tmux(agents)
    state_file = tmp_path / "state" / STATE_FILE
    sizes = []
    restarts: dict[str, list[float]] = collections.defaultdict(list)
    for step in range(1000):
        now = base.add(minutes=step)
        extra = f"gen-{step // 100}"  # a new name every 100 checks: the old one is forgotten
        if step % 100 == 0:
            for path in notes_dir.glob("*.md"):
                path.unlink()
            write(now, extra)
        if step % 7 == 3:
            kill_sessions(agents, [killed]) if killed in pids(agents) else None
        if step % 120 == 119:
            for name in (killed, failing):
                notes.resume(settings, now.date(), now, name)
                restarts[name].append(-1.0)  # a resume starts a new budget
        result = support.check_at(now, tmux=tmux)
        for session in result.sessions:
            if session.action == "restarted":
                restarts[session.name].append(now.timestamp())
        if step % 50 == 0:
            sizes.append(state_file.stat().st_size)
    sizes.append(state_file.stat().st_size)
    print(f"state file: at most {max(sizes)} bytes over 1,000 checks")
    assert max(sizes) < 32 * 1024, sizes
    state = load_state(tmp_path / "state")
    assert len(state.log_events) <= 50
    assert all(len(s.restarts) <= 20 for s in state.sessions.values())
    assert state.checks == 1000
    # the budget held through it all: never more than 3 restarts of a session in an hour
    for name, times in restarts.items():
        stretch: list[float] = []
        for moment in [*times, -1.0]:
            if moment < 0:
                assert support_max_in_hour(stretch) <= 3, (name, stretch)
                stretch = []
            else:
                stretch.append(moment)
    assert restarts[killed] and restarts[failing]


def support_max_in_hour(times: list[float]) -> int:
    return max((sum(1 for u in times if t0 <= u < t0 + 3600) for t0 in times), default=0)
