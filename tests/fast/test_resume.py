"""Issue 13 in milliseconds: records over text, resume as the restart, holds per account."""

from __future__ import annotations

import json
import pathlib
import typing as t

import pytest

from heartbeat import profiles
from heartbeat.session import resume_command
from heartbeat.state import SessionState
from tests.fast.pipeline import NOW, Pane_, decided, entry, one, settings

SID = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
CODEX = "codex exec -s workspace-write 'Fix the login redirect'"


class Resume(t.NamedTuple):
    id: str
    agent: str
    command: str
    expected: str | None


RESUMES = [
    Resume(
        "codex",
        "codex",
        CODEX,
        f"codex exec -s workspace-write resume {SID} 'Go on.'",
    ),
    Resume(
        "seed-shell-command",
        "codex",
        "cd ~/code/app && PATH=/opt/homebrew/bin:$PATH codex exec -s workspace-write 'Fix it'; "
        "EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; sleep 999999",
        "cd ~/code/app && PATH=/opt/homebrew/bin:$PATH codex exec -s workspace-write resume "
        f"{SID} 'Go on.'; EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; sleep 999999",
    ),
    Resume(
        "claude-with-its-id",
        "claude",
        f"claude -p --session-id {SID} 'Fix it'",
        f"claude -p --resume {SID} 'Go on.'",
    ),
    Resume("stdin-task", "codex", "codex exec -s workspace-write -", None),
    Resume("gemini-cannot", "gemini", "gemini -p 'Fix it'", None),
]


@pytest.mark.parametrize("row", RESUMES, ids=[r.id for r in RESUMES])
def test_resume_command_keeps_everything_but_the_task(row: Resume) -> None:
    profile = profiles.load().named(row.agent)
    assert profile is not None
    assert resume_command(row.command, profile, SID, "Go on.") == row.expected


def banner(extra: str = "") -> str:
    return f"OpenAI Codex v0.169.0\n--------\nsession id: {SID}\n--------\n{extra}"


def test_a_died_codex_session_is_resumed_by_the_id_of_its_banner() -> None:
    seen = one(CODEX, Pane_(banner("working"), command="codex"))
    assert seen.memory.agent_session == SID
    gone = one(CODEX, None, seen.memory)
    assert (gone.diagnosis, gone.restart, gone.resume) == ("died", True, SID)
    assert f"resuming codex's session {SID}" in gone.detail
    fresh = one(CODEX, None, seen.memory, config=settings(restart_mode="fresh"))
    assert (fresh.restart, fresh.resume) == (True, None)


def test_a_resume_that_fails_at_once_falls_back_to_one_fresh_start() -> None:
    memory = SessionState(agent_session=SID, resumed_session=SID)
    pane = Pane_(
        banner("ERROR: no rollout found for thread id " + SID + "\nEXITED: 1\n"),
        command="sleep",
        created=NOW.timestamp() - 20,
    )
    decision = one(CODEX, pane, memory)
    assert (decision.restart, decision.resume) == (True, None)
    assert "the resume of session" in decision.detail and "started afresh" in decision.detail
    assert decision.memory.resume_failed == SID


def write_rollout(codex_home: pathlib.Path, reset: float) -> None:
    """A rollout as codex 0.169.0 writes one at a usage limit (see tests/realagents)."""
    folder = codex_home / "sessions" / "2026" / "11" / "26"
    folder.mkdir(parents=True)
    rows = [
        {"type": "session_meta", "payload": {"id": SID}},
        {
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "rate_limits": {
                    "primary": {"used_percent": 100.0, "window_minutes": 300, "resets_at": reset},
                    "secondary": {
                        "used_percent": 41.0,
                        "window_minutes": 10080,
                        "resets_at": reset + 86400,
                    },
                },
            },
        },
        {
            "type": "event_msg",
            "payload": {
                "type": "task_complete",
                "error": {
                    "codex_error_info": "usage_limit_exceeded",
                    "message": "You’ve hit your usage limit.",
                },
            },
        },
    ]
    path = folder / f"rollout-2026-11-26T13-00-00-{SID}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_the_hold_comes_from_the_rollout_not_the_text(tmp_path: pathlib.Path) -> None:
    """The record's resets_at wins over the time the text states (and over no text at all)."""
    codex_home = tmp_path / "codex"
    reset = NOW.timestamp() + 3600
    write_rollout(codex_home, reset)
    command = f"CODEX_HOME={codex_home} {CODEX}"
    pane = Pane_(
        banner("ERROR: You’ve hit your usage limit. Try again at 11:59 PM.\nEXITED: 1\n"), "sleep"
    )
    decision = one(command, pane)
    assert decision.diagnosis == "rate_limited"
    assert decision.memory.hold_until == reset + 120
    assert "recorded reset" in decision.detail
    gone = one(command, None, SessionState(agent_session=SID))
    assert gone.diagnosis == "rate_limited"
    assert gone.memory.hold_until == reset + 120


def test_sessions_of_one_account_share_a_usage_limit_hold(tmp_path: pathlib.Path) -> None:
    codex_home = tmp_path / "codex"
    reset = NOW.timestamp() + 3600
    write_rollout(codex_home, reset)
    command = f"CODEX_HOME={codex_home} {CODEX}"
    other = f"CODEX_HOME={tmp_path / 'other'} {CODEX}"
    limited = Pane_(banner("ERROR: You’ve hit your usage limit.\nEXITED: 1\n"), "sleep")
    failed = Pane_("ERROR: stream disconnected\nEXITED: 1\n", "sleep")
    entries = [entry("a", command), entry("b", command), entry("c", other)]
    a, b, c = decided(entries, {"a": limited, "b": failed, "c": failed})
    assert (a.diagnosis, a.memory.hold_until) == ("rate_limited", reset + 120)
    assert (b.diagnosis, b.action, b.memory.hold_until) == ("rate_limited", "backoff", reset + 120)
    assert "shared" in b.detail
    assert (c.diagnosis, c.restart) == ("failed", True)


def test_an_auth_block_ends_when_the_account_logs_in_again(tmp_path: pathlib.Path) -> None:
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    (codex_home / "auth.json").write_text('{"tokens": "old"}')
    command = f"CODEX_HOME={codex_home} {CODEX}"
    pane = Pane_("ERROR: unexpected status 401 Unauthorized\nEXITED: 1\n", "sleep")
    blocked = one(command, pane)
    assert blocked.diagnosis == "auth_expired"
    again = one(command, pane, blocked.memory)
    assert (again.diagnosis, again.restart) == ("auth_expired", False)
    (codex_home / "auth.json").write_text('{"tokens": "a new login"}')
    released = one(command, pane, again.memory)
    assert (released.diagnosis, released.restart) == ("failed", True)
    assert released.memory.blocked is None


def test_launch_gives_claude_code_its_session_id_up_front() -> None:
    from heartbeat.launch import with_session_id

    claude = profiles.load().named("claude")
    codex = profiles.load().named("codex")
    assert claude is not None and codex is not None
    given = with_session_id("claude -p 'Fix it'", claude, SID)
    assert given == f"claude --session-id {SID} -p 'Fix it'"
    assert with_session_id(given, claude) == given  # one already given stays
    assert with_session_id(CODEX, codex) == CODEX  # codex names its own, in its banner
