"""Issue 21 with the real agents: the morning report's tokens and limit windows are read from
what the pinned releases record — codex's rollout (``token_count``: ``info.total_token_usage``,
``rate_limits``) and Claude Code's transcript (each response's ``usage``, ``quotaLimits``).

codex works a turn (an edit and a commit), then meets a usage limit (``commit-then-limit``):
the check holds it, and the report shows its commit, the tokens codex counted and both limit
windows it was told about. Claude Code finishes a task (``claude/success``); another meets its
5-hour limit (``claude/session-limit``).
"""

from __future__ import annotations

import datetime
import json
import os
import time
import typing as t

import pendulum
import pytest

from heartbeat.check import run_check
from heartbeat.config import load_settings
from tests import helpers
from tests.realagents import bed, scenarios
from tests.realagents.test_resume import start

if t.TYPE_CHECKING:
    import pathlib

    from tests.realagents.conftest import Agent
    from tests.realagents.fakeapi import FakeAPI

pytestmark = pytest.mark.realagent

WORK_THEN_LIMIT = scenarios.Scenario(
    "codex",
    "commit-then-limit",
    "codex exec -s danger-full-access 'Add a greeting to README.md and commit it'",
    "commit-then-limit",
)


def check() -> dict[str, t.Any]:
    result = run_check(load_settings(), pendulum.now(), sleep=lambda _: None)
    return {s.name: s.to_json() for s in result.sessions}


def report() -> dict[str, t.Any]:
    _code, out, err = helpers.cli("report", "--since", "1h", "--json")
    assert out.strip(), err
    return {s["name"]: s for s in json.loads(out)["sessions"]}


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, pendulum.now().tzinfo).isoformat(timespec="seconds")


def test_codex_held_by_a_usage_limit_reports_its_rollout_tokens_and_windows(
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    socket_path: pathlib.Path,
    tmp_path: pathlib.Path,
    notes_dir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    the_bed = bed.prepare(WORK_THEN_LIMIT, tmp_path, fake_api, agents_bin, tag=tmp_path.name[-30:])
    for key, value in the_bed.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{agents_bin}:{os.environ['PATH']}")
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(agents_bin), second_look_seconds=0
    )
    reset = int(time.time()) + 3600
    fake_api.resets_at = reset
    try:
        helpers.write_note(
            notes_dir, helpers.canonical("job", WORK_THEN_LIMIT.command, the_bed.workdir)
        )
        start(the_bed, socket_path, "job")
        held = check()["job"]
        assert held["diagnosis"] == "rate_limited", held
    finally:
        fake_api.resets_at = None
    job = report()["job"]
    assert job["outcome"] == "held"
    assert job["commits"] == 1 and job["commit_subjects"] == ["Say hello"]
    assert job["tokens"] == {
        "input": 1200,
        "cached_input": 0,
        "output": 40,
        "total": 1240,
        "source": "rollout",
    }
    assert job["limits"] == [
        {"window_minutes": 300.0, "used_percent": 100.0, "resets_at": iso(reset)},
        {"window_minutes": 10080.0, "used_percent": 41.0, "resets_at": iso(reset + 3 * 86400)},
    ]


def test_claude_code_reports_its_transcript_usage(
    real_agent: t.Callable[[str], Agent], notes_dir: pathlib.Path
) -> None:
    agent = real_agent("claude/success")
    agent.log(notes_dir)
    agent.start()
    agent.finish()
    assert check()["job"]["diagnosis"] == "completed"
    job = report()["job"]
    assert (job["outcome"], job["agent"], job["commits"]) == ("completed", "claude", 1)
    # two responses (the Bash call, then the answer), each counted once
    assert job["tokens"] == {
        "input": 2400,
        "cached_input": 0,
        "output": 80,
        "total": 2480,
        "source": "transcript",
    }
    assert job["limits"] == []


def test_claude_code_at_its_5_hour_limit_reports_the_window(
    real_agent: t.Callable[[str], Agent], notes_dir: pathlib.Path
) -> None:
    agent = real_agent("claude/session-limit")
    reset = int(time.time()) + 3600
    agent.fake.resets_at = reset
    try:
        agent.log(notes_dir)
        agent.start()
        agent.finish()
    finally:
        agent.fake.resets_at = None
    assert check()["job"]["diagnosis"] == "rate_limited"
    job = report()["job"]
    assert job["outcome"] == "held"
    assert job["limits"] == [
        {"window_minutes": 300.0, "used_percent": 100.0, "resets_at": iso(reset)}
    ]
