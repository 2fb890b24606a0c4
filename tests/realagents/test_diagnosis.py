"""DESIGN §4's diagnoses from what the REAL agents print and record (pinned releases).

Each test runs the agent in a tmux session on the test's own server with the seed's anatomy,
logs it in today's note, and runs `heartbeat check --json` in-process.
"""

from __future__ import annotations

import os
import time
import typing as t

import pytest

from tests.realagents import scenarios

if t.TYPE_CHECKING:
    import collections.abc
    import pathlib

    from tests.realagents.conftest import Agent
    from tests.realagents.fakeapi import FakeAPI

pytestmark = pytest.mark.realagent


class Case(t.NamedTuple):
    scenario: str
    diagnosis: str
    action: str
    evidence: str  # a text one evidence line contains


CASES = [
    # ---------------------------------------------------------------- codex 0.169
    Case("codex/success", "completed", "verified", "EXITED: 0"),
    Case("codex/rate-limit", "rate_limited", "backoff", "exceeded retry limit, last status: 429"),
    Case("codex/quota", "rate_limited", "backoff", "Quota exceeded"),
    # a workspace out of credits is held (a backoff), a plan without Codex blocked: neither is
    # restarted into the same refusal
    Case("codex/credits-depleted", "rate_limited", "backoff", "workspace is out of credits"),
    Case("codex/plan-not-included", "auth_expired", "reported", "upgrade to Plus"),
    Case("codex/unauthorized", "auth_expired", "reported", "401 Unauthorized"),
    Case("codex/refresh-reused", "auth_expired", "reported", "refresh token was already used"),
    Case("codex/refresh-expired", "auth_expired", "reported", "refresh token has expired"),
    Case("codex/full-auto", "misconfigured", "reported", "unexpected argument '--full-auto'"),
    Case("codex/not-git", "misconfigured", "reported", "Not inside a trusted directory"),
    # ---------------------------------------------------------------- ralphy 4.7.2
    # every task fails the same way whatever the heartbeat does: reported, not restarted
    Case("ralphy/full-auto", "failed", "reported", "unexpected argument '--full-auto'"),
    Case("ralphy/parallel", "failed", "reported", '" failed: Command failed with exit code 2'),
    # ---------------------------------------------------------------- Claude Code
    Case("claude/success", "completed", "verified", "EXITED: 0"),
    Case("claude/no-login", "auth_expired", "reported", "Not logged in · Please run /login"),
    Case("claude/unauthorized", "auth_expired", "reported", "Invalid API key"),
    Case("claude/oauth-expired", "auth_expired", "reported", "OAuth token has expired"),
    Case("claude/rate-limit", "rate_limited", "backoff", "Request rejected (429)"),
    # ---------------------------------------------------------------- gemini-cli
    Case("gemini/success", "completed", "verified", "EXITED: 0"),
    Case("gemini/unauthorized", "auth_expired", "reported", "API key not valid"),
    Case("gemini/quota", "rate_limited", "backoff", "exhausted your daily quota"),
    Case("gemini/rate-limit", "rate_limited", "backoff", "Resource has been exhausted"),
    Case("gemini/no-auth", "misconfigured", "reported", "EXITED: 41"),
    Case(
        "claude/root-bypass",
        "misconfigured",
        "reported",
        "--dangerously-skip-permissions cannot be used with root",
    ),
    Case("gemini/untrusted", "misconfigured", "reported", "not running in a trusted directory"),
]


def _id(case: t.Any) -> str:
    return str(case.scenario)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_diagnosis_from_the_real_agent(
    case: Case, real_agent: collections.abc.Callable[[str], Agent], notes_dir: pathlib.Path
) -> None:
    if scenarios.by_id(case.scenario).root and os.geteuid() != 0:
        pytest.skip("Claude Code refuses --dangerously-skip-permissions only to root")
    agent = real_agent(case.scenario)
    agent.log(notes_dir)
    agent.start()
    agent.finish()
    code, _, session = agent.check("--dry-run")
    assert (session["diagnosis"], session["action"]) == (case.diagnosis, case.action), session
    assert any(case.evidence in line for line in session["evidence"]), session["evidence"]
    assert code == (0 if case.diagnosis == "completed" else 1)


def test_codex_success_committed_and_is_verified_through_git(
    real_agent: collections.abc.Callable[[str], Agent], notes_dir: pathlib.Path
) -> None:
    agent = real_agent("codex/success")
    agent.log(notes_dir)
    agent.start()
    assert agent.finish().exit_code == 0
    _, _, session = agent.check("--dry-run")
    assert session["verification"]["commits_since_start"] == 1
    assert any("Say hello" in line for line in session["verification"]["log"])
    assert (agent.workdir / "README.md").read_text() == "# demo\nhello from codex\n"


@pytest.mark.parametrize(
    "scenario",
    [
        "codex/usage-limit",
        "claude/session-limit",
    ],
)
def test_usage_limit_is_held_until_the_reset_the_agent_stated(
    scenario: str,
    real_agent: collections.abc.Callable[[str], Agent],
    fake_api: FakeAPI,
    notes_dir: pathlib.Path,
) -> None:
    """codex `… try again at 1:20 PM.`; Claude Code `… resets 1:20pm (UTC)`: held to it + 2 min."""
    reset = (int(time.time()) // 60 + 150) * 60  # a whole minute, 2½ hours ahead
    fake_api.resets_at = reset
    try:
        agent = real_agent(scenario)
        agent.log(notes_dir)
        agent.start()
        assert agent.finish().exit_code == 1
    finally:
        fake_api.resets_at = None
    code, _, session = agent.check()
    assert (session["diagnosis"], session["action"]) == ("rate_limited", "backoff"), session
    until = time.strftime("%H:%M", time.localtime(reset + 120))
    assert f"held until {until}" in session["detail"], session
    assert code == 1


@pytest.mark.parametrize(
    "scenario",
    ["codex/reconnecting", "codex/slow", "claude/retrying", "claude/slow", "gemini/slow"],
)
def test_an_agent_retrying_or_waiting_on_a_slow_stream_is_healthy(
    scenario: str,
    real_agent: collections.abc.Callable[[str], Agent],
    notes_dir: pathlib.Path,
    notify_log: pathlib.Path,
) -> None:
    """codex's `ERROR: Reconnecting... 1/5`, Claude Code's `API overloaded · retrying in 5s ·
    attempt 4 of 10`: the agent retries by itself; nobody is told anything."""
    agent = real_agent(scenario)
    agent.log(notes_dir)
    agent.start()
    run = agent.finish()
    assert run.exit_code is None  # still running
    pid = agent.pane_pid()
    code, _, session = agent.check()
    assert (session["diagnosis"], session["action"], session["state"]) == (
        "healthy",
        "none",
        "running",
    ), session
    assert code == 0
    assert not notify_log.exists() or not notify_log.read_text()
    assert agent.pane_pid() == pid


def test_codex_rejecting_full_auto_is_reported_once_with_the_fix_and_never_restarted(
    real_agent: collections.abc.Callable[[str], Agent],
    notes_dir: pathlib.Path,
    notify_log: pathlib.Path,
    fake_api: FakeAPI,
) -> None:
    agent = real_agent("codex/full-auto")
    agent.log(notes_dir)
    agent.start()
    assert agent.finish().exit_code == 2
    pid = agent.pane_pid()
    for _ in range(2):
        code, _, session = agent.check()
        assert session["diagnosis"] == "misconfigured", session
        assert session["action"] == "reported", session
        assert code == 1
    assert "-s workspace-write" in session["hint"] + session["detail"], session
    assert agent.pane_pid() == pid  # never restarted
    assert agent.pane().count("EXITED:") == 1
    assert len(notify_log.read_text().splitlines()) == 1  # reported once
    assert not fake_api.seen(agent.bed.key)  # codex never got as far as the API
