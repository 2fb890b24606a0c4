"""Every committed transcript of a real agent run, through the real observe → decide.

The transcripts (tests/realagents/transcripts) are what the pinned releases printed in a
tmux pane; the real-agent layer re-records them and fails on drift. Here each is read as
a pane at the anatomy's tail (or, for a run still going, with the agent in the
foreground), so a change to a profile is tried against every real line in milliseconds.
"""

from __future__ import annotations

import json
import pathlib
import typing as t

import pytest

from tests.fast.pipeline import Pane_, one

TRANSCRIPTS = pathlib.Path(__file__).resolve().parents[1] / "realagents" / "transcripts"


class Expected(t.NamedTuple):
    diagnosis: str
    action: str


EXPECTED = {
    "claude/credit": Expected("rate_limited", "backoff"),
    "claude/no-login": Expected("auth_expired", "reported"),
    "claude/root-bypass": Expected("misconfigured", "reported"),
    "claude/oauth-expired": Expected("auth_expired", "reported"),
    "claude/overloaded": Expected("failed", "restarted"),
    "claude/rate-limit": Expected("rate_limited", "backoff"),
    "claude/retrying": Expected("healthy", "none"),
    "claude/server-error": Expected("failed", "restarted"),
    "claude/session-limit-key": Expected("rate_limited", "backoff"),
    "claude/session-limit": Expected("rate_limited", "backoff"),
    "claude/slow": Expected("healthy", "none"),
    "claude/success": Expected("completed", "verified"),
    "claude/unauthorized": Expected("auth_expired", "reported"),
    "codex/full-auto": Expected("misconfigured", "reported"),
    "codex/not-git": Expected("misconfigured", "reported"),
    "codex/overloaded": Expected("failed", "restarted"),
    "codex/quota": Expected("rate_limited", "backoff"),
    "codex/credits-depleted": Expected("rate_limited", "backoff"),
    "codex/plan-not-included": Expected("auth_expired", "reported"),
    "codex/rate-limit": Expected("rate_limited", "backoff"),
    "codex/reconnecting": Expected("healthy", "none"),
    "codex/refresh-expired": Expected("auth_expired", "reported"),
    "codex/refresh-reused": Expected("auth_expired", "reported"),
    "codex/sandboxed": Expected("completed", "verified"),
    "codex/server-error": Expected("failed", "restarted"),
    "codex/slow": Expected("healthy", "none"),
    "codex/success": Expected("completed", "verified"),
    "codex/unauthorized": Expected("auth_expired", "reported"),
    "codex/usage-limit-chatgpt": Expected("rate_limited", "backoff"),
    "codex/usage-limit": Expected("rate_limited", "backoff"),
    "gemini/no-auth": Expected("misconfigured", "reported"),
    "gemini/quota": Expected("rate_limited", "backoff"),
    "gemini/rate-limit": Expected("rate_limited", "backoff"),
    "gemini/server-error": Expected("failed", "restarted"),
    "gemini/slow": Expected("healthy", "none"),
    "gemini/success": Expected("completed", "verified"),
    "gemini/unauthorized": Expected("auth_expired", "reported"),
    "gemini/untrusted": Expected("misconfigured", "reported"),
    "ralphy/full-auto": Expected("failed", "reported"),
    "ralphy/parallel": Expected("failed", "reported"),
}


def transcripts() -> list[pathlib.Path]:
    return sorted(TRANSCRIPTS.glob("*/*.txt"))


def test_every_transcript_has_an_expected_diagnosis() -> None:
    found = {f"{p.parent.name}/{p.stem}" for p in transcripts()}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("path", transcripts(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_real_transcript_is_diagnosed_as_the_agent_meant(path: pathlib.Path) -> None:
    meta = json.loads(path.with_suffix(".json").read_text().replace("<epoch>", "0"))
    text = path.read_text()
    running = meta["exit_code"] is None
    pane = Pane_(text, command="node" if running else "sleep", busy=running)
    decision = one(meta["command"], pane)
    expected = EXPECTED[f"{path.parent.name}/{path.stem}"]
    assert (decision.diagnosis, decision.action) == expected, decision.detail
