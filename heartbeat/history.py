"""History: the journal of checks, ``journal.jsonl`` in the state folder (DESIGN §8).

One JSON object a line. Every check that writes adds a ``check`` line with its
time; a check that changed something adds one ``session`` line per event (the
session, its diagnosis, the action, the detail, the state word before and
after, and what the morning report needs later: its folder, its command, its
agent and account, the agent's own session id). ``report --write`` and the
daily digest add a ``digest`` line. So a stretch with no ``check`` line — the
machine asleep, the scheduler stopped — can be told from a quiet one.

Written with one ``os.write`` of whole lines on an ``O_APPEND`` descriptor: a
crash mid-write loses at most the line being written; a torn last line is
closed with a newline before the next append, and the reader skips any line
that is not JSON. Kept 14 days and at most ``MAX_BYTES``: pruned (rewritten
atomically) when the oldest line is older than that, or the file too large.

This module is on a quiet check's path: it imports only what the check has
already loaded (``json``, ``os``), and a quiet check costs one open, one
``fstat``, two small ``pread``s and one ``write``.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import typing as t

from heartbeat.words import Action, Diagnosis

if t.TYPE_CHECKING:
    import pathlib
    from collections.abc import Iterable, Sequence

    from heartbeat.check.act import Outcome
    from heartbeat.state import SessionState

JOURNAL_FILE = "journal.jsonl"
KEEP_DAYS = 14
#: A bound whatever the number of sessions and checks (a minute's check for 14 days
#: writes about 1 MiB of check lines).
MAX_BYTES = 8 * 1024 * 1024
#: How much of the file's head holds the oldest line's time.
HEAD_BYTES = 200
#: A state word that says the session is no longer in the notes (marked done, removed).
LEFT = "left"
#: Diagnoses whose events carry the hint (the morning report's "why it needs you").
HINTED = frozenset(
    {
        Diagnosis.AUTH_EXPIRED,
        Diagnosis.MISCONFIGURED,
        Diagnosis.WAITING_INPUT,
        Diagnosis.NOT_OWNED,
        Diagnosis.STALLED,
        Diagnosis.FAILED,
    }
)
#: codex's closing lines: ``tokens used`` and, on the next line, the count (``2,480``).
TOKENS_USED_RE = re.compile(r"^tokens used\s*\n\s*([\d,]+)\s*$", re.M)


def journal_path(state_dir: pathlib.Path) -> pathlib.Path:
    return state_dir / JOURNAL_FILE


def stamp(now: datetime.datetime) -> str:
    """The journal's time: ISO 8601 with the offset, to the second."""
    return now.isoformat(timespec="seconds")


def state_word(outcome: Outcome) -> str:
    """The session's state after this check: its diagnosis, or ``restarted``, ``gave_up``."""
    if outcome.restarted:
        return "restarted"
    if outcome.action == Action.GAVE_UP:
        return "gave_up"
    return str(outcome.decision.diagnosis)


def session_events(
    outcomes: Sequence[Outcome],
    before: dict[str, SessionState | None],
    watched: Iterable[tuple[str, SessionState]],
    now: datetime.datetime,
    noted: set[str],
) -> list[dict[str, object]]:
    """One event per session whose state word changed, that restarted or was noted.

    *before* is each session's memory before this check (its ``journaled`` word is
    what the journal said last); *watched* every remembered session, so that one
    the notes no longer list is journaled once as ``left``. *noted* are the names
    whose line this check writes into the note. Mutates nothing.
    """
    when = stamp(now)
    events: list[dict[str, object]] = []
    seen = set()
    for outcome in outcomes:
        name = outcome.name
        seen.add(name)
        memory = before.get(name)
        was = memory.journaled if memory is not None else None
        after = state_word(outcome)
        if after == was and not outcome.restarted and name not in noted:
            continue
        obs, decision = outcome.obs, outcome.decision
        event: dict[str, object] = {
            "time": when,
            "kind": "session",
            "session": name,
            "diagnosis": str(decision.diagnosis),
            "action": str(outcome.action),
            "detail": outcome.detail,
            "before": was,
            "after": after,
            "check": when,
            "new": memory is None or memory.seen == 0.0,
            "agent": obs.profile,
            "account": obs.account,
            "agent_session": outcome.memory.agent_session or obs.agent_session,
            "dir": obs.entry.dir or obs.cwd or outcome.memory.last_dir,
            "command": obs.entry.command,
            "started": obs.started_at,
        }
        if decision.diagnosis in HINTED and decision.hint:
            event["hint"] = decision.hint
        tokens = tokens_used(obs.output) if obs.hook else None
        if tokens is not None:
            event["tokens_used"] = tokens
        events.append(event)
    for name, memory in watched:
        if name in seen or memory.journaled in (None, LEFT):
            continue
        events.append(
            {
                "time": when,
                "kind": "session",
                "session": name,
                "diagnosis": None,
                "action": "none",
                "detail": "no longer in the notes",
                "before": memory.journaled,
                "after": LEFT,
                "check": when,
            }
        )
    return events


def tokens_used(output: str) -> int | None:
    """The count of codex's closing ``tokens used`` line in a pane, if it printed one."""
    if "tokens used" not in output:
        return None
    found = TOKENS_USED_RE.findall(output)
    return int(found[-1].replace(",", "")) if found else None


def append(
    state_dir: pathlib.Path, now: datetime.datetime, events: Sequence[dict[str, object]] = ()
) -> str | None:
    """Append this check's line and its *events*; a warning instead of raising.

    One write of whole lines on an O_APPEND descriptor; a torn last line (a
    crash mid-write) is ended first, so it breaks no other line. Prunes when
    the oldest line is past ``KEEP_DAYS`` or the file is over ``MAX_BYTES``.
    """
    lines: list[dict[str, object]] = [{"time": stamp(now), "kind": "check"}, *events]
    return _write(state_dir, lines, now)


def append_digest(
    state_dir: pathlib.Path, now: datetime.datetime, day: datetime.date, by: str
) -> str | None:
    """Record that the digest of *day* was written (by the check or ``report --write``)."""
    line: dict[str, object] = {"time": stamp(now), "kind": "digest", "day": day.isoformat()}
    line["by"] = by
    return _write(state_dir, [line], now)


def _write(
    state_dir: pathlib.Path, lines: Sequence[dict[str, object]], now: datetime.datetime
) -> str | None:
    path = journal_path(state_dir)
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as error:
        return f"{path}: the journal cannot be written ({error.strerror})"
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a line torn by a crash stays alone, and is skipped
        os.write(fd, data)
        size += len(data)
        head = os.pread(fd, HEAD_BYTES, 0)
    except OSError as error:
        return f"{path}: the journal cannot be written ({error.strerror})"
    finally:
        os.close(fd)
    oldest = _time_of(head)
    cutoff = now.timestamp() - KEEP_DAYS * 86400
    if size > MAX_BYTES or (oldest is not None and oldest < cutoff):
        return prune(state_dir, now)
    return None


def _time_of(head: bytes) -> float | None:
    """The time of the first line, read from the file's first bytes."""
    found = re.match(rb'\{"time": "([^"]+)"', head)
    if not found:
        return None
    try:
        return datetime.datetime.fromisoformat(found.group(1).decode()).timestamp()
    except ValueError:
        return None


def prune(state_dir: pathlib.Path, now: datetime.datetime) -> str | None:
    """Keep the last ``KEEP_DAYS`` days, within ``MAX_BYTES``: rewritten atomically.

    Only a check (under the check lock) prunes; a line appended meanwhile by
    ``report --write`` is carried over (read again just before the rename).
    """
    from memory_schema import atomic_write

    path = journal_path(state_dir)
    cutoff = now.timestamp() - KEEP_DAYS * 86400
    try:
        raw = path.read_bytes()
        kept = [line for line in raw.splitlines(keepends=True) if _keep(line, cutoff)]
        while kept and sum(map(len, kept)) > MAX_BYTES // 2:
            kept = kept[len(kept) // 4 :]
        data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in kept)
        later = path.read_bytes()[len(raw) :]
        atomic_write(path, data + later, mode=0o600)
    except OSError as error:
        return f"{path}: the journal cannot be pruned ({error.strerror})"
    return None


def _keep(line: bytes, cutoff: float) -> bool:
    when = _time_of(line)
    return when is not None and when >= cutoff


def read(state_dir: pathlib.Path) -> list[dict[str, t.Any]]:
    """Every readable line of the journal, in order; a torn or foreign line is skipped."""
    try:
        raw = journal_path(state_dir).read_bytes()
    except OSError:
        return []
    rows = []
    for line in raw.splitlines():
        try:
            row = json.loads(line)
            when = datetime.datetime.fromisoformat(row["time"])
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(row, dict) and when.tzinfo is not None:
            row["ts"] = when.timestamp()
            rows.append(row)
    return rows
