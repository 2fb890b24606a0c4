"""Every diagnosis of DESIGN §4 end to end: real tmux, stand-in agents, `check --dry-run`."""

from __future__ import annotations

import datetime
import os
import pathlib
import typing as t

import pytest

from tests import helpers
from tests.standins import codex as standin
from tests.standins.common import render

if t.TYPE_CHECKING:
    import libtmux


class Case(t.NamedTuple):
    id: str
    command: str
    wait: str | None
    diagnosis: str
    action: str
    state: str
    evidence: str | None


CASES = [
    Case(
        "healthy",
        "codex exec -s workspace-write 'scenario:work-forever build'",
        "exec",
        "healthy",
        "none",
        "running",
        None,
    ),
    Case(
        "completed",
        "codex exec -s danger-full-access 'scenario:ok add a file'",
        "EXITED:",
        "completed",
        "verified",
        "exited",
        "EXITED: 0",
    ),
    Case(
        "read_and_exit",
        "codex exec -s workspace-write 'scenario:read-exit look'",
        "EXITED:",
        "read_and_exit",
        "reported",
        "exited",
        "EXITED: 0",
    ),
    Case(
        "auth_expired",
        "codex exec -s workspace-write 'scenario:auth fix'",
        "EXITED:",
        "auth_expired",
        "reported",
        "exited",
        "Unauthorized",
    ),
    Case(
        "auth_refresh",
        "codex exec -s workspace-write 'scenario:auth-refresh fix'",
        "EXITED:",
        "auth_expired",
        "reported",
        "exited",
        "refresh",
    ),
    Case(
        "rate_limited_429",
        "codex exec -s workspace-write 'scenario:ratelimit go'",
        "EXITED:",
        "rate_limited",
        "backoff",
        "exited",
        "429 Too Many Requests",
    ),
    Case(
        "rate_limited_usage",
        "codex exec -s workspace-write 'scenario:usagelimit go'",
        "EXITED:",
        "rate_limited",
        "backoff",
        "exited",
        "usage limit",
    ),
    Case(
        "failed",
        "codex exec -s workspace-write 'scenario:fail go'",
        "EXITED:",
        "failed",
        "restarted",
        "exited",
        "EXITED: 1",
    ),
    Case(
        "waiting_input",  # codex exec never asks (0.169: request_user_input is unavailable)
        """sh -c 'printf "Overwrite README.md? [y/N] "; read answer'""",
        "[y/N]",
        "waiting_input",
        "reported",
        "running",
        "[y/N]",
    ),
    Case(
        "quote429_stays_healthy",
        "codex exec -s workspace-write 'scenario:quote429 write'",
        "429",
        "healthy",
        "none",
        "running",
        None,
    ),
    Case(
        "ralphy_codex_rejects_full_auto",
        "ralphy --codex --prd PRD.md",
        "EXITED:",
        "failed",
        "reported",
        "exited",
        "error: unexpected argument '--full-auto' found",
    ),
    Case(
        "completed_without_a_commit",
        "codex exec -s workspace-write 'scenario:ok add a file'",
        "EXITED:",
        "completed",
        "verified",
        "exited",
        "EXITED: 0",
    ),
]
PARAMS = [pytest.param(c, id=c.id) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_diagnosis_end_to_end(
    case: Case, agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    if case.id == "ralphy_codex_rejects_full_auto":
        (repo / "PRD.md").write_text("## Tasks\n- [ ] first\n- [ ] second\n")
    helpers.write_note(notes_dir, helpers.canonical("job", case.command, repo))
    helpers.start(agents, "job", case.command, repo)
    if case.wait:
        helpers.wait_for_text(agents, "job", case.wait)
    code, report = helpers.check_json("--dry-run")
    session = helpers.by_name(report)["job"]
    assert session["diagnosis"] == case.diagnosis, session
    assert session["action"] == case.action, session
    assert session["state"] == case.state
    assert session["source"].endswith(".md:5")
    if case.evidence:
        assert any(case.evidence in line for line in session["evidence"]), session["evidence"]
    healthy = case.diagnosis in {"healthy", "completed"}
    assert code == (0 if healthy else 1)
    assert report["exit_code"] == code
    # a dry run changes nothing: no state, the note as it was
    assert not (tmp_path / "state" / "state.json").exists()
    assert "## Heartbeat" not in (notes_dir / f"{helpers.today()}.md").read_text()


def test_completed_is_verified_through_git(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    command = "codex exec -s danger-full-access 'scenario:ok add a file'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, repo))
    helpers.start(agents, "job", command, repo)
    helpers.wait_exited(agents, "job")
    _, report = helpers.check_json("--dry-run")
    verification = helpers.by_name(report)["job"]["verification"]
    assert verification["commits_since_start"] >= 1
    assert verification["is_repo"] is True
    assert len(verification["log"]) >= 2


def test_died_session_and_prefix_names_are_exact(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """`auth` is gone while `auth-fix` runs: auth is died, never confused with auth-fix."""
    command = "codex exec -s workspace-write 'scenario:work-forever x'"
    helpers.write_note(
        notes_dir, helpers.canonical("auth", command) + helpers.canonical("auth-fix", command)
    )
    helpers.start(agents, "auth-fix", command, None)
    helpers.wait_for_text(agents, "auth-fix", "exec")
    code, report = helpers.check_json("--dry-run")
    sessions = helpers.by_name(report)
    assert sessions["auth"]["diagnosis"] == "died"
    assert sessions["auth"]["state"] == "dead"
    # what a real check would do: no folder is known for it, so it is reported
    assert sessions["auth"]["action"] == "reported"
    assert "add `dir: ~/path`" in sessions["auth"]["detail"]
    assert sessions["auth-fix"]["diagnosis"] == "healthy"
    assert code == 1


def test_stalled_and_paused(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        stall_minutes=0.02,
    )
    quiet = "codex exec -s workspace-write 'scenario:quiet x'"
    helpers.write_note(
        notes_dir,
        helpers.canonical("quiet", quiet)
        + "- `held` — paused\n  - command: `codex exec 'scenario:fail x'`\n",
    )
    helpers.start(agents, "quiet", quiet, None)
    helpers.wait_for_text(agents, "quiet", "OpenAI Codex")
    import time

    from libtmux.test.retry import retry_until

    start = time.monotonic()
    retry_until(lambda: time.monotonic() - start > 2.5, 5)
    _, report = helpers.check_json("--dry-run")
    sessions = helpers.by_name(report)
    assert sessions["quiet"]["diagnosis"] == "stalled"
    assert sessions["quiet"]["action"] == "reported"
    assert sessions["held"]["diagnosis"] == "paused"
    assert sessions["held"]["action"] == "none"


def test_no_server_is_one_incident_not_a_traceback(
    notes_dir: pathlib.Path, tmp_path: pathlib.Path, server: libtmux.Server
) -> None:
    helpers.write_note(
        notes_dir,
        helpers.canonical("a", "codex exec 'x'") + helpers.canonical("b", "codex exec 'y'"),
    )
    code, report = helpers.check_json("--dry-run")
    assert report["server"] == "no_socket"
    assert {s["diagnosis"] for s in report["sessions"]} == {"died"}
    assert code == 1


def test_verify_flags_prd_boxes_ticked_without_commits(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """ralphy ticks a task even when codex failed it: git, not the PRD, is the truth."""
    repo = helpers.git_repo(tmp_path / "repo")
    (repo / "PRD.md").write_text("## Tasks\n- [x] already done\n- [ ] first scenario:fail\n")
    import subprocess

    subprocess.run(["git", "-C", str(repo), "add", "PRD.md"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-qm", "prd"],
        check=True,
        env={**os.environ, "GIT_COMMITTER_DATE": "@1700000000 +0000"},
    )
    command = "ralphy --codex --prd PRD.md"
    helpers.write_note(notes_dir, helpers.canonical("job", command, repo))
    helpers.start(agents, "job", command, repo)
    helpers.wait_exited(agents, "job")
    assert "- [x] first" in (repo / "PRD.md").read_text()
    code, out, err = helpers.cli("verify", "job", "--json")
    import json

    report = json.loads(out)
    assert code == 1, err
    assert report["prd_ticked"] == 2
    assert report["commits_since_start"] == 0
    assert any("1 task(s) done since the start" in flag for flag in report["flags"])


def test_pane_evidence_wins_over_another_sessions_codex_log(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The global codex log explains only a failure whose pane shows nothing.

    codex exec (0.169) writes no codex-tui.log; the interactive codex does, here with the
    tracing line an expired login makes.
    """
    auth = "codex exec -s workspace-write 'scenario:auth fix'"
    limited = "codex exec -s workspace-write 'scenario:ratelimit go'"
    helpers.write_note(
        notes_dir, helpers.canonical("auth", auth) + helpers.canonical("limited", limited)
    )
    helpers.start(agents, "auth", auth, None)
    helpers.wait_exited(agents, "auth")
    log = tmp_path / "codex" / "log" / "codex-tui.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    log.write_text(render(standin.LINES["refresh_reused"], time=stamp) + "\n")
    helpers.start(agents, "limited", limited, None)
    helpers.wait_exited(agents, "limited")
    _, report = helpers.check_json("--dry-run")
    sessions = helpers.by_name(report)
    assert sessions["auth"]["diagnosis"] == "auth_expired"
    assert sessions["limited"]["diagnosis"] == "rate_limited"
    assert not any("codex log" in line for line in sessions["limited"]["evidence"])
