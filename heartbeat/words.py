"""The words a check speaks (DESIGN §4, §5): diagnoses, actions, note statuses, pane states.

They are ``StrEnum`` members, so they compare equal to, and serialise as, the
plain strings of the JSON report and the note.
"""

from __future__ import annotations

import enum


class Diagnosis(enum.StrEnum):
    """What a check concluded about one session."""

    HEALTHY = "healthy"
    COMPLETED = "completed"
    READ_AND_EXIT = "read_and_exit"
    AUTH_EXPIRED = "auth_expired"
    RATE_LIMITED = "rate_limited"
    MISCONFIGURED = "misconfigured"
    FAILED = "failed"
    DIED = "died"
    STALLED = "stalled"
    WAITING_INPUT = "waiting_input"
    PAUSED = "paused"
    #: The session's pane runs something the check cannot tie to the logged agent.
    NOT_OWNED = "not_owned"
    #: An agent session on a watched server that no note lists.
    UNLOGGED = "unlogged"


class Action(enum.StrEnum):
    """What a check did (or, read-only, would do) about it."""

    NONE = "none"
    RESTARTED = "restarted"
    REPORTED = "reported"
    VERIFIED = "verified"
    BACKOFF = "backoff"
    GAVE_UP = "gave_up"


class Status(enum.StrEnum):
    """The status word of a canonical entry in the note (DESIGN §3)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DIED = "died"
    RESTARTED = "restarted"
    BLOCKED = "blocked"
    STALLED = "stalled"
    PAUSED = "paused"


class PaneState(enum.StrEnum):
    """A session's process state (the JSON ``state``)."""

    RUNNING = "running"
    EXITED = "exited"
    DEAD = "dead"


class Kind(enum.StrEnum):
    """What one of an agent's lines says: a signature's ``kind`` (its profile's data)."""

    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    #: The agent rejected its own command line or setup: a restart cannot help.
    CONFIG = "config"
    TRANSIENT = "transient"
    #: The agent retrying by itself (``Reconnecting... 2/5``): not a failure.
    RETRY = "retry"
    PROMPT = "prompt"
    #: The completion hook's ``EXITED: N``.
    FINISH = "finish"
    RESUME_FAILED = "resume_failed"
    TASK_FAILED = "task_failed"
    SUMMARY_COMPLETED = "summary_completed"
    SUMMARY_FAILED = "summary_failed"


class Block(enum.StrEnum):
    """Why a session is not restarted until the user acts (the remembered ``blocked``)."""

    AUTH = "auth"
    MISCONFIGURED = "misconfigured"
    GAVE_UP = "gave_up"


#: Diagnoses that need nobody's attention (exit status 0).
FINE = frozenset({Diagnosis.HEALTHY, Diagnosis.COMPLETED, Diagnosis.PAUSED})


def format_duration(seconds: float | None, *, compact: bool = False) -> str:
    """Seconds under 90 s, whole minutes (rounded down) under 90 min, hours with one
    decimal under 48 h, else days with one decimal. Negative lengths read as 0 s.

    ``compact`` is the table's form (``45s``, ``12m``, ``3.5h``, ``2.0d``); None is
    ``-`` (a table's empty cell).
    """
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    units = ("s", "m", "h", "d") if compact else (" s", " min", " h", " days")
    if seconds < 90:
        return f"{int(seconds)}{units[0]}"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)}{units[1]}"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f}{units[2]}"
    return f"{seconds / 86400:.1f}{units[3]}"
