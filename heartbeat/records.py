"""What the agents record about their own sessions: the session id, a limit and its reset.

Records come before text (DESIGN §4): codex's rollout files
(``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``: ``session_meta``,
``token_count`` events with ``rate_limits.primary|secondary.{used_percent,
resets_at}``, a failure's ``codex_error_info``) and Claude Code's transcripts
(``~/.claude/projects/<folder slug>/<id>.jsonl``: ``apiErrorStatus``). Only the
tail of a record is read, so the cost does not follow its size. Never raises.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import typing as t

TAIL_BYTES = 256 * 1024
LIMIT_KINDS = {"usage_limit_exceeded", "usage_limit_reached", "rate_limit", "429"}


@dataclasses.dataclass(frozen=True)
class Record:
    """One agent session as its own files tell it."""

    session_id: str
    path: str
    #: The limit the agent recorded hitting (``usage_limit_exceeded``, ``429`` …), if any.
    limit: str | None = None
    #: When that limit resets (epoch seconds), where the record says.
    reset: float | None = None


def read(kind: str | None, home: str | None, session_id: str | None) -> Record | None:
    """The record of *session_id* in the agent's folder *home*; None when there is none."""
    if not kind or not home or not session_id or not _safe(session_id):
        return None
    folder = pathlib.Path(home)
    if kind == "codex":
        found = sorted(folder.glob(f"sessions/*/*/*/rollout-*-{session_id}.jsonl"))
        return _codex(session_id, str(found[-1])) if found else None
    if kind == "claude":
        found = sorted(folder.glob(f"projects/*/{session_id}.jsonl"))
        return _claude(session_id, str(found[-1])) if found else None
    return None


def _safe(session_id: str) -> bool:
    return all(c.isalnum() or c == "-" for c in session_id) and len(session_id) <= 80


def _tail(path: str) -> list[dict[str, t.Any]]:
    try:
        with pathlib.Path(path).open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    return _objects(data)


def _codex(session_id: str, path: str) -> Record:
    limit: str | None = None
    windows: dict[str, t.Any] = {}
    for row in _tail(path):
        payload = row.get("payload")
        if row.get("type") != "event_msg" or not isinstance(payload, dict):
            continue
        if payload.get("type") == "token_count" and isinstance(payload.get("rate_limits"), dict):
            windows = payload["rate_limits"]
        error = payload.get("error") if payload.get("type") == "task_complete" else payload
        info = error.get("codex_error_info") if isinstance(error, dict) else None
        if isinstance(info, str) and info in LIMIT_KINDS:
            limit = info
        elif payload.get("type") == "task_complete" and not error:
            limit = None  # a later turn went through: the limit is over
    return Record(session_id, path, limit, _codex_reset(windows) if limit else None)


def _codex_reset(windows: dict[str, t.Any]) -> float | None:
    """The reset of the window that is full, else of the primary one."""
    full, primary = None, None
    for name in ("primary", "secondary"):
        window = windows.get(name)
        if not isinstance(window, dict) or not isinstance(window.get("resets_at"), int | float):
            continue
        resets = float(window["resets_at"])
        primary = primary if primary is not None else resets
        used = window.get("used_percent")
        if isinstance(used, int | float) and used >= 100:
            full = resets if full is None else max(full, resets)
    return full if full is not None else primary


def _claude(session_id: str, path: str) -> Record:
    limit: str | None = None
    for row in _tail(path):
        status = row.get("apiErrorStatus")
        if status == 429 or row.get("error") == "rate_limit":
            limit = "429"
        elif row.get("type") == "assistant" and not row.get("isApiErrorMessage"):
            limit = None
    return Record(session_id, path, limit)


#: The most of a record the morning report reads (a day's transcript is far smaller).
USAGE_BYTES = 64 * 1024 * 1024
#: Claude Code's limit windows (``quotaLimits.rateLimitType``), in minutes.
CLAUDE_WINDOWS = {
    "five_hour": 300,
    "seven_day": 10080,
    "seven_day_opus": 10080,
    "seven_day_sonnet": 10080,
}


class Usage(t.NamedTuple):
    """What an agent recorded it used: tokens, and the limit windows it was told about."""

    #: ``input`` (cached included), ``cached_input``, ``output``, ``total``; None: no record.
    tokens: dict[str, int] | None
    #: Each ``window_minutes``, ``used_percent``, ``resets_at`` (epoch seconds), as recorded.
    limits: list[dict[str, float | None]]
    #: The record read (a rollout or a transcript).
    source: str


def usage(
    kind: str | None,
    home: str | None,
    session_id: str | None,
    folder: str | None = None,
    since: float | None = None,
) -> Usage | None:
    """Tokens and limits from the agent's own records; None when none is found. Never raises.

    codex: the session's rollout, its last ``token_count`` event (``info.total_token_usage``
    and ``rate_limits``). Claude Code: the session's transcript (or, without its id, the
    transcripts of its folder written since *since*), the ``usage`` of each API response
    counted once, and the ``quotaLimits`` it recorded.
    """
    if not kind or not home:
        return None
    base = pathlib.Path(home)
    if kind == "codex":
        if not session_id or not _safe(session_id):
            return None
        found = sorted(base.glob(f"sessions/*/*/*/rollout-*-{session_id}.jsonl"))
        return _codex_usage(_rows(found[-1])) if found else None
    if kind == "claude":
        if session_id and _safe(session_id):
            files = sorted(base.glob(f"projects/*/{session_id}.jsonl"))
        elif folder:
            slug = "".join(c if c.isalnum() else "-" for c in os.path.expanduser(folder))
            files = [
                p
                for p in sorted((base / "projects" / slug).glob("*.jsonl"))
                if since is None or _mtime(p) >= since
            ]
        else:
            files = []
        rows = [row for path in files for row in _rows(path)]
        return _claude_usage(rows) if rows else None
    return None


def _mtime(path: pathlib.Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _rows(path: pathlib.Path) -> list[dict[str, t.Any]]:
    try:
        with path.open("rb") as handle:
            data = handle.read(USAGE_BYTES)
    except OSError:
        return []
    return _objects(data)


def _number(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _codex_usage(rows: list[dict[str, t.Any]]) -> Usage | None:
    tokens: dict[str, int] | None = None
    limits: list[dict[str, float | None]] = []
    for row in rows:
        payload = row.get("payload")
        if row.get("type") != "event_msg" or not isinstance(payload, dict):
            continue
        if payload.get("type") != "token_count":
            continue
        info = payload.get("info")
        total = info.get("total_token_usage") if isinstance(info, dict) else None
        if isinstance(total, dict):
            tokens = {
                "input": _number(total.get("input_tokens")),
                "cached_input": _number(total.get("cached_input_tokens")),
                "output": _number(total.get("output_tokens")),
                "total": _number(total.get("total_tokens")),
            }
        windows = payload.get("rate_limits")
        if isinstance(windows, dict):
            limits = [
                {
                    "window_minutes": _float(window.get("window_minutes")),
                    "used_percent": _float(window.get("used_percent")),
                    "resets_at": _float(window.get("resets_at")),
                }
                for name in ("primary", "secondary")
                if isinstance(window := windows.get(name), dict)
            ]
    if tokens is None and not limits:
        return None
    return Usage(tokens, limits, "rollout")


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _claude_usage(rows: list[dict[str, t.Any]]) -> Usage | None:
    counted: dict[tuple[object, object], dict[str, t.Any]] = {}
    windows: dict[str, dict[str, float | None]] = {}
    for row in rows:
        message = row.get("message")
        if row.get("type") == "assistant" and isinstance(message, dict):
            used = message.get("usage")
            if isinstance(used, dict):
                # one line per content block of a response, each with the response's usage
                request = row.get("requestId") or row.get("requestRef") or row.get("uuid")
                counted[(request, message.get("id"))] = used
        quota = row.get("quotaLimits")
        if isinstance(quota, dict) and isinstance(quota.get("rateLimitType"), str):
            kind = quota["rateLimitType"]
            utilization = _float(quota.get("utilization"))
            if utilization is not None:
                used_percent: float | None = utilization * 100
            else:
                used_percent = 100.0 if quota.get("status") == "rejected" else None
            windows[kind] = {
                "window_minutes": _float(CLAUDE_WINDOWS.get(kind)),
                "used_percent": used_percent,
                "resets_at": _float(quota.get("resetsAt")),
            }
    if not counted and not windows:
        return None
    tokens = None
    if counted:
        fresh = sum(_number(u.get("input_tokens")) for u in counted.values())
        written = sum(_number(u.get("cache_creation_input_tokens")) for u in counted.values())
        cached = sum(_number(u.get("cache_read_input_tokens")) for u in counted.values())
        output = sum(_number(u.get("output_tokens")) for u in counted.values())
        tokens = {
            "input": fresh + written + cached,
            "cached_input": cached,
            "output": output,
            "total": fresh + written + cached + output,
        }
    return Usage(tokens, list(windows.values()), "transcript")


def _objects(data: bytes) -> list[dict[str, t.Any]]:
    """The JSON objects of a JSON-lines text; a line cut or torn is passed over."""
    rows = []
    for line in data.split(b"\n"):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows
