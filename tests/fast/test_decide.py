"""The rules of DESIGN §4 in milliseconds: made-up probes through the real observe → decide."""

from __future__ import annotations

import datetime
import typing as t
import zoneinfo

import pytest

from heartbeat.state import SessionState
from tests.fast.pipeline import NOW, Pane_, decided, entry, one, settings

CODEX = "codex exec -s workspace-write 'Fix the login redirect'"
SEED = "codex exec --full-auto 'Fix the login redirect'"

WORK = """\
exec bash -lc 'npm test' in /work/app
✖ rejects the 101st request with 429 Too Many Requests
2026-11-26T13:58:01Z WARN api::limiter: rate limit exceeded
ERROR: failed to solve: failed to fetch oauth token: unexpected status: 429 Too Many Requests
✓ rejects an expired token with 401 Unauthorized
Fatal error: 401 Unauthorized (from the fixture)
+    raise RateLimitError("429 Too Many Requests")
a1b2c3d fix: refresh_token_reused is retried
EXITED: 1
"""


class Row(t.NamedTuple):
    id: str
    command: str
    pane: Pane_ | None
    diagnosis: str
    action: str
    restart: bool


ROWS = [
    Row("running-work-output", CODEX, Pane_(WORK, busy=True), "healthy", "none", False),
    Row("running-agent-in-front", CODEX, Pane_(WORK, command="codex"), "healthy", "none", False),
    Row(
        "exit-0-after-work-output",
        CODEX,
        Pane_(WORK + "done\nEXITED: 0\n", command="sleep"),
        "completed",
        "verified",
        False,
    ),
    Row(
        "exit-0-dash-tail",
        CODEX,
        Pane_(WORK + "EXITED: 0\n", command="sh", busy=False),
        "completed",
        "verified",
        False,
    ),
    Row(
        "usage-limit-curly",
        CODEX,
        Pane_(
            "ERROR: You’ve hit your usage limit. Upgrade to Pro or try again at 3:15 PM.\n"
            "EXITED: 1\n",
            command="sleep",
        ),
        "rate_limited",
        "backoff",
        False,
    ),
    Row(
        "retry-limit-429",
        CODEX,
        Pane_(
            "ERROR: exceeded retry limit, last status: 429 Too Many Requests, request id: x\n"
            "EXITED: 1\n",
            command="sleep",
        ),
        "rate_limited",
        "backoff",
        False,
    ),
    Row(
        "auth-401",
        CODEX,
        Pane_("ERROR: unexpected status 401 Unauthorized: token expired\nEXITED: 1\n", "sleep"),
        "auth_expired",
        "reported",
        False,
    ),
    Row(
        "full-auto-rejected",
        SEED,
        Pane_(
            "error: unexpected argument '--full-auto' found\n\n"
            "  tip: to pass '--full-auto' as a value, use '-- --full-auto'\n\n"
            "Usage: codex exec [OPTIONS] [PROMPT]\n\n"
            "For more information, try '--help'.\nEXITED: 2\n",
            command="sleep",
        ),
        "misconfigured",
        "reported",
        False,
    ),
    Row(
        "exit-1-at-tail", CODEX, Pane_(WORK, command="sh", busy=False), "failed", "restarted", True
    ),
    Row("gone", CODEX, None, "died", "restarted", True),
    Row(
        "reconnecting",
        CODEX,
        Pane_("working\nERROR: Reconnecting... 2/5\n", busy=True),
        "healthy",
        "none",
        False,
    ),
    Row(
        "out-of-credits-prompt",
        CODEX,
        Pane_(
            "Workspace out of credits. Request more from your workspace owner? [y/N]",
            command="codex",
        ),
        "waiting_input",
        "reported",
        False,
    ),
    Row(
        "claude-session-limit",
        "claude -p 'Fix the login redirect'",
        Pane_(
            "You’ve hit your session limit · resets 8pm (America/New_York)\nEXITED: 1\n", "sleep"
        ),
        "rate_limited",
        "backoff",
        False,
    ),
    Row(
        "claude-not-logged-in",
        "claude -p 'x'",
        Pane_("Not logged in · Please run /login\nEXITED: 1\n", "sleep"),
        "auth_expired",
        "reported",
        False,
    ),
    Row(
        "gemini-no-auth",
        "gemini -p 'x'",
        Pane_("Please set an Auth method\nEXITED: 41\n", "sleep"),
        "misconfigured",
        "reported",
        False,
    ),
    Row(
        "dead-pane-no-hook",
        CODEX,
        Pane_("all done", command="codex", dead=True, dead_status=0),
        "completed",
        "verified",
        False,
    ),
    Row(
        "ralphy-temporary-failure",
        "ralphy --codex --prd PRD.md",
        Pane_("[WARN] Temporary failure, stopping early\nEXITED: 1\n", "sleep"),
        "rate_limited",
        "backoff",
        False,
    ),
    Row(
        "codex-line-under-claude",
        "claude -p 'x'",
        Pane_("ERROR: exceeded retry limit, last status: 429\nEXITED: 1\n", "sleep"),
        "failed",
        "restarted",
        True,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_rules(row: Row) -> None:
    decision = one(row.command, row.pane)
    assert (decision.diagnosis, decision.action, decision.restart) == (
        row.diagnosis,
        row.action,
        row.restart,
    )


def test_usage_limit_is_held_to_the_reset_codex_printed_in_local_time() -> None:
    pane = Pane_("ERROR: You’ve hit your usage limit. Try again at 3:15 PM.\nEXITED: 1\n", "sleep")
    decision = one(CODEX, pane)
    local = datetime.datetime.now().astimezone().tzinfo
    reset = datetime.datetime.fromtimestamp(NOW.timestamp(), local).replace(
        hour=15, minute=15, second=0, microsecond=0
    )
    if reset < datetime.datetime.fromtimestamp(NOW.timestamp(), local) - datetime.timedelta(
        minutes=5
    ):
        reset += datetime.timedelta(days=1)
    assert decision.memory.hold_until == reset.timestamp() + 120
    assert decision.memory.hold_reason == "rate_limit"


def test_claude_reset_is_read_in_the_zone_it_names() -> None:
    pane = Pane_(
        "You've hit your session limit · resets 8pm (America/New_York)\nEXITED: 1\n", "sleep"
    )
    decision = one("claude -p 'x'", pane)
    new_york = zoneinfo.ZoneInfo("America/New_York")
    expected = datetime.datetime(2026, 11, 26, 20, 0, tzinfo=new_york).timestamp() + 120
    assert decision.memory.hold_until == expected


def test_full_auto_fix_is_the_same_command_with_workspace_write() -> None:
    pane = Pane_("error: unexpected argument '--full-auto' found\nEXITED: 2\n", "sleep")
    decision = one(SEED, pane)
    assert "codex exec -s workspace-write 'Fix the login redirect'" in decision.hint
    assert decision.memory.blocked == "misconfigured"
    gone = one(SEED, None, decision.memory)
    assert (gone.diagnosis, gone.restart) == ("misconfigured", False)
    fixed = one(CODEX, None, decision.memory)
    assert (fixed.diagnosis, fixed.restart) == ("died", True)


def test_one_account_with_refused_credentials_holds_its_other_sessions() -> None:
    auth = Pane_("ERROR: unexpected status 401 Unauthorized\nEXITED: 1\n", "sleep")
    entries = [entry("a", CODEX), entry("b", CODEX), entry("c", "claude -p 'x'")]
    a, b, c = decided(entries, {"a": auth})
    assert a.diagnosis == "auth_expired"
    assert (b.diagnosis, b.action, b.restart) == ("died", "backoff", False)
    assert (c.diagnosis, c.restart) == ("died", True)


def test_one_rate_limited_restart_per_check_after_the_hold() -> None:
    limit = "ERROR: exceeded retry limit, last status: 429\nEXITED: 1\n"
    panes = {n: Pane_(limit, "sleep") for n in "ab"}
    created = int(panes["a"].created)

    def held(index: int) -> SessionState:
        over = NOW.timestamp() - 1
        return SessionState(
            hold_reason="rate_limit",
            hold_until=over,
            incarnation=f"${index}@{created}:{1000 + index}",
        )

    decisions = decided([entry("a", CODEX), entry("b", CODEX)], panes, {"a": held(0), "b": held(1)})
    assert [d.restart for d in decisions].count(True) == 1
    assert "reduce parallelism" in decisions[0].hint


def test_restart_budget_gives_up() -> None:
    ts = NOW.timestamp()
    memory = SessionState(restarts=[ts - 1000, ts - 600, ts - 300])
    decision = one(CODEX, None, memory)
    assert (decision.action, decision.memory.blocked) == ("gave_up", "gave_up")


def test_decide_is_pure() -> None:
    """The same inputs give the same decision, and the remembered state is not mutated."""
    memory = SessionState(restarts=[NOW.timestamp() - 4000])
    before = repr(memory)
    first = one(CODEX, None, memory)
    second = one(CODEX, None, memory)
    assert first == second
    assert repr(memory) == before


#: What decide must never call (as ``sys.setprofile`` sees C functions): the clock, the
#: file system and processes. The time is a value passed in; files and tmux are read before.
FORBIDDEN = {
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "now",
    "utcnow",
    "today",
    "localtime",
    "open",
    "stat",
    "lstat",
    "listdir",
    "scandir",
    "getcwd",
    "fork_exec",
    "posix_spawn",
    "fork",
    "system",
}


def _impure_calls(run: t.Callable[[], object]) -> list[str]:
    """The forbidden C functions *run* calls."""
    import sys

    seen: list[str] = []

    def spy(frame: t.Any, event: str, arg: t.Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", "") in FORBIDDEN:
            owner = getattr(arg, "__self__", None)
            where = getattr(owner, "__name__", "") or getattr(arg, "__module__", "")
            seen.append(f"{where}.{arg.__name__}")

    sys.setprofile(spy)
    try:
        run()
    finally:
        sys.setprofile(None)
    return seen


def test_decide_touches_no_clock_file_or_process() -> None:
    """Every row of the table, decided under a profiler that sees each C call."""
    import datetime as dt
    import os

    from heartbeat import profiles as agent_profiles
    from heartbeat.check.decide import decide
    from tests.fast.pipeline import observed

    loaded = agent_profiles.load()
    config = settings()
    cases = []
    for row in ROWS:
        panes = {"job": row.pane} if row.pane is not None else {}
        entries = [entry("job", row.command)]
        cases.append((observed(entries, panes), [SessionState()]))
    assert _impure_calls(lambda: (dt.datetime.now(), os.stat("/"))) == [
        "datetime.now",
        "posix.stat",
    ]  # the spy sees what it looks for
    for observations, memories in cases:

        def run(o: t.Any = observations, m: t.Any = memories) -> object:
            return decide(o, m, config, loaded, NOW)

        calls = _impure_calls(run)
        assert calls == [], calls


def test_stall_limit() -> None:
    quiet = Pane_("working", command="codex", activity=NOW.timestamp() - 3600)
    assert one(CODEX, quiet).diagnosis == "stalled"
    assert one(CODEX, quiet, config=settings(stall_minutes=120)).diagnosis == "healthy"


def test_ralphy_false_success_is_a_failure_with_its_reason() -> None:
    """ralphy 4.7.2 with codex 0.169 (its transcript): every task fails, it says all completed."""
    output = """\
[INFO] Starting Ralphy with Codex
[INFO] Tasks remaining: 2
[INFO] Mode: Sequential

[INFO] Task 1: Add a greeting to README.md (2 remaining)
✖ Command failed with exit code 2. Output:
error: unexpected argument '--full-auto' found
  tip: to pass '--full-auto' as a value, use '-- --full-auto'
Usage: codex exec [OPTIONS] [PROMPT]
       codex exec [OPTIONS] <COMMAND> [ARGS]
For more information, try '--help'. [120ms]
[OK] All tasks completed!

==================================================
[INFO] Summary:
  Completed: 0
  Failed:    2
  Duration:  330ms
==================================================
EXITED: 1
"""
    decision = one("ralphy --codex --prd PRD.md", Pane_(output, "sleep"))
    assert (decision.diagnosis, decision.action, decision.restart) == ("failed", "reported", False)
    assert "reported 0 completed, 2 failed" in decision.detail
    assert "--full-auto" in decision.hint and "a restart cannot help" in decision.hint
