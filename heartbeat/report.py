"""Rendering a check's result as text (the JSON is the result's own to_json)."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from heartbeat.check import CheckResult


def _duration(seconds: float | None) -> str:
    from heartbeat.timefmt import format_duration

    return format_duration(seconds, compact=True)


def render_table(result: CheckResult, *, status: bool = False) -> str:
    """The human table: name, state, diagnosis, action, running for, last output, hint."""
    lines: list[str] = []
    if result.server != "running":
        lines.append(f"tmux: {result.server_message}")
    if not result.sessions:
        where = ", ".join(result.notes) or "the notes"
        if result.problems:
            lines.append(f"no session could be watched from {where}: see the problems below")
        else:
            lines.append(f"no active sessions in {where}")
    else:
        header = ("SESSION", "STATE", "DIAGNOSIS", "ACTION", "UP", "IDLE", "RESTARTS")
        rows = [header]
        for s in result.sessions:
            rows.append(
                (
                    s.name,
                    s.state,
                    s.diagnosis,
                    "-" if status else s.action,
                    _duration(s.running_for),
                    _duration(s.idle),
                    str(s.restarts),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        for s in result.sessions:
            notes = []
            if s.detail:
                notes.append(s.detail)
            if s.hint:
                notes.append("hint: " + s.hint)
            if s.diagnosis not in {"healthy", "paused"}:
                notes.extend("> " + e for e in s.evidence)
                if s.diagnosis in {"stalled", "waiting_input"}:
                    notes.extend("| " + line for line in s.last_lines)
            if notes:
                lines.append(f"\n{s.name} ({s.source}):")
                lines.extend("  " + n for n in notes)
    if result.problems:
        lines.append("\nproblems:")
        lines.extend(f"  {p}" for p in result.problems)
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    for sent in result.notifications:
        if sent.get("error"):
            lines.append(f"warning: notification failed: {sent['error']}")
    if result.self_watch:
        lines.append(result.self_watch)
    if result.note_written:
        lines.append("the note was updated")
    return "\n".join(lines)


def render_changes(result: CheckResult) -> str:
    """Only what changed, and what needs fixing: one line each, stamped (cron's log)."""
    lines = [f"{result.checked_at} {event}" for event in result.events]
    lines += [f"{result.checked_at} problem: {p}" for p in result.problems]
    lines += [f"{result.checked_at} warning: {w}" for w in result.warnings]
    lines += [
        f"{result.checked_at} warning: notification failed: {n['error']}"
        for n in result.notifications
        if n.get("error")
    ]
    return "\n".join(lines)
