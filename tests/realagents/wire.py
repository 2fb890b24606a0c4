"""What the fake API answers, per agent and scenario: the bytes each agent parses.

``answer(request, attempt, resets_at)`` picks the API by the request's path and the answer by
its scenario (the path's first segment); ``attempt`` counts the requests of one scenario key
to one path, from 1. The formats, as the pinned releases parse them:

- codex (Responses API, ``POST …/v1/responses``): SSE events ``response.created``,
  ``response.output_item.done`` (``message`` or ``function_call`` items),
  ``response.completed`` (with ``usage``) or ``response.failed`` (``error.code``); HTTP errors
  as ``{"error": {...}}``; a usage limit is a 429 whose ``error.type`` is
  ``usage_limit_reached`` with ``resets_at``; rate limits ride in ``x-codex-primary-*``
  headers (codex-rs ``codex-api/src/sse/responses.rs``, ``api_bridge.rs``,
  ``rate_limits.rs``). ChatGPT's token refresh is ``POST …/oauth/token``.
- Claude Code (Messages API, ``POST …/v1/messages``): SSE ``message_start``,
  ``content_block_*``, ``message_delta``, ``message_stop``; errors as ``{"type": "error",
  "error": {"type", "message"}}``; a subscriber's limit is a 429 with the
  ``anthropic-ratelimit-unified-*`` headers.
- gemini-cli (``POST …/v1beta/models/M:streamGenerateContent?alt=sse``): ``data:`` chunks of
  ``candidates``; the model router's classifier asks ``:generateContent`` for JSON; errors as
  Google RPC ``{"error": {"code", "message", "status", "details"}}``.
"""

from __future__ import annotations

import json
import time
import typing as t

if t.TYPE_CHECKING:
    from tests.realagents.fakeapi import Request

SLOW_TICKS = 900  # a slow stream sends one small event a second, this many times
Json = dict[str, t.Any]


class Reply(t.NamedTuple):
    """A status, headers and the body as chunks; a float chunk is a pause in seconds.

    A streamed reply (``stream``) has no length and ends by closing the connection, so a
    body without its final event is a stream cut short.
    """

    status: int
    headers: dict[str, str]
    chunks: list[bytes | float]
    stream: bool = False


def sse(event: str | None, data: object) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def json_reply(status: int, body: object, headers: dict[str, str] | None = None) -> Reply:
    head = {"content-type": "application/json", **(headers or {})}
    return Reply(status, head, [json.dumps(body).encode()])


def sse_reply(chunks: list[bytes | float], headers: dict[str, str] | None = None) -> Reply:
    return Reply(200, {"content-type": "text/event-stream", **(headers or {})}, chunks, True)


def not_found(request: Request) -> Reply:
    return json_reply(404, {"error": {"message": f"fakeapi: no route for {request.path}"}})


def answer(request: Request, attempt: int, resets_at: int) -> Reply:
    path = request.path.split("?")[0]
    if path.endswith("/v1/responses"):
        return codex(request, attempt, resets_at)
    if path.endswith("/oauth/token"):
        return codex_refresh(request)
    if path.endswith("/v1/models"):
        return json_reply(200, {"models": []})
    if path.endswith("/v1/messages"):
        return claude(request, resets_at)
    if ":streamGenerateContent" in path or ":generateContent" in path:
        return gemini(request)
    return not_found(request)


# What a model asks the agent to run in the scenarios that edit and commit.
EDIT = (
    "printf 'hello from {agent}\\n' >> README.md && git commit -qam 'Say hello'"
    " && git log --oneline -1"
)
DONE = "Added a greeting to README.md."
NOTHING = "Done. Nothing needed changing."

# ---------------------------------------------------------------------------- codex

CODEX_USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 40,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 1240,
}

# scenario → (HTTP status, the error object): answered to every request of the scenario
CODEX_ERRORS: dict[str, tuple[int, Json]] = {
    "rate-limit": (
        429,
        {
            "type": "requests",
            "code": "rate_limit_exceeded",
            "message": "Rate limit reached for requests per min (RPM).",
        },
    ),
    "unauthorized": (
        401,
        {
            "type": "invalid_request_error",
            "code": "invalid_api_key",
            "message": "Incorrect API key provided: sk-fake***. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
        },
    ),
    "server-error": (500, {"type": "server_error", "message": "The server had an error."}),
    "overloaded": (503, {"code": "server_is_overloaded", "message": "Service overloaded."}),
}
# ChatGPT login with a stale access token: the API refuses it, codex refreshes, and the
# token endpoint refuses the refresh token for the scenario's reason.
CODEX_REFRESH_ERRORS = {
    "refresh-reused": "refresh_token_reused",
    "refresh-expired": "refresh_token_expired",
    "refresh-revoked": "refresh_token_invalidated",
}
CODEX_TOKEN_EXPIRED: Json = {
    "type": "invalid_request_error",
    "code": "token_expired",
    "message": "Provided authentication token is expired. Please try signing in again.",
}


def _codex_rate_headers(resets_at: int, used: float) -> dict[str, str]:
    return {
        "x-codex-primary-used-percent": f"{used:g}",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": str(resets_at),
        "x-codex-secondary-used-percent": "41",
        "x-codex-secondary-window-minutes": "10080",
        "x-codex-secondary-reset-at": str(resets_at + 3 * 86400),
    }


def _codex_event(kind: str, **fields: object) -> bytes:
    return sse(kind, {"type": kind, **fields})


def _codex_turn(items: list[Json]) -> list[bytes | float]:
    chunks: list[bytes | float] = [_codex_event("response.created", response={"id": "resp_fake"})]
    chunks += [_codex_event("response.output_item.done", item=item) for item in items]
    done = {"id": "resp_fake", "usage": CODEX_USAGE}
    chunks.append(_codex_event("response.completed", response=done))
    return chunks


def _codex_message(text: str) -> Json:
    content = [{"type": "output_text", "text": text}]
    return {"type": "message", "role": "assistant", "id": "msg_fake", "content": content}


def _codex_slow() -> list[bytes | float]:
    """A message that trickles in, a character a second (codex prints it when it is done)."""
    item = {"type": "message", "role": "assistant", "id": "msg_slow", "content": []}
    chunks: list[bytes | float] = [
        _codex_event("response.created", response={"id": "resp_slow"}),
        _codex_event("response.output_item.added", output_index=0, item=item),
    ]
    for _ in range(SLOW_TICKS):
        chunks += [1.0, _codex_event("response.output_text.delta", delta=".")]
    return chunks


def _codex_error(status: int, error: Json, headers: dict[str, str] | None = None) -> Reply:
    return json_reply(status, {"error": error}, {"x-request-id": "req_fake", **(headers or {})})


def codex(request: Request, attempt: int, resets_at: int) -> Reply:
    body = request.json() or {}
    items = body.get("input") or [{}]
    after_tool = items[-1].get("type") == "function_call_output"
    scenario = request.scenario
    headers = _codex_rate_headers(resets_at, 12.0)
    if scenario == "commit-then-limit" and not after_tool:
        scenario = "commit"  # a turn of work first; the next request meets the usage limit
    if scenario in {"ok", "resume"}:
        return sse_reply(_codex_turn([_codex_message(NOTHING)]), headers)
    if scenario in {"commit", "edit"}:
        if after_tool:
            return sse_reply(_codex_turn([_codex_message(DONE)]), headers)
        arguments = {"cmd": EDIT.format(agent="codex"), "login": False}
        call = {
            "type": "function_call",
            "id": "fc_fake",
            "call_id": "call_fake",
            "name": "exec_command",
            "arguments": json.dumps(arguments),
        }
        return sse_reply(_codex_turn([call]), headers)
    if scenario == "limit-then-ok" and time.time() >= resets_at:
        # the limit is over: the (resumed) conversation goes on
        return sse_reply(_codex_turn([_codex_message(NOTHING)]), headers)
    if scenario in {"usage-limit", "usage-limit-chatgpt", "limit-then-ok", "commit-then-limit"}:
        error = {
            "type": "usage_limit_reached",
            "message": "The usage limit has been reached",
            "plan_type": "plus",
            "resets_at": resets_at,
        }
        return _codex_error(429, error, _codex_rate_headers(resets_at, 100.0))
    if scenario == "credits-depleted":
        # the same 429, the header naming whose limit: codex says the workspace is out of credits
        error = {"type": "usage_limit_reached", "message": "The usage limit has been reached"}
        limit = {"x-codex-rate-limit-reached-type": "workspace_owner_credits_depleted"}
        return _codex_error(429, error, {**_codex_rate_headers(resets_at, 100.0), **limit})
    if scenario == "plan-not-included":
        # a 429 `usage_not_included`: the account's plan has no Codex
        error = {"type": "usage_not_included", "message": "Codex is not included in your plan"}
        return _codex_error(429, error)
    if scenario in CODEX_ERRORS:
        return _codex_error(*CODEX_ERRORS[scenario])
    if scenario in CODEX_REFRESH_ERRORS:
        return _codex_error(401, CODEX_TOKEN_EXPIRED)
    if scenario == "quota":
        error = {
            "code": "insufficient_quota",
            "message": "You exceeded your current quota, please check your plan and billing "
            "details.",
        }
        chunks: list[bytes | float] = [
            _codex_event("response.created", response={"id": "resp_fake"}),
            _codex_event("response.failed", response={"id": "resp_fake", "error": error}),
        ]
        return sse_reply(chunks)
    if scenario == "slow":
        return sse_reply(_codex_slow(), headers)
    if scenario == "reconnect":
        if attempt == 1:  # a stream cut short: codex says it is reconnecting, tries again
            return sse_reply([_codex_event("response.created", response={"id": "resp_cut"})])
        return sse_reply(_codex_slow(), headers)
    return not_found(request)


def codex_refresh(request: Request) -> Reply:
    """ChatGPT's token endpoint (CODEX_REFRESH_TOKEN_URL_OVERRIDE): refusals by scenario."""
    code = CODEX_REFRESH_ERRORS.get(request.scenario)
    if code is None:
        return not_found(request)
    return json_reply(401, {"error": {"code": code, "message": "refresh token is not valid"}})


# ---------------------------------------------------------------------- Claude Code

CLAUDE_MODEL = "claude-sonnet-4-5"

# scenario → (HTTP status, error type, message): answered to every request of the scenario
CLAUDE_ERRORS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (401, "authentication_error", "invalid x-api-key"),
    "oauth-expired": (
        401,
        "authentication_error",
        "OAuth token has expired. Please obtain a new token or refresh your existing token.",
    ),
    "rate-limit": (
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit "
        "(https://docs.claude.com/en/api/rate-limits); see the response headers for current "
        "usage. Please reduce the prompt length or the maximum tokens requested, or try again "
        "later. You may also contact sales at https://www.anthropic.com/contact-sales to "
        "discuss your options for a rate limit increase.",
    ),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "credit": (
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
        "Billing to upgrade or purchase credits.",
    ),
    "server-error": (500, "api_error", "Internal server error"),
}
CLAUDE_LIMIT_MESSAGE = (
    "This request would exceed your account's rate limit. Please try again later."
)


def _claude_error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}
    return json_reply(status, body, {"request-id": "req_fake", **(headers or {})})


def _claude_event(kind: str, **fields: object) -> bytes:
    return sse(kind, {"type": kind, **fields})


def _claude_turn(blocks: list[Json], stop: str) -> list[bytes | float]:
    message: Json = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": CLAUDE_MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 1200, "output_tokens": 1},
    }
    chunks: list[bytes | float] = [_claude_event("message_start", message=message)]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            start: Json = {"type": "text", "text": ""}
            delta: Json = {"type": "text_delta", "text": block["text"]}
        else:
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        chunks.append(_claude_event("content_block_start", index=index, content_block=start))
        chunks.append(_claude_event("content_block_delta", index=index, delta=delta))
        chunks.append(_claude_event("content_block_stop", index=index))
    end = {"stop_reason": stop, "stop_sequence": None}
    chunks.append(_claude_event("message_delta", delta=end, usage={"output_tokens": 40}))
    chunks.append(_claude_event("message_stop"))
    return chunks


def _claude_plain(text: str) -> Reply:
    message = {
        "id": "msg_side",
        "type": "message",
        "role": "assistant",
        "model": CLAUDE_MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1},
    }
    return json_reply(200, message)


def claude(request: Request, resets_at: int) -> Reply:
    body = request.json() or {}
    messages = body.get("messages") or [{}]
    last = messages[-1].get("content")
    after_tool = isinstance(last, list) and any(
        isinstance(part, dict) and part.get("type") == "tool_result" for part in last
    )
    scenario = request.scenario
    if scenario in CLAUDE_ERRORS:
        return _claude_error(*CLAUDE_ERRORS[scenario])
    if not body.get("stream"):  # a side request (a title, a probe): answered plainly
        return _claude_plain("ok")
    if scenario == "ok":
        return sse_reply(_claude_turn([{"type": "text", "text": NOTHING}], "end_turn"))
    if scenario == "commit":
        if after_tool:
            return sse_reply(_claude_turn([{"type": "text", "text": DONE}], "end_turn"))
        command = {"command": EDIT.format(agent="claude"), "description": "Add a greeting"}
        call = {"type": "tool_use", "id": "toolu_fake", "name": "Bash", "input": command}
        return sse_reply(_claude_turn([call], "tool_use"))
    if scenario in {"session-limit", "session-limit-key"}:
        headers = {
            "anthropic-ratelimit-unified-status": "rejected",
            "anthropic-ratelimit-unified-reset": str(resets_at),
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-5h-status": "rejected",
            "anthropic-ratelimit-unified-5h-reset": str(resets_at),
            "anthropic-ratelimit-unified-5h-utilization": "1.0",
        }
        return _claude_error(429, "rate_limit_error", CLAUDE_LIMIT_MESSAGE, headers)
    if scenario == "slow":
        chunks = _claude_turn([{"type": "text", "text": ""}], "end_turn")[:2]
        for _ in range(SLOW_TICKS):
            chunks += [1.0, _claude_event("ping")]
        return sse_reply(chunks)
    return not_found(request)


# ---------------------------------------------------------------------- gemini-cli

GEMINI_USAGE = {"promptTokenCount": 1200, "candidatesTokenCount": 40, "totalTokenCount": 1240}
GEMINI_DAILY_QUOTA: list[Json] = [
    {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/"
                "generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                "quotaDimensions": {"location": "global", "model": "gemini-2.5-pro"},
                "quotaValue": "100",
            }
        ],
    },
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "43200s"},
]
GEMINI_BAD_KEY: list[Json] = [
    {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
    }
]
# scenario → (HTTP status, RPC status, message, details)
GEMINI_ERRORS: dict[str, tuple[int, str, str, list[Json]]] = {
    "unauthorized": (
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        GEMINI_BAD_KEY,
    ),
    "quota": (
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        GEMINI_DAILY_QUOTA,
    ),
    "rate-limit": (
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
        [],
    ),
    "server-error": (500, "INTERNAL", "An internal error has occurred.", []),
}


def _gemini_chunk(parts: list[Json], finish: str | None = "STOP") -> bytes:
    candidate: Json = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    data = {"candidates": [candidate], "usageMetadata": GEMINI_USAGE}
    return sse(None, {**data, "modelVersion": "gemini-2.5-pro"})


def _gemini_error(status: int, code: str, message: str, details: list[Json]) -> Reply:
    error = {"code": status, "message": message, "status": code, "details": details}
    return json_reply(status, {"error": error})


def gemini(request: Request) -> Reply:
    body = request.json() or {}
    contents = body.get("contents") or [{}]
    parts = contents[-1].get("parts") or []
    after_tool = any("functionResponse" in p for p in parts if isinstance(p, dict))
    scenario = request.scenario
    if ":generateContent" in request.path and scenario != "unauthorized":
        # The model router's classifier (a small model with its own quota) asks for JSON,
        # not a stream. It is answered in every scenario but a bad key, so that only the main
        # request meets the scenario (and only its retries count).
        verdict = {"complexity_reasoning": "Single file, specific edit.", "complexity_score": 30}
        candidate = {
            "content": {"role": "model", "parts": [{"text": json.dumps(verdict)}]},
            "finishReason": "STOP",
            "index": 0,
        }
        return json_reply(200, {"candidates": [candidate], "usageMetadata": GEMINI_USAGE})
    if scenario in GEMINI_ERRORS:
        return _gemini_error(*GEMINI_ERRORS[scenario])
    if scenario == "ok":
        return sse_reply([_gemini_chunk([{"text": NOTHING}])])
    if scenario == "commit":
        if after_tool:
            return sse_reply([_gemini_chunk([{"text": DONE}])])
        args = {"command": EDIT.format(agent="gemini"), "description": "Add a greeting"}
        call = {"functionCall": {"name": "run_shell_command", "args": args}}
        return sse_reply([_gemini_chunk([call])])
    if scenario == "slow":
        chunks: list[bytes | float] = [_gemini_chunk([{"text": "Working"}], None)]
        for _ in range(SLOW_TICKS):
            chunks += [1.0, b": keep-alive\n\n"]
        return sse_reply(chunks)
    return not_found(request)
