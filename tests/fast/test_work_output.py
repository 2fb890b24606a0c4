"""Work output is never the agent's own failure (issue 11's property).

Whatever a running agent prints while it works — test-runner lines, service
logs, docker and git output, diffs, even an ``EXITED: 1`` of its own — and
whatever an agent that exited 0 printed before, the check restarts nothing
and raises no alarm.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeat.words import Action
from tests.fast.pipeline import Pane_, one

WORK_LINES = [
    "✖ rejects the 101st request with 429 Too Many Requests",
    "✓ rejects an expired token with 401 Unauthorized",
    "2026-11-26T13:58:01.123Z WARN api::limiter: rate limit exceeded",
    "2026-11-26T13:58:02.000Z ERROR auth::session: Failed to refresh token for user 42",
    "ERROR: failed to solve: failed to fetch oauth token: unexpected status: 429 Too Many Requests",
    "ERROR: exceeded retry limit, last status: 429 Too Many Requests",
    "ERROR: You’ve hit your usage limit. Try again at 3:15 PM.",
    "ERROR: unexpected status 401 Unauthorized: token expired",
    "error: unexpected argument '--full-auto' found",
    "Fatal error: 401 Unauthorized",
    "Temporary failure, stopping early",
    "API Error: Request rejected (429) · rate limited",
    "Not logged in · Please run /login",
    "TerminalQuotaError: You have exhausted your daily quota",
    "EXITED: 1",
    "EXITED: 0",
    "+    raise RateLimitError('429 Too Many Requests')",
    "-    if status == 401: refresh_token_reused()",
    "a1b2c3d fix: handle refresh_token_expired and quota exceeded",
    " src/limiter.ts | 12 ++++++------",
    "PASS  tests/limiter.test.ts (4 tests)",
    "Reconnecting... 2/5",
    "Completed: 0",
    "Failed: 3",
    "",
]
COMMANDS = [
    "codex exec -s workspace-write 'Add rate limiting'",
    "ralphy --codex --prd PRD.md",
    "claude -p 'Add rate limiting'",
    "gemini -p 'Add rate limiting'",
]
lines = st.lists(st.sampled_from(WORK_LINES), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(work=lines, command=st.sampled_from(COMMANDS), front=st.sampled_from(["sh", "node"]))
def test_a_running_agent_is_never_restarted_or_alarmed(
    work: list[str], command: str, front: str
) -> None:
    pane = Pane_("\n".join([*work, "working…"]), command=front, busy=True)
    decision = one(command, pane)
    assert not decision.restart
    assert decision.diagnosis == "healthy"
    assert decision.action == Action.NONE


@settings(max_examples=100, deadline=None)
@given(work=lines, command=st.sampled_from(COMMANDS), tail=st.sampled_from(["sleep", "sh"]))
def test_an_exit_of_zero_is_a_completion_whatever_came_before(
    work: list[str], command: str, tail: str
) -> None:
    pane = Pane_("\n".join([*work, "EXITED: 0"]), command=tail)
    decision = one(command, pane)
    assert not decision.restart
    assert decision.diagnosis == "completed"
