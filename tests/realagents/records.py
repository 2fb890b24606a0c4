"""What an agent wrote to disk in a run, read back: codex's rollout, Claude Code's transcript.

- codex: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``; each line is
  ``{"timestamp", "type", "payload"}``. Kept: the session id (``session_meta``), and the
  ``event_msg`` payloads that matter to a supervisor (``token_count`` with ``rate_limits``,
  ``error`` with ``codex_error_info``, ``stream_error``, ``task_complete``, ``turn_aborted``).
- Claude Code: ``~/.claude/projects/<folder slug>/<session id>.jsonl``; kept: the session id
  and the lines that record an API error (``isApiErrorMessage``, ``apiErrorStatus``).
- ralphy: codex's records, the PRD after the run (ralphy ticks boxes of failed tasks) and the
  repository's commit subjects.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import typing as t

if t.TYPE_CHECKING:
    from tests.realagents.bed import Bed

CODEX_EVENTS = {"token_count", "error", "stream_error", "task_complete", "turn_aborted", "warning"}


def _jsonl(path: pathlib.Path) -> list[dict[str, t.Any]]:
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def codex(codex_home: pathlib.Path) -> dict[str, t.Any]:
    files = sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))
    out: dict[str, t.Any] = {"rollouts": [str(p.relative_to(codex_home)) for p in files]}
    events: list[dict[str, t.Any]] = []
    for path in files:
        for row in _jsonl(path):
            payload = row.get("payload") or {}
            if row.get("type") == "session_meta":
                out["session_id"] = payload.get("id")
            elif row.get("type") == "event_msg" and payload.get("type") in CODEX_EVENTS:
                events.append(payload)
    out["events"] = events
    return out


def claude_project(home: pathlib.Path, workdir: pathlib.Path) -> pathlib.Path:
    """Claude Code's folder for one working folder: every non-alphanumeric becomes '-'."""
    slug = "".join(c if c.isalnum() else "-" for c in str(workdir))
    return home / ".claude" / "projects" / slug


def claude(home: pathlib.Path, workdir: pathlib.Path) -> dict[str, t.Any]:
    files = sorted(claude_project(home, workdir).glob("*.jsonl"))
    out: dict[str, t.Any] = {"transcripts": [str(p.relative_to(home)) for p in files]}
    errors = []
    for path in files:
        for row in _jsonl(path):
            out.setdefault("session_id", row.get("sessionId"))
            if row.get("isApiErrorMessage") or row.get("apiErrorStatus") or row.get("error"):
                errors.append(
                    {
                        key: row.get(key)
                        for key in ("type", "apiErrorStatus", "error", "isApiErrorMessage")
                        if key in row
                    }
                    | {"text": _text(row)}
                )
    out["errors"] = errors
    return out


def _text(row: dict[str, t.Any]) -> str:
    content = (row.get("message") or {}).get("content")
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return str(content or "")


def ralphy(codex_home: pathlib.Path, workdir: pathlib.Path) -> dict[str, t.Any]:
    """codex's records, and what ralphy leaves in the folder: the PRD's boxes, the commits."""
    out = codex(codex_home)
    prd = workdir / "PRD.md"
    out["prd"] = prd.read_text(encoding="utf-8") if prd.exists() else None
    log = subprocess.run(
        ["git", "-C", str(workdir), "log", "--format=%s"], capture_output=True, text=True
    )
    out["commits"] = log.stdout.splitlines()
    return out


def collect(bed: Bed) -> dict[str, t.Any]:
    agent = bed.scenario.agent
    if agent == "ralphy":
        return ralphy(pathlib.Path(bed.env["CODEX_HOME"]), bed.workdir)
    if agent == "codex":
        return codex(pathlib.Path(bed.env["CODEX_HOME"]))
    if agent == "claude":
        return claude(bed.home, bed.workdir)
    return {}
