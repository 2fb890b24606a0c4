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
    rows = []
    for line in data.split(b"\n"):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


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
