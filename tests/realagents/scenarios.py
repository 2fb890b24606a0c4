"""Every scenario the test bed runs: an agent, the command a user logs, what the fake answers.

A scenario's ``api`` is the fake API's scenario (what it answers; see wire.py); ``until`` is
``"exit"`` (wait for the hook's ``EXITED:`` line), ``"@request"`` (wait until the fake API
has been asked, then for a quiet pane) or a text the pane shows while the agent is still
running (then for a quiet pane); in the last two the run ends with the agent alive.
Transcripts are recorded under ``transcripts/<agent>/<name>.txt``.
"""

from __future__ import annotations

import typing as t

PRD = "# Demo\n\n## Tasks\n- [ ] Add a greeting to README.md\n- [ ] Add a farewell to README.md\n"


class Scenario(t.NamedTuple):
    agent: str  # codex | claude | gemini | ralphy
    name: str
    command: str
    api: str  # what the fake answers (the scenario of its URL)
    until: str = "exit"
    auth: str = "key"  # key | chatgpt | none
    git: bool = True  # run in a git repository
    retries: int = 1  # codex request_max_retries, Claude Code CLAUDE_CODE_MAX_RETRIES
    stream_retries: int = 5  # codex stream_max_retries (its default)
    files: dict[str, str] = {}  # noqa: RUF012 (a NamedTuple default, never mutated)
    about: str = ""
    #: What the agent prints depends on running as root (CI and the bed run as root);
    #: as any other user the scenario is skipped.
    root: bool = False

    @property
    def id(self) -> str:
        return f"{self.agent}/{self.name}"


TASK = "'Add a greeting to README.md and commit it'"

SCENARIOS: list[Scenario] = [
    # ------------------------------------------------------------------ codex
    Scenario(
        "codex",
        "full-auto",
        f"codex exec --full-auto {TASK}",
        "ok",
        about="the seed's command: the flag was removed in 0.147",
    ),
    Scenario(
        "codex",
        "success",
        f"codex exec -s danger-full-access {TASK}",
        "commit",
        about="edits README.md, commits, says so, exit 0",
    ),
    Scenario(
        "codex",
        "sandboxed",
        f"codex exec -s workspace-write {TASK}",
        "edit",
        about="edits README.md; the workspace-write sandbox keeps .git read-only",
    ),
    Scenario(
        "codex",
        "not-git",
        f"codex exec -s workspace-write {TASK}",
        "ok",
        git=False,
        about="outside a git repository",
    ),
    Scenario(
        "codex",
        "usage-limit",
        f"codex exec -s workspace-write {TASK}",
        "usage-limit",
        about="429 usage_limit_reached with resets_at, API-key login",
    ),
    Scenario(
        "codex",
        "usage-limit-chatgpt",
        f"codex exec -s workspace-write {TASK}",
        "usage-limit-chatgpt",
        auth="chatgpt",
        about="429 usage_limit_reached with resets_at, ChatGPT Plus login",
    ),
    Scenario(
        "codex",
        "credits-depleted",
        f"codex exec -s workspace-write {TASK}",
        "credits-depleted",
        auth="chatgpt",
        about="429 usage_limit_reached, x-codex-rate-limit-reached-type "
        "workspace_owner_credits_depleted, ChatGPT login",
    ),
    Scenario(
        "codex",
        "plan-not-included",
        f"codex exec -s workspace-write {TASK}",
        "plan-not-included",
        auth="chatgpt",
        about="429 usage_not_included (a plan without Codex), ChatGPT login",
    ),
    Scenario(
        "codex",
        "rate-limit",
        f"codex exec -s workspace-write {TASK}",
        "rate-limit",
        about="plain 429 rate_limit_exceeded on every attempt",
    ),
    Scenario(
        "codex",
        "unauthorized",
        f"codex exec -s workspace-write {TASK}",
        "unauthorized",
        stream_retries=2,
        about="401 invalid_api_key",
    ),
    Scenario(
        "codex",
        "quota",
        f"codex exec -s workspace-write {TASK}",
        "quota",
        about="response.failed insufficient_quota",
    ),
    Scenario(
        "codex",
        "server-error",
        f"codex exec -s workspace-write {TASK}",
        "server-error",
        stream_retries=2,
        about="500 on every attempt",
    ),
    Scenario(
        "codex",
        "overloaded",
        f"codex exec -s workspace-write {TASK}",
        "overloaded",
        about="503 server_is_overloaded on every attempt",
    ),
    Scenario(
        "codex",
        "slow",
        f"codex exec -s workspace-write {TASK}",
        "slow",
        until="session id:",
        about="a stream that trickles: codex waits",
    ),
    Scenario(
        "codex",
        "reconnecting",
        f"codex exec -s workspace-write {TASK}",
        "reconnect",
        until="Reconnecting...",
        about="a stream cut short, then a slow one: codex retries",
    ),
    Scenario(
        "codex",
        "refresh-reused",
        f"codex exec -s workspace-write {TASK}",
        "refresh-reused",
        auth="chatgpt",
        stream_retries=2,
        about="ChatGPT login, stale token; refresh says refresh_token_reused",
    ),
    Scenario(
        "codex",
        "refresh-expired",
        f"codex exec -s workspace-write {TASK}",
        "refresh-expired",
        auth="chatgpt",
        stream_retries=2,
        about="ChatGPT login, stale token; refresh says refresh_token_expired",
    ),
]


SCENARIOS += [
    # ------------------------------------------------------------------ Claude Code
    Scenario(
        "claude",
        "success",
        f"claude -p {TASK} --allowedTools Bash",
        "commit",
        about="runs Bash: edits README.md, commits, says so, exit 0",
    ),
    Scenario(
        "claude",
        "root-bypass",
        f"claude -p {TASK} --dangerously-skip-permissions",
        "ok",
        about="run as root (as the test bed is): Claude Code refuses the flag, exit 1",
        root=True,
    ),
    Scenario(
        "claude",
        "no-login",
        f"claude -p {TASK}",
        "ok",
        auth="none",
        about="no API key, never logged in",
    ),
    Scenario(
        "claude",
        "unauthorized",
        f"claude -p {TASK}",
        "unauthorized",
        retries=2,
        about="401 authentication_error: invalid x-api-key",
    ),
    Scenario(
        "claude",
        "oauth-expired",
        f"claude -p {TASK}",
        "oauth-expired",
        retries=2,
        about="401 authentication_error: OAuth token has expired",
    ),
    Scenario(
        "claude",
        "rate-limit",
        f"claude -p {TASK}",
        "rate-limit",
        retries=2,
        about="429 rate_limit_error on every attempt",
    ),
    Scenario(
        "claude",
        "session-limit",
        f"claude -p {TASK}",
        "session-limit",
        auth="oauth",
        retries=2,
        about="a subscriber (OAuth token) at the five-hour limit: 429 rejected",
    ),
    Scenario(
        "claude",
        "session-limit-key",
        f"claude -p {TASK}",
        "session-limit-key",
        retries=2,
        about="the same 429 to an API-key user",
    ),
    Scenario(
        "claude",
        "overloaded",
        f"claude -p {TASK}",
        "overloaded",
        retries=2,
        about="529 overloaded_error on every attempt",
    ),
    Scenario(
        "claude",
        "credit",
        f"claude -p {TASK}",
        "credit",
        retries=2,
        about="400: credit balance too low",
    ),
    Scenario(
        "claude",
        "server-error",
        f"claude -p {TASK}",
        "server-error",
        retries=2,
        about="500 api_error on every attempt",
    ),
    Scenario(
        "claude",
        "retrying",
        f"claude -p {TASK}",
        "overloaded",
        until="attempt 4 of 10",
        retries=10,
        about="529 on every attempt, Claude Code's default 10 retries: it says it retries",
    ),
    Scenario(
        "claude",
        "slow",
        f"claude -p {TASK}",
        "slow",
        until="@request",
        about="a stream that only pings: Claude Code waits",
    ),
]

SCENARIOS += [
    # ------------------------------------------------------------------ gemini-cli
    Scenario(
        "gemini",
        "success",
        f"gemini -y -p {TASK}",
        "commit",
        about="runs a shell command: edits README.md, commits, says so, exit 0",
    ),
    Scenario(
        "gemini",
        "no-auth",
        f"gemini -p {TASK}",
        "ok",
        auth="none",
        about="no API key, no auth type chosen",
    ),
    Scenario(
        "gemini",
        "untrusted",
        f"gemini -p {TASK}",
        "ok",
        about="folder trust on, the folder not trusted",
    ),
    Scenario(
        "gemini", "unauthorized", f"gemini -p {TASK}", "unauthorized", about="400 API_KEY_INVALID"
    ),
    Scenario(
        "gemini",
        "quota",
        f"gemini -p {TASK}",
        "quota",
        about="429 with a per-day QuotaFailure: the daily quota",
    ),
    Scenario(
        "gemini",
        "rate-limit",
        f"gemini -p {TASK}",
        "rate-limit",
        about="plain 429 RESOURCE_EXHAUSTED on every attempt",
    ),
    Scenario(
        "gemini",
        "server-error",
        f"gemini -p {TASK}",
        "server-error",
        about="500 INTERNAL on every attempt",
    ),
    Scenario(
        "gemini",
        "slow",
        f"gemini -p {TASK}",
        "slow",
        until="Working",
        about="a stream that sends one chunk and then keeps the line open",
    ),
]

SCENARIOS += [
    # ------------------------------------------------------------------ ralphy
    Scenario(
        "ralphy",
        "full-auto",
        "ralphy --codex --prd PRD.md",
        "ok",
        files={"PRD.md": PRD},
        about="ralphy still runs `codex exec --full-auto`: every task fails at once",
    ),
    Scenario(
        "ralphy",
        "parallel",
        "ralphy --codex --parallel --prd PRD.md",
        "ok",
        files={"PRD.md": PRD},
        about="the same in --parallel",
    ),
]


def by_id(scenario_id: str) -> Scenario:
    return next(s for s in SCENARIOS if s.id == scenario_id)
