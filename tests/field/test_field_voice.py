"""The agent's whole voice in the field (DESIGN §4 "The agent's whole voice", the rules table).

Every error line here is a string from the pinned releases' binaries or bundles
(``~/.cache/heartbeat-agents/*/node_modules``: codex's Rust binary, Claude Code's binary,
gemini-cli's bundle, ralphy's binary), filled in as the agent fills it in. As the agent's
final error before a non-zero ``EXITED:`` none may lead to a restart into the announced
limit; as work output (a diff, a test log, the agent talking about 429 handling) while
running or before ``EXITED: 0`` none may be flagged.
"""

from __future__ import annotations

import pathlib
import shlex
import time
import typing as t

import pendulum
import pytest

from tests import helpers
from tests.field import (
    CODEX_BANNER,
    check_at,
    project,
    script,
    session,
    use_field_agents,
    wait_for,
)

HOLDS = {"rate_limited"}
NEVER_RESTART = {"rate_limited", "auth_expired", "misconfigured"}
TASK = "Migrate the session store to Redis and keep the tests green"


class Voice(t.NamedTuple):
    agent: str  # the program the note names
    command: str
    err: str  # what the agent prints on stderr
    out: str  # and on stdout
    code: int
    expected: frozenset[str]


def codex_fatal(line: str) -> str:
    """codex exec prints its banner, the prompt, then each fatal ERROR line twice."""
    return CODEX_BANNER.format(dir="{dir}", task=TASK) + f"ERROR: {line}\nERROR: {line}\n"


CODEX = f"codex exec -s workspace-write {shlex.quote(TASK)}"
CLAUDE = f"claude -p {shlex.quote(TASK)} --allowedTools Bash,Edit"
GEMINI = f"gemini -y -p {shlex.quote(TASK)}"
RALPHY = "ralphy --codex --prd PRD.md"

FINAL_ERRORS = {
    "codex-workspace-out-of-credits": Voice(
        "codex",
        CODEX,
        codex_fatal("Your workspace is out of credits. Add credits to continue."),
        "",
        1,
        frozenset(HOLDS),
    ),
    "codex-spend-cap-set-by-owner": Voice(
        "codex",
        CODEX,
        codex_fatal(
            "You hit your spend cap set by the owner of your workspace. Ask an owner to "
            "increase your spend cap to continue."
        ),
        "",
        1,
        frozenset(HOLDS),
    ),
    "codex-usage-limit-ask-admin-straight-quote": Voice(
        "codex",
        CODEX,
        codex_fatal(
            "You've hit your usage limit. To get more access now, send a request to your "
            "admin or try again later."
        ),
        "",
        1,
        frozenset(HOLDS),
    ),
    "codex-usage-limit-for-a-model": Voice(
        "codex",
        CODEX,
        codex_fatal(
            "You’ve hit your usage limit for GPT-5.3-Codex-Spark. Switch to another model "
            "now, or try again at Dec 9th, 2026 6:38 AM."
        ),
        "",
        1,
        frozenset(HOLDS),
    ),
    "codex-plan-needs-plus": Voice(
        "codex",
        CODEX,
        codex_fatal(
            "To use Codex with your ChatGPT plan, upgrade to Plus: https://chatgpt.com/explore/plus."
        ),
        "",
        1,
        frozenset(NEVER_RESTART),
    ),
    "codex-config-toml-rejected": Voice(
        "codex",
        CODEX,
        "Error loading config.toml: unknown variant `full-auto`, expected one of `read-only`, "
        "`workspace-write`, `danger-full-access`\nin `sandbox_mode`\n",
        "",
        1,
        frozenset({"misconfigured"}),
    ),
    "claude-weekly-limit-with-date": Voice(
        "claude",
        CLAUDE,
        "",
        "You've hit your weekly limit · resets Dec 11, 9am (America/Los_Angeles)\n",
        1,
        frozenset(HOLDS),
    ),
    "claude-out-of-usage-credits-next-year": Voice(
        "claude",
        CLAUDE,
        "",
        "You're out of usage credits · resets Jan 1, 2027, 12am (Europe/London)\n",
        1,
        frozenset(HOLDS),
    ),
    "claude-org-monthly-spend-limit": Voice(
        "claude",
        CLAUDE,
        "",
        "You've hit your org's monthly spend limit · ask your admin to raise it at "
        "https://claude.ai/admin-settings/usage\n",
        1,
        frozenset(HOLDS),
    ),
    "gemini-no-auth-method-exit-41": Voice(
        "gemini",
        GEMINI,
        "Please set an Auth method in your /home/alex/.gemini/settings.json or specify one of "
        "the following environment variables before running: GEMINI_API_KEY, "
        "GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA\n",
        "",
        41,
        frozenset({"misconfigured", "auth_expired"}),
    ),
    "gemini-api-key-missing-exit-41": Voice(
        "gemini",
        GEMINI,
        "When using Gemini API, you must specify the GEMINI_API_KEY environment variable.\n"
        "Update your environment and try again (no reload needed if using .env)!\n",
        "",
        41,
        frozenset({"misconfigured", "auth_expired"}),
    ),
    "ralphy-fatal-revoked-refresh-token": Voice(
        "ralphy",
        RALPHY,
        "",
        "[INFO] Starting Ralphy with Codex\n[INFO] Tasks remaining: 3\n[INFO] Mode: Sequential\n"
        "[INFO] Task 1: Add the Redis session store (3 remaining)\n"
        "[ERROR] Fatal error: Your access token could not be refreshed because your refresh "
        "token was revoked. Please log out and sign in again.\n"
        "[ERROR] Aborting remaining tasks due to configuration/authentication issue.\n",
        1,
        frozenset({"auth_expired"}),
    ),
    "ralphy-temporary-failure-usage-limit": Voice(
        "ralphy",
        RALPHY,
        "",
        "[INFO] Starting Ralphy with Codex\n[INFO] Tasks remaining: 3\n[INFO] Mode: Sequential\n"
        "[INFO] Task 1: Add the Redis session store (3 remaining)\n"
        "[WARN] Temporary failure, stopping early (1/3): You’ve hit your usage limit. Visit "
        "https://chatgpt.com/codex/settings/usage to purchase more credits or try again at "
        "Dec 10th, 2026 4:05 PM.\n",
        1,
        frozenset(HOLDS),
    ),
}


#: Rows that fail today: the defect each one shows.
DEFECTS: dict[str, str] = {}


def params(rows: dict[str, t.Any]) -> list[t.Any]:
    return [
        pytest.param(
            row,
            id=key,
            marks=[pytest.mark.xfail(strict=True, reason=DEFECTS[key])] if key in DEFECTS else [],
        )
        for key, row in rows.items()
    ]


def run_field(
    agents: pathlib.Path, notes_dir: pathlib.Path, name: str, voice: Voice, code: int | str
) -> pathlib.Path:
    work = project(notes_dir, f"w-{name}")
    script(work, out=voice.out, err=voice.err.replace("{dir}", str(work)), code=code)
    helpers.start(agents, name, voice.command, work)
    return work


@pytest.mark.parametrize("row", params(FINAL_ERRORS))
def test_the_agents_final_error_never_restarts_into_it(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path, row: Voice
) -> None:
    use_field_agents(tmp_path, row.agent)
    work = project(notes_dir, "w-job")
    helpers.write_note(notes_dir, helpers.canonical("job", row.command, work))
    run_field(agents, notes_dir, "job", row, row.code)
    helpers.wait_for_text(agents, "job", f"EXITED: {row.code}")
    pid = helpers.session_pid(agents, "job")
    # a limit with no time may be retried after a backoff; one with a time, auth and
    # configuration errors are held longer than a quarter of an hour
    timed = "again at" in row.err + row.out or " · resets " in row.out
    offsets = (0, 240, 900) if timed or not row.expected & HOLDS else (0, 60)
    for offset in offsets:
        job = session(check_at(offset), "job")
        assert job.diagnosis in row.expected, job
        assert job.action != "restarted", (offset, job.detail, job.evidence)
    assert helpers.session_pid(agents, "job") == pid


class Work(t.NamedTuple):
    agent: str
    command: str
    err: str
    out: str
    code: int | str  # "forever": still running


WORK_OUTPUT = {
    "codex-running-diff-of-usage-limit-code": Work(
        "codex",
        CODEX,
        CODEX_BANNER.format(dir="{dir}", task=TASK)
        + "exec\n/bin/bash -lc 'git diff src/limits.py' in {dir}\n succeeded in 12ms:\n"
        '-        raise UsageLimitError("You\'ve hit your usage limit. Try again at 3:15 PM.")\n'
        '+        raise UsageLimitError(msg or "Quota exceeded. Check your plan and billing '
        'details.")\n'
        "exec\n/bin/bash -lc 'pytest -q tests/test_limits.py' in {dir}\n exited 1 in 840ms:\n"
        "E   AssertionError: 'ERROR: exceeded retry limit, last status: 429 Too Many Requests' "
        "!= 'retrying'\n1 failed, 11 passed in 0.80s\n",
        "",
        "forever",
    ),
    "gemini-running-fixture-with-terminal-quota-error": Work(
        "gemini",
        GEMINI,
        "",
        "I'll add a fixture for the quota path.\n"
        "+    message = 'TerminalQuotaError: You have exhausted your daily quota on this model.'\n"
        "+    status = 429\n"
        "+    # An unexpected critical error occurred:[object Object]\n",
        "forever",
    ),
    "claude-test-log-of-429s-then-exit-0": Work(
        "claude",
        CLAUDE,
        "",
        "tests/test_client.py::test_api_error_request_rejected_429 PASSED\n"
        "  API Error: Request rejected (429) · This request would exceed your account's rate "
        "limit. Please try again later.\n"
        "tests/test_client.py::test_not_logged_in_please_run_login PASSED\n"
        "All 14 tests pass; the client now honours Retry-After on 429 and asks to run /login "
        "on 401.\n",
        0,
    ),
    "codex-final-message-quotes-the-limit-then-exit-0": Work(
        "codex",
        CODEX,
        CODEX_BANNER.format(dir="{dir}", task=TASK)
        + "codex\nDone. When the backend answers `ERROR: You’ve hit your usage limit. "
        "Upgrade to Pro (https://chatgpt.com/explore/pro), visit "
        "https://chatgpt.com/settings/usage to purchase more credits or try again at "
        "3:15 PM.` the worker now sleeps until the reset instead of crashing.\n"
        "tokens used\n18,204\n",
        "",
        0,
    ),
}


@pytest.mark.parametrize("row", params(WORK_OUTPUT))
def test_the_same_words_as_work_output_are_not_flagged(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path, row: Work
) -> None:
    use_field_agents(tmp_path, row.agent)
    work = project(notes_dir, "w-job")
    helpers.write_note(notes_dir, helpers.canonical("job", row.command, work))
    voice = Voice(row.agent, row.command, row.err, row.out, 0, frozenset())
    run_field(agents, notes_dir, "job", voice, row.code)
    last = (row.out or row.err).strip().splitlines()[-1].replace("{dir}", str(work))
    wait_for(agents, "job", last[:40])
    if row.code == "forever":
        for offset in (0, 300):
            job = session(check_at(offset), "job")
            assert (job.diagnosis, job.action) == ("healthy", "none"), job
        return
    helpers.wait_for_text(agents, "job", "EXITED: 0")
    (work / "README.md").write_text("project\n\nSession store: Redis.\n")  # the agent's diff
    job = session(check_at(), "job")
    assert job.diagnosis in {"completed", "read_and_exit"}, job
    assert job.action != "restarted", job


def test_work_output_before_a_plain_crash_is_a_failure_not_a_limit(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """A log full of 429s and token errors, then codex's own context-window error: failed."""
    use_field_agents(tmp_path, "codex")
    work = project(notes_dir, "w-job")
    helpers.write_note(notes_dir, helpers.canonical("job", CODEX, work))
    err = (
        CODEX_BANNER.format(dir=str(work), task=TASK)
        + f"exec\n/bin/bash -lc 'tail -3 logs/worker.log' in {work}\n succeeded in 5ms:\n"
        "2026-12-07T09:14:02Z WARN upstream 429 Too Many Requests, retry in 4s\n"
        "2026-12-07T09:14:07Z ERROR Failed to refresh token: status=401 Unauthorized\n"
        "2026-12-07T09:14:07Z ERROR Quota exceeded. Check your plan and billing details.\n"
        "ERROR: Codex ran out of room in the model's context window. Start a new thread or "
        "clear earlier history before retrying.\n"
        "ERROR: Codex ran out of room in the model's context window. Start a new thread or "
        "clear earlier history before retrying.\n"
    )
    script(work, err=err, code=1)
    helpers.start(agents, "job", CODEX, work)
    helpers.wait_exited(agents, "job")
    job = session(check_at(), "job")
    assert (job.diagnosis, job.action) == ("failed", "restarted"), job


# --- Resets stated across a DST change -------------------------------------------------


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[None]:
    """The heartbeat process in America/New_York (TZ and HEARTBEAT_TZ)."""
    monkeypatch.setenv("TZ", "America/New_York")
    monkeypatch.setenv("HEARTBEAT_TZ", "America/New_York")
    time.tzset()
    import heartbeat.clock

    monkeypatch.setattr(heartbeat.clock, "_local", None)  # a new process reads TZ afresh
    yield
    monkeypatch.undo()
    time.tzset()


def test_codex_reset_on_the_morning_after_the_clocks_fall_back(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path, new_york: None
) -> None:
    """Said on Sat 2027-11-06 22:00 EDT: `try again at Nov 7th, 2027 9:00 AM` — that is EST.

    9:00 EST is 14:00 UTC; read with the evening's EDT offset it would be 13:00 UTC, and a
    restart at 13:30 UTC would run into the limit.
    """
    use_field_agents(tmp_path, "codex")
    said = pendulum.datetime(2027, 11, 6, 22, 0, tz="America/New_York")
    work = project(notes_dir, "w-job")
    helpers.write_note(notes_dir, helpers.canonical("job", CODEX, work), day="2027-11-06")
    line = (
        "You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit "
        "https://chatgpt.com/settings/usage to purchase more credits or try again at "
        "Nov 7th, 2027 9:00 AM."
    )
    script(work, err=codex_fatal(line).replace("{dir}", str(work)), code=1)
    helpers.start(agents, "job", CODEX, work)
    helpers.wait_exited(agents, "job")
    utc = pendulum.UTC

    def at(hour: int, minute: int) -> t.Any:
        return session(check_at(now=pendulum.datetime(2027, 11, 7, hour, minute, tz=utc)), "job")

    first = session(check_at(now=said), "job")
    assert (first.diagnosis, first.action) == ("rate_limited", "backoff"), first
    early = at(13, 30)
    assert early.action == "backoff", early  # 8:30 EST: before the reset
    assert at(14, 10).action == "restarted"  # 9:10 EST: past it and the margin


def test_claude_reset_in_its_own_zone_across_the_night_the_clocks_fall_back(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path, new_york: None
) -> None:
    """Claude says `resets 2:30am (Europe/London)` at 22:30 BST on 2027-10-30.

    London leaves BST at 02:00 that night: 2:30am is GMT, 02:30 UTC. Read with BST it would
    be 01:30 UTC. The heartbeat itself runs in New York, where nothing changes that night.
    """
    use_field_agents(tmp_path, "claude")
    said = pendulum.datetime(2027, 10, 30, 22, 30, tz="Europe/London")
    work = project(notes_dir, "w-job")
    helpers.write_note(notes_dir, helpers.canonical("job", CLAUDE, work), day="2027-10-30")
    script(work, out="You've hit your 5-hour limit · resets 2:30am (Europe/London)\n", code=1)
    helpers.start(agents, "job", CLAUDE, work)
    helpers.wait_exited(agents, "job")
    utc = pendulum.UTC

    def at(hour: int, minute: int) -> t.Any:
        return session(check_at(now=pendulum.datetime(2027, 10, 31, hour, minute, tz=utc)), "job")

    first = session(check_at(now=said), "job")
    assert (first.diagnosis, first.action) == ("rate_limited", "backoff"), first
    assert at(1, 45).action == "backoff"  # 01:45 GMT: before the reset
    assert at(2, 40).action == "restarted"


# --- One account, spelled three ways ---------------------------------------------------


def test_codex_home_spelled_three_ways_is_one_account_with_one_hold(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    user_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`~/acct`, `$HOME/acct` and a symlink to it share one usage-limit hold; `~/other` not."""
    reset = pendulum.now().add(hours=2)
    monkeypatch.setenv("STANDIN_RESET", reset.format("h:mm A"))
    tag = f"{abs(hash(tmp_path)) % 10**6}"
    acct, other, link = f"acct{tag}", f"other{tag}", f"link{tag}"
    for folder in (acct, other):
        (user_path / folder).mkdir(exist_ok=True)
    if not (user_path / link).is_symlink():
        (user_path / link).symlink_to(user_path / acct)
    limited = f"CODEX_HOME=~/{acct} codex exec -s workspace-write 'scenario:usagelimit sync'"
    rows = {
        "sync": limited,
        "docs": f"CODEX_HOME=$HOME/{acct} codex exec -s workspace-write 'scenario:fail docs'",
        "perf": f"CODEX_HOME=~/{link} codex exec -s workspace-write 'scenario:fail perf'",
        "lint": f"CODEX_HOME=~/{other} codex exec -s workspace-write 'scenario:fail lint'",
    }
    work = helpers.work_dir(notes_dir)
    helpers.write_note(notes_dir, "".join(helpers.canonical(n, c, work) for n, c in rows.items()))
    for name, command in rows.items():
        helpers.start(agents, name, command, work)
    for name in rows:
        helpers.wait_exited(agents, name)
    first = check_at()
    assert session(first, "sync").diagnosis == "rate_limited"
    actions = {n: session(first, n).action for n in rows}
    assert actions == {
        "sync": "backoff",
        "docs": "backoff",
        "perf": "backoff",
        "lint": "restarted",
    }, {n: (session(first, n).diagnosis, session(first, n).detail) for n in rows}
    later = check_at(3600)
    assert all(session(later, n).action != "restarted" for n in ("sync", "docs", "perf"))
    after = check_at(2 * 3600 + 300)
    assert sum(session(after, n).action == "restarted" for n in ("sync", "docs", "perf")) >= 1
