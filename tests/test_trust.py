"""Never the wrong restart (issue 11), end to end: real tmux, real shells, real lines.

Each test reproduces one way the heartbeat used to do what a supervisor must never do;
the "agents" are shell commands printing the real agents' lines (tests/realagents has the
real binaries). The rules themselves are pinned in milliseconds in tests/fast.
"""

from __future__ import annotations

import json
import os
import pathlib
import typing as t

import pendulum
import pytest

from heartbeat.check import run_check
from heartbeat.config import load_settings
from tests import helpers

if t.TYPE_CHECKING:
    from heartbeat.check import CheckResult, SessionReport

WORK_OUTPUT = (
    "printf '%s\\n' "
    "'✖ rejects the 101st request with 429 Too Many Requests' "
    "'2026-11-26T10:00:00Z WARN api::limiter: rate limit exceeded' "
    "'ERROR: failed to solve: failed to fetch oauth token: unexpected status: 429 Too Many "
    "Requests' "
    "'✓ rejects an expired token with 401 Unauthorized' "
    "'ERROR: exceeded retry limit, last status: 429 Too Many Requests'"
)


def check_at(offset: float = 0.0, **kwargs: t.Any) -> CheckResult:
    now = pendulum.now().add(seconds=offset)
    return run_check(load_settings(), now, sleep=lambda _: None, **kwargs)


def session(result: CheckResult, name: str) -> SessionReport:
    return next(s for s in result.sessions if s.name == name)


def test_a_running_agent_that_prints_exited_1_is_not_killed(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    """An agent debugging a job runner prints `EXITED: 1`; it is still in the foreground."""
    command = "sh -c 'echo EXITED: 1; echo debugging the runner; sleep 600'"
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("job", command, work))
    helpers.start(agents, "job", command, work)
    helpers.wait_for_text(agents, "job", "debugging the runner")
    pid = helpers.session_pid(agents, "job")
    job = session(check_at(), "job")
    assert (job.state, job.diagnosis, job.action) == ("running", "healthy", "none")
    assert helpers.session_pid(agents, "job") == pid


def test_finished_work_that_mentions_429s_is_completed_and_never_run_again(
    agents: pathlib.Path, notes_dir: pathlib.Path, notify_log: pathlib.Path
) -> None:
    """A test log full of 429s, then exit 0: done, not held, not re-run when a "hold" ends."""
    command = f"{WORK_OUTPUT}; echo tests passed"
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("job", command, work))
    helpers.start(agents, "job", command, work)
    helpers.wait_for_text(agents, "job", "EXITED: 0")
    pid = helpers.session_pid(agents, "job")
    for offset in (0, 3 * 3600):
        job = session(check_at(offset), "job")
        assert job.diagnosis in {"completed", "read_and_exit"}, job
        assert job.action in {"verified", "none", "reported"}, job
        assert not any("429" in line for line in job.evidence), job.evidence
    assert helpers.session_pid(agents, "job") == pid
    assert "rate" not in notify_log.read_text()


def test_the_seeds_own_command_is_restarted_as_the_shell_ran_it(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    r"""`\$PATH` and `\$EXIT_CODE` inside the seed's double quotes are `$…` to the shell."""
    work = helpers.work_dir(notes_dir)
    body = (
        "```bash\n"
        f'tmux -S {agents} new -d -s seed "cd {work} && \\\n'
        "PATH=/opt/homebrew/bin:\\$PATH printenv PATH; \\\n"
        "EXIT_CODE=\\$?; echo 'EXITED:' \\$EXIT_CODE; \\\n"
        'sleep 999999"\n'
        "```\n"
    )
    helpers.write_note(notes_dir, "- `seed` — the seed's Ralph-less run\n\n" + body)
    seed = session(check_at(), "seed")
    assert (seed.diagnosis, seed.action) == ("died", "restarted"), seed
    helpers.wait_for_text(agents, "seed", "EXITED:")
    pane = helpers.pane_text(agents, "seed")
    assert "EXITED: 0" in pane and "$EXIT_CODE" not in pane
    printed = next(line for line in pane.splitlines() if line.startswith("/opt/homebrew/bin:"))
    assert "$PATH" not in printed and os.defpath.split(":")[-1] in printed


def test_a_restart_goes_to_the_logged_folder_never_the_checks_own(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No dir in the entry, `tmux new -c DIR` in the logged line: the restart runs in DIR."""
    work = helpers.work_dir(notes_dir)
    line = f"tmux -S {agents} new -d -s here -c {work} \"pwd; echo 'EXITED:' 0; sleep 999999\""
    helpers.write_note(notes_dir, f"- `{line}`\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    here = session(check_at(), "here")
    assert here.action == "restarted", here
    helpers.wait_for_text(agents, "here", "EXITED:")
    assert str(work) in helpers.pane_text(agents, "here")


def test_a_gone_session_with_no_known_folder_is_reported_not_restarted(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    helpers.write_note(notes_dir, "- nowhere: `sleep 600`\n")
    job = session(check_at(), "nowhere")
    assert (job.diagnosis, job.action) == ("died", "reported")
    assert "add `dir: ~/path` to the entry" in job.detail
    assert not helpers.session_pid(agents, "nowhere")


def test_status_says_would_restart_and_shows_no_uptime_for_a_gone_session(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("gone", "sleep 600", work))
    code, out, _ = helpers.cli("status", "--json")
    [gone] = json.loads(out)["sessions"]
    assert code == 1
    assert "would restart" in gone["detail"] and "restarted with" not in gone["hint"]
    assert gone["running_for"] is None
    code, out, _ = helpers.cli("status")
    row = next(line for line in out.splitlines() if line.startswith("gone"))
    assert row.split()[4] == "-"  # UP


@pytest.mark.parametrize(
    "prompt",
    [
        "Workspace out of credits. Request more from your workspace owner? [y/N]",
        "Allow codex to run `git push`?",
    ],
)
def test_an_agent_waiting_at_a_question_is_reported_with_the_question(
    agents: pathlib.Path, notes_dir: pathlib.Path, prompt: str
) -> None:
    command = f"printf '%s ' '{prompt}'; read answer"
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, helpers.canonical("ask", command, work))
    helpers.start(agents, "ask", command, work)
    helpers.wait_for_text(agents, "ask", prompt.split()[-1])
    ask = session(check_at(), "ask")
    assert (ask.diagnosis, ask.action) == ("waiting_input", "reported"), ask
    assert prompt in ask.detail
