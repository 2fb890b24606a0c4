"""Each agent's census (heartbeat/profiles/census/*.toml) agrees with its profile.

Every classified message, printed as the agent prints it, is matched by a signature of its
profile with its class; every ignored one says why; the release is the pinned one. No
binaries needed: tests/realagents/test_census.py extracts the messages again from them.
"""

from __future__ import annotations

import datetime
import functools
import os
import tomllib
import typing as t
import zoneinfo

import pytest

from heartbeat import profiles
from heartbeat.profiles import census
from heartbeat.signatures import parse_reset, scan

PINS = tomllib.loads(
    (census.HERE.parent / "pins.toml").read_text("utf-8"),
)["agents"]


@functools.cache
def load(agent: str) -> census.Census:
    """A census file, read once for all the rows (each is a few hundred entries)."""
    return census.load(agent)


class Row(t.NamedTuple):
    agent: str
    entry: census.Entry


ROWS = [
    Row(agent, entry)
    for agent in census.AGENTS
    for entry in load(agent).entries
    if entry.kind != "ignored"
]


@pytest.mark.parametrize("agent", census.AGENTS)
def test_the_census_is_of_the_pinned_release(agent: str) -> None:
    assert load(agent).version == PINS[agent]["version"]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.agent}:{r.entry.text[:40]}" for r in ROWS])
def test_each_classified_message_is_matched_with_its_class(row: Row) -> None:
    found = load(row.agent)
    profile = profiles.load().named(row.agent)
    assert profile is not None
    line = census.printed(found, row.entry)
    kinds = [m.kind for m in scan([line], profile.signatures)]
    assert row.entry.kind in kinds, f"{line!r} matched {kinds}"


@pytest.mark.parametrize("agent", census.AGENTS)
def test_each_ignored_message_says_why(agent: str) -> None:
    ignored = [e for e in load(agent).entries if e.kind == "ignored"]
    assert all(e.why.strip() for e in ignored)


class Line(t.NamedTuple):
    agent: str
    line: str
    kind: str
    reset: str = ""


#: One row per class and new shape (0.169's texts from the binary; Claude Code's older epoch).
LINES = [
    Line(
        "codex", "ERROR: Your workspace is out of credits. Add credits to continue.", "rate_limit"
    ),
    Line(
        "codex",
        "ERROR: Your workspace is out of credits. Ask your workspace owner to refill in order "
        "to continue.",
        "rate_limit",
    ),
    Line(
        "codex",
        "ERROR: You hit your spend cap set in your workspace. Increase your spend cap to continue.",
        "rate_limit",
    ),
    Line(
        "codex",
        "ERROR: You’ve hit your usage limit for GPT-5.3-Codex-Spark. Switch to another model "
        "now, or try again at 1:49 PM.",
        "rate_limit",
        "1:49 PM",
    ),
    Line(
        "codex",
        "ERROR: Error running remote compact task: You’ve hit your usage limit. Upgrade to Pro "
        "(https://chatgpt.com/explore/pro), visit https://chatgpt.com/settings/usage to purchase "
        "more credits or try again at 3:15 PM.",
        "rate_limit",
        "3:15 PM",
    ),
    Line(
        "claude",
        "--dangerously-skip-permissions cannot be used with root/sudo privileges for security "
        "reasons",
        "config",
    ),
    Line("claude", "Claude AI usage limit reached|1760000400", "rate_limit", "1760000400"),
    Line("claude", "Claude AI usage limit reached", "rate_limit"),
    Line(
        "gemini",
        "Error: IneligibleTierError: Google sign-in for individual accounts is no longer supported",
        "auth",
    ),
    Line("gemini", "TerminalQuotaError: You have exhausted your daily quota", "rate_limit"),
    # the hand review: a plan without Codex, a config that does not load
    Line(
        "codex",
        "ERROR: To use Codex with your ChatGPT plan, upgrade to Plus: "
        "https://chatgpt.com/explore/plus.",
        "auth",
    ),
    Line(
        "codex",
        "Error loading config.toml: unknown variant `full-auto`, expected one of `read-only`, "
        "`workspace-write`, `danger-full-access`",
        "config",
    ),
    Line("codex", "ERROR: Token expired", "auth"),
    # Claude Code's credits, spend limits and sign-ins, each with the reset it states
    Line(
        "claude",
        "You're out of usage credits · resets Jan 1, 2027, 12am (Europe/London)",
        "rate_limit",
        "Jan 1, 2027, 12am",
    ),
    Line(
        "claude",
        "You've hit your org's monthly spend limit · ask your admin to raise it at "
        "https://claude.ai/admin-settings/usage",
        "rate_limit",
    ),
    Line(
        "claude",
        "You've hit your monthly spend limit · your limit resets Feb 1",
        "rate_limit",
        "Feb 1",
    ),
    Line(
        "claude",
        "You've hit your 5-hour limit · resets 2:30am (Europe/London)",
        "rate_limit",
        "2:30am",
    ),
    Line(
        "claude",
        "Your organization is out of usage credits. Contact your admin to add more.",
        "rate_limit",
    ),
    Line(
        "claude", "Credit balance too low · Add funds: https://console.anthropic.com", "rate_limit"
    ),
    Line(
        "claude",
        "Failed to authenticate: OAuth token revoked. Please log in again or contact your "
        "administrator.",
        "auth",
    ),
    Line("claude", "OAuth token has expired", "auth"),
    Line("claude", "error: unknown option '--full-auto'", "config"),
    Line(
        "claude",
        "Error: Workspace not trusted. Please run `claude` in /w first to review and accept the "
        "workspace trust dialog.",
        "config",
    ),
    Line("claude", "Server is temporarily limiting requests (not your usage limit)", "transient"),
    # ralphy carries its engine's message in its own shapes
    Line(
        "ralphy",
        "[ERROR] Fatal error: Your access token could not be refreshed because your refresh "
        "token was revoked. Please log out and sign in again.",
        "auth",
    ),
    Line(
        "ralphy",
        "[ERROR] Fatal error: Error loading config.toml: unknown variant `full-auto`",
        "config",
    ),
    Line(
        "ralphy",
        "[WARN] Temporary failure, stopping early (1/3): You’ve hit your usage limit. Visit "
        "https://chatgpt.com/codex/settings/usage to purchase more credits or try again at "
        "Dec 10th, 2026 4:05 PM.",
        "rate_limit",
        "Dec 10th, 2026 4:05 PM",
    ),
    Line(
        "ralphy",
        "[ERROR] Fatal error: You’ve hit your usage limit. Try again at 3:15 PM.",
        "rate_limit",
        "3:15 PM",
    ),
    Line(
        "gemini",
        "Please wait and try again later. To increase your limits, request a quota increase "
        "through AI Studio, or switch to another /auth method",
        "rate_limit",
    ),
    Line("gemini", "Invalid auth method selected.", "config"),
]


@pytest.mark.parametrize("row", LINES, ids=[f"{r.agent}:{r.line[:50]}" for r in LINES])
def test_the_new_shapes(row: Line) -> None:
    profile = profiles.load().named(row.agent)
    assert profile is not None
    matches = scan([row.line], profile.signatures)
    assert [m.kind for m in matches] == [row.kind]
    assert matches[0].groups.get("reset", "") == row.reset


WORK = [
    'expect(out).toContain("You\'re out of usage credits · resets 8pm")',
    "+ msg = 'Fatal error: Your access token could not be refreshed'",
    "docs: To use Codex with your ChatGPT plan, upgrade to Plus (quoted in the FAQ)",
    "  log.info('Error loading config.toml: retrying with defaults')",
    "grep -n 'Not logged in' src/auth.ts",
    "the workspace is out of credits when the mock says so",
    "  it('stops when You hit your spend cap', () => {",
    "+ raise QuotaError('Your workspace is out of credits. Add credits to continue.')",
    "echo '--dangerously-skip-permissions cannot be used with root/sudo privileges'",
    "docs: Error running remote compact task: You’ve hit your usage limit (a test fixture)",
]


@pytest.mark.parametrize("line", WORK)
def test_work_output_that_mentions_them_is_not_flagged(line: str) -> None:
    every = [s for p in profiles.load().agents for s in p.signatures]
    assert [m.kind for m in scan([line], every) if m.kind in census.CLASSES] == []


def test_an_epoch_reset_is_read_as_epoch_seconds() -> None:
    zone = datetime.timezone(datetime.timedelta(hours=-4))
    now = datetime.datetime(2025, 10, 9, 5, 0, tzinfo=zone)
    reset = parse_reset("1760000400", now)
    assert reset == datetime.datetime.fromtimestamp(1760000400, zone)
    assert parse_reset("12345678", now) is None  # eight digits: not a time this reads


class Reset(t.NamedTuple):
    text: str
    zone: str
    expected: datetime.datetime


RESETS = [
    # Claude Code: a date with its year, an hour with am/pm, in the zone it names
    Reset("Jan 1, 2027, 12am", "Europe/London", datetime.datetime(2027, 1, 1, 0, 0)),
    Reset("Dec 11, 9am", "America/Los_Angeles", datetime.datetime(2026, 12, 11, 9, 0)),
    Reset("2:30am", "Europe/London", datetime.datetime(2026, 12, 9, 2, 30)),
    # codex (and ralphy carrying it): the machine's zone
    Reset("Dec 10th, 2026 4:05 PM", "America/New_York", datetime.datetime(2026, 12, 10, 16, 5)),
]


@pytest.mark.parametrize("row", RESETS, ids=[r.text for r in RESETS])
def test_each_reset_shape_is_read_in_its_zone(row: Reset) -> None:
    zone = zoneinfo.ZoneInfo(row.zone)
    now = datetime.datetime(2026, 12, 8, 18, 0, tzinfo=zone)
    assert parse_reset(row.text, now) == row.expected.replace(tzinfo=zone)


class Spelling(t.NamedTuple):
    command: str
    env: dict[str, str]


def spellings(home: str) -> list[Spelling]:
    base = {"HOME": home}
    return [
        Spelling("codex exec 'x'", {**base, "CODEX_HOME": "~/.codex-a"}),
        Spelling("codex exec 'x'", {**base, "CODEX_HOME": "$HOME/.codex-a"}),
        Spelling("codex exec 'x'", {**base, "CODEX_HOME": "${HOME}/.codex-a"}),
        Spelling("codex exec 'x'", {**base, "CODEX_HOME": f"{home}/.codex-a"}),
        Spelling("codex exec 'x'", {**base, "CODEX_HOME": f"{home}/link"}),
        Spelling("CODEX_HOME=~/.codex-a codex exec 'x'", base),
        Spelling('CODEX_HOME="$HOME/.codex-a" codex exec', base),
        Spelling("CODEX_HOME=${HOME}/.codex-a/ npx -y @openai/codex exec", base),
        Spelling(f"cd /tmp && CODEX_HOME={home}/link codex exec", {**base, "CODEX_HOME": "/x"}),
    ]


def test_an_account_is_its_resolved_folder_however_it_is_spelled(tmp_path: t.Any) -> None:
    home = tmp_path / "home"
    (home / ".codex-a").mkdir(parents=True)
    os.symlink(home / ".codex-a", home / "link")
    loaded = profiles.load()
    accounts = {loaded.account(s.command, s.env) for s in spellings(str(home))}
    assert accounts == {f"codex:{home / '.codex-a'}"}


class Command(t.NamedTuple):
    command: str
    agent: str | None


COMMANDS = [
    Command("npx -y @openai/codex exec -s workspace-write 'x'", "codex"),
    Command("npx @openai/codex@0.169.0 exec 'x'", "codex"),
    Command("npx @anthropic-ai/claude-code -p 'x'", "claude"),
    Command("npx @google/gemini-cli -p 'x'", "gemini"),
    Command("./agent.sh", None),
    Command("npx @openai/codexx exec", None),
]


@pytest.mark.parametrize("row", COMMANDS, ids=[c.command for c in COMMANDS])
def test_npx_names_the_agent_by_its_package(row: Command) -> None:
    found = profiles.load().recognise(row.command)
    assert (found.name if found else None) == row.agent


class Banner(t.NamedTuple):
    lines: list[str]
    agent: str | None


BANNERS = [
    Banner(["OpenAI Codex v0.169.0 (research preview)", "--------", "workdir: /w"], "codex"),
    Banner(["\x1b[1mOpenAI Codex v0.169.0\x1b[0m"], "codex"),
    Banner(["[INFO] Starting Ralphy with Codex", "OpenAI Codex v0.169.0"], "ralphy"),
    Banner(["YOLO mode is enabled. All tool calls will be automatically approved."], "gemini"),
    Banner(["$ ./agent.sh", "echo OpenAI Codex v0.169.0 is what we run"], None),
    Banner([*(["work"] * 60), "OpenAI Codex v0.169.0"], None),  # past the first 60 lines
]


@pytest.mark.parametrize("row", BANNERS, ids=[str(i) for i in range(len(BANNERS))])
def test_the_banner_names_the_agent(row: Banner) -> None:
    found = profiles.load().recognise_output(row.lines)
    assert (found.name if found else None) == row.agent
