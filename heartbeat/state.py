"""Persistent state between checks: restart history, holds, notices, log offsets.

Kept as one JSON file in the state folder, written atomically and bounded in
size. A corrupt file is moved aside with a warning and the check goes on from
a fresh state (never fatal).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import types
import typing as t

from heartbeat.debuglog import LazyLogger

if t.TYPE_CHECKING:
    from collections.abc import Callable

log = LazyLogger(__name__)
R = t.TypeVar("R")

STATE_FILE = "state.json"
#: Notifications that did not arrive yet (heartbeat.outbox), beside the state.
OUTBOX_FILE = "outbox.json"
VERSION = 1
#: Forget sessions not seen in the notes for this long (seconds).
FORGET_AFTER = 7 * 24 * 3600
MAX_LOG_EVENTS = 50
MAX_SESSIONS = 500
#: A last check later than now by more than this means the clock went back.
CLOCK_SLACK = 60.0


@dataclasses.dataclass
class SessionState:
    """What the heartbeat remembers about one session name."""

    restarts: list[float] = dataclasses.field(default_factory=list)
    healthy_since: float | None = None
    hold_until: float | None = None
    hold_reason: str | None = None
    rate_limit_attempts: int = 0
    blocked: str | None = None
    #: The pane's last working folder: where a restart goes when the note names none.
    last_dir: str | None = None
    #: The agent's own session id (codex's `session id:`, Claude's --session-id).
    agent_session: str | None = None
    #: The last restart resumed the agent's conversation (its id), not a fresh start.
    resumed_session: str | None = None
    #: A resume of this id failed: the next restart starts afresh.
    resume_failed: str | None = None
    #: The agent's first failure line last time it failed (the same again after a resume stops it).
    last_failure: str | None = None
    #: The credentials' stamp when an auth block began (a new login changes it).
    blocked_stamp: str | None = None
    #: The command that was misconfigured (a changed command in the note clears the block).
    blocked_command: str | None = None
    notified: str | None = None
    diagnosis: str | None = None
    incarnation: str | None = None
    verified: str | None = None
    restarted_at: float | None = None
    failures: int = 0
    seen: float = 0.0
    detail: str | None = None
    #: Set by `notes resume`: evidence from before this time no longer counts.
    resumed_at: float | None = None
    #: The incarnation that was running when the user resumed (its old errors are void).
    void_incarnation: str | None = None
    #: The agent's pane as last seen: its id, its process, its session's id and the
    #: server's socket (a session renamed while that pane runs is followed by these).
    pane_id: str | None = None
    pane_pid: int | None = None
    session_id: str | None = None
    server: str | None = None
    #: The name the session was last seen under, when the user renamed it.
    renamed: str | None = None
    #: The state word the journal (heartbeat.history) last wrote for the session.
    journaled: str | None = None
    #: A stamp of the command line the last restart started (``identity.launch_stamp``).
    launched: str | None = None


@dataclasses.dataclass
class LogEvent:
    time: float
    kind: str
    line: str


@dataclasses.dataclass
class State:
    sessions: dict[str, SessionState] = dataclasses.field(default_factory=dict)
    log_offsets: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    log_events: list[LogEvent] = dataclasses.field(default_factory=list)
    last_check: float | None = None
    checks: int = 0
    warnings: list[str] = dataclasses.field(default_factory=list)
    #: Agent sessions in no note, reported once: "SOCKET|SESSION ID|PANE ID" → when first seen.
    unlogged: dict[str, float] = dataclasses.field(default_factory=dict)
    #: The day (YYYY-MM-DD) whose digest a check wrote (one a day, DESIGN §8).
    digest_day: str | None = None

    def session(self, name: str) -> SessionState:
        return self.sessions.setdefault(name, SessionState())

    def rebase(self, now: float) -> float:
        """Undo a clock that went back since the last check; return by how much (seconds).

        Every stored time is shifted by the jump, so that the last check is now:
        the restart budget and the delays count real time elapsed, instead of
        holding a dead session until the clock catches up with its old times.
        A clock that went forward cannot be told from time that passed.
        """
        if self.last_check is None or self.last_check <= now + CLOCK_SLACK:
            return 0.0
        jump = self.last_check - now

        def back(value: float | None) -> float | None:
            return None if value is None else value - jump

        for session in self.sessions.values():
            session.restarts = [r - jump for r in session.restarts]
            session.seen -= jump
            session.healthy_since = back(session.healthy_since)
            session.hold_until = back(session.hold_until)
            session.restarted_at = back(session.restarted_at)
            session.resumed_at = back(session.resumed_at)
        for event in self.log_events:
            event.time -= jump
        self.last_check = now
        return jump

    def to_json(self) -> dict[str, t.Any]:
        """The state as JSON data (what ``dataclasses.asdict`` gives, without ``warnings``).

        Field by field: asdict deep-copies every value, which costs a check
        with fifty sessions more than its two tmux calls.
        """
        return {
            "sessions": {name: _plain(s) for name, s in self.sessions.items()},
            "log_offsets": {k: list(v) for k, v in self.log_offsets.items()},
            "log_events": [_plain(e) for e in self.log_events],
            "last_check": self.last_check,
            "checks": self.checks,
            "unlogged": dict(self.unlogged),
            "digest_day": self.digest_day,
            "version": VERSION,
        }

    def prune(self, now: float) -> None:
        """Bound the state: old restarts, old events, forgotten sessions."""
        for session in self.sessions.values():
            session.restarts = [r for r in session.restarts if now - r < 3600][-20:]
        stale = [n for n, s in self.sessions.items() if now - s.seen > FORGET_AFTER]
        for name in stale:
            del self.sessions[name]
        if len(self.sessions) > MAX_SESSIONS:
            keep = sorted(self.sessions.items(), key=lambda kv: kv[1].seen)[-MAX_SESSIONS:]
            self.sessions = dict(keep)
        self.log_events = self.log_events[-MAX_LOG_EVENTS:]
        for event in self.log_events:
            event.line = event.line[:500]
        if len(self.log_offsets) > 20:
            self.log_offsets = dict(list(self.log_offsets.items())[-20:])


def state_path(state_dir: pathlib.Path) -> pathlib.Path:
    return state_dir / STATE_FILE


def load_state(state_dir: pathlib.Path) -> State:
    """Read the state; a missing file is a fresh state, a corrupt one is moved aside."""
    path = state_path(state_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return State()
    except OSError as error:
        state = State()
        state.warnings.append(f"{path}: cannot be read ({error.strerror}); starting afresh")
        return state
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return _from_json(data)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        aside = path.with_name(f"{STATE_FILE}.corrupt")
        try:
            os.replace(path, aside)
            moved = f"moved to {aside}"
        except OSError:
            moved = "left in place"
        message = f"{path}: corrupt state ({error}); {moved}, starting afresh"
        log.warning(message)
        state = State()
        state.warnings.append(message)
        return state


def _plain(record: SessionState | LogEvent) -> dict[str, t.Any]:
    """A record's fields as a dict; lists copied (the fields hold numbers and text only)."""
    return {
        name: list(value) if isinstance(value, list) else value
        for name in _names(type(record))
        for value in (getattr(record, name),)
    }


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    if cls not in _NAMES:
        _NAMES[cls] = tuple(field.name for field in dataclasses.fields(cls))
    return _NAMES[cls]


def _accepts(hint: object) -> Callable[[object], bool]:
    """Whether a JSON value fits a field's type (float, int, str, None, unions, lists)."""
    if t.get_origin(hint) is list:
        (item,) = t.get_args(hint)
        each = _accepts(item)
        return lambda value: isinstance(value, list) and all(each(v) for v in value)
    if isinstance(hint, types.UnionType):
        options = [_accepts(h) for h in t.get_args(hint)]
        return lambda value: any(check(value) for check in options)
    if hint is type(None):
        return lambda value: value is None
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint is str:
        return lambda value: isinstance(value, str)
    return lambda value: False


_CHECKS: dict[type, dict[str, Callable[[object], bool]]] = {}


def _checks(cls: type) -> dict[str, Callable[[object], bool]]:
    """Each field's type check of a record class (evaluated once: hints cost more than a read)."""
    if cls not in _CHECKS:
        _CHECKS[cls] = {name: _accepts(hint) for name, hint in t.get_type_hints(cls).items()}
    return _CHECKS[cls]


def _record(cls: type[R], value: object, what: str) -> R:
    """A dataclass from a JSON object; TypeError when a field has the wrong type."""
    if not isinstance(value, dict):
        raise TypeError(f"{what} is not an object")
    checks = _checks(cls)
    fields = {k: v for k, v in value.items() if k in checks}
    for key, item in fields.items():
        if not checks[key](item):
            raise TypeError(f"{what}: {key} is {item!r}")
    return cls(**fields)


def _from_json(data: dict[str, t.Any]) -> State:
    sessions = {
        str(name): _record(SessionState, value, f"session {name!r}")
        for name, value in (data.get("sessions") or {}).items()
    }
    events = [_record(LogEvent, e, "a log event") for e in data.get("log_events") or []]
    offsets = {str(k): [int(x) for x in v] for k, v in (data.get("log_offsets") or {}).items()}
    last = data.get("last_check")
    digest_day = data.get("digest_day")
    return State(
        sessions=sessions,
        log_offsets=offsets,
        log_events=events,
        last_check=float(last) if last is not None else None,
        checks=int(data.get("checks") or 0),
        unlogged={
            str(k): float(v)
            for k, v in (data.get("unlogged") or {}).items()
            if isinstance(v, int | float)
        },
        digest_day=digest_day if isinstance(digest_day, str) else None,
    )


def save_state(state_dir: pathlib.Path, state: State, now: float) -> str | None:
    """Write the state atomically; return a warning instead of raising on failure."""
    from memory_schema import atomic_write

    state.prune(now)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        # one line: json's C encoder writes no indentation (indent=1 took a check ~5 ms)
        data = json.dumps(state.to_json(), sort_keys=True).encode()
        atomic_write(state_path(state_dir), data, mode=0o600)
    except OSError as error:
        message = f"{state_path(state_dir)}: cannot be written ({error.strerror}); state not saved"
        log.warning(message)
        return message
    return None
