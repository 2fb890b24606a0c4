"""Issue 13 with the real codex: wait for the reset the agent recorded, then resume its
conversation — and fall back to one fresh start when the resume cannot be made.

The fake API answers ``limit-then-ok``: a 429 ``usage_limit_reached`` with ``resets_at`` a
few seconds ahead until that time, then an assistant message. codex records the reset in its
rollout (``token_count`` ``rate_limits``); the check must hold to it (from the record, not the
text) and then restart with ``codex exec … resume <its id> "…"``, which sends the earlier
turns again: the fake API sees the same conversation continued.
"""

from __future__ import annotations

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

if t.TYPE_CHECKING:
    import pathlib

    from tests.realagents.fakeapi import FakeAPI

pytestmark = pytest.mark.realagent

TASK = "Add a greeting to README.md and commit it"
LIMITED = scenarios.Scenario(
    "codex", "limit-then-resume", f"codex exec -s workspace-write '{TASK}'", "limit-then-ok"
)
CONTINUE = "Continue the greeting task."


def prepared(
    tmp_path: pathlib.Path,
    fake_api: FakeAPI,
    agents_bin: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> bed.Bed:
    the_bed = bed.prepare(LIMITED, tmp_path, fake_api, agents_bin, tag=tmp_path.name[-30:])
    for key, value in the_bed.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{agents_bin}:{os.environ['PATH']}")
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(agents_bin),
        second_look_seconds=0,
        rate_limit_margin_minutes=0,
        restart_mode="resume",
        continue_prompt=CONTINUE,
    )
    return the_bed


def start(the_bed: bed.Bed, socket: pathlib.Path, name: str) -> None:
    """The scenario in session *name* with the seed's anatomy, run until its hook prints."""
    bed.start(the_bed, socket, name)
    wait_for(socket, name, "EXITED: ")


wait_for = bed.wait_for


def check(offset: float = 0.0) -> dict[str, t.Any]:
    result = run_check(load_settings(), pendulum.now().add(seconds=offset), sleep=lambda _: None)
    return {s.name: s.to_json() for s in result.sessions}


def inputs(fake_api: FakeAPI, key: str) -> list[str]:
    """The conversation (``input``) of every request codex made for *key*, as JSON, in order."""
    return [json.dumps((r.json() or {}).get("input", [])) for r in fake_api.seen(key)]


def wait_until(moment: float) -> None:
    while time.time() < moment:
        time.sleep(0.2)


def test_a_usage_limit_is_held_to_the_recorded_reset_then_the_conversation_resumes(
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    socket_path: pathlib.Path,
    tmp_path: pathlib.Path,
    notes_dir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    the_bed = prepared(tmp_path, fake_api, agents_bin, monkeypatch)
    reset = int(time.time()) + 20
    fake_api.resets_at = reset
    try:
        helpers.write_note(notes_dir, helpers.canonical("job", LIMITED.command, the_bed.workdir))
        start(the_bed, socket_path, "job")
        held = check()["job"]
        assert (held["diagnosis"], held["action"]) == ("rate_limited", "backoff"), held
        clock = time.strftime("%H:%M", time.localtime(reset))
        assert f"held until {clock}: the recorded reset" in held["detail"], held
        session_id = held["agent_session"]
        assert session_id and session_id in bed.capture(socket_path, "job")
        wait_until(reset + 1)
        resumed = check()["job"]
        assert resumed["action"] == "restarted", resumed
        assert f"resuming codex's session {session_id}" in resumed["detail"]
        wait_for(socket_path, "job", "EXITED: 0")
    finally:
        fake_api.resets_at = None
    sent = inputs(fake_api, the_bed.key)
    # the resumed request carries the first turn's task and the continuation
    assert TASK in sent[-1] and CONTINUE in sent[-1], sent[-1][:2000]
    done = check(120)["job"]
    assert done["diagnosis"] == "completed", done


def test_a_resume_that_cannot_be_made_falls_back_to_one_fresh_start(
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    socket_path: pathlib.Path,
    tmp_path: pathlib.Path,
    notes_dir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its rollout gone, `codex exec resume ID` exits 1 (`no rollout found for thread id`)."""
    the_bed = prepared(tmp_path, fake_api, agents_bin, monkeypatch)
    reset = int(time.time()) + 15
    fake_api.resets_at = reset
    try:
        helpers.write_note(notes_dir, helpers.canonical("job", LIMITED.command, the_bed.workdir))
        start(the_bed, socket_path, "job")
        held = check()["job"]
        assert held["diagnosis"] == "rate_limited", held
        for rollout in (tmp_path / "codex" / "sessions").rglob("rollout-*.jsonl"):
            rollout.unlink()
        wait_until(reset + 1)
        resumed = check()["job"]
        assert "resuming codex's session" in resumed["detail"], resumed
        wait_for(socket_path, "job", "EXITED: 1")
        assert "no rollout found" in bed.capture(socket_path, "job")
        fresh = check(70)["job"]
        assert fresh["action"] == "restarted", fresh
        assert "failed: started afresh" in fresh["detail"], fresh
        wait_for(socket_path, "job", "EXITED: 0")
    finally:
        fake_api.resets_at = None
    assert TASK in inputs(fake_api, the_bed.key)[-1]  # the task from the start, not a resume


def test_two_sessions_on_one_account_are_held_together_and_resume_on_different_checks(
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    socket_path: pathlib.Path,
    tmp_path: pathlib.Path,
    notes_dir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    the_bed = prepared(tmp_path, fake_api, agents_bin, monkeypatch)
    reset = int(time.time()) + 20
    fake_api.resets_at = reset
    try:
        body = "".join(
            helpers.canonical(name, LIMITED.command, the_bed.workdir) for name in ("a", "b")
        )
        helpers.write_note(notes_dir, body)
        start(the_bed, socket_path, "a")
        start(the_bed, socket_path, "b")
        first = check()
        assert {s["diagnosis"] for s in first.values()} == {"rate_limited"}, first
        assert len({s["detail"] for s in first.values()}) == 1, first  # one hold, one reset
        wait_until(reset + 1)
        second = check()
        actions = sorted(s["action"] for s in second.values())
        assert actions == ["backoff", "restarted"], second
        staggered = next(n for n, s in second.items() if s["action"] == "backoff")
        assert "one rate-limited restart per check" in second[staggered]["detail"]
        third = check()
        assert third[staggered]["action"] == "restarted", third
    finally:
        fake_api.resets_at = None
