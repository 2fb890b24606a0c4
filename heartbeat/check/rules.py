"""The rules of DESIGN §4 as data: what counts as evidence, which diagnosis, which policy.

``RULES`` is read top to bottom: the first predicate that holds names the
diagnosis. ``POLICIES`` says per diagnosis the note's status word, whether
entering it is news, and which rule of action applies (``decide._ACTIONS``).
Pure: no tmux, no subprocess, no clock.
"""

from __future__ import annotations

import typing as t

from heartbeat.words import Diagnosis, PaneState, Status

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from heartbeat.check.observe import Observation
    from heartbeat.config import Settings
    from heartbeat.state import SessionState

D = Diagnosis


class Signals(t.NamedTuple):
    """The agent's own failure lines that count: only after it exited non-zero, or left."""

    auth: tuple[str, ...] = ()
    rate: tuple[str, ...] = ()
    config: tuple[str, ...] = ()
    #: The agent could not resume the conversation it was asked to (an unknown id).
    resume_failed: tuple[str, ...] = ()
    #: A loop's engine rejected the command line the loop gave it (every task fails alike).
    engine_config: tuple[str, ...] = ()


class Case(t.NamedTuple):
    obs: Observation
    memory: SessionState
    signals: Signals
    settings: Settings


def signals(obs: Observation, memory: SessionState) -> Signals:
    """Evidence in order of trust: a running agent or an exit of 0 gives none."""
    if obs.state is PaneState.RUNNING or (obs.finished and obs.exit_code == 0):
        return Signals()
    found: dict[str, list[str]] = {"auth": [], "rate_limit": [], "config": [], "resume_failed": []}
    for match in obs.voice:
        if match.kind in found:
            found[match.kind].append(match.line)
    if obs.exit_kind in found:
        found[obs.exit_kind].append(f"exit {obs.exit_code}")
    if obs.record_limit:
        found["rate_limit"].append(f"{obs.profile} recorded {obs.record_limit} (its own records)")
    if not found["auth"] and not found["rate_limit"]:
        for kind, line in obs.log:
            if kind in found:
                found[kind].append(line)
    void = memory.void_incarnation
    if void is not None and (obs.incarnation is None or void in ("pending", obs.incarnation)):
        # the user resumed after this incarnation failed: its old errors are void
        found["auth"], found["rate_limit"] = [], []
    if credentials_changed(obs, memory):
        # logged in again since the block: the errors the old login caused are void
        found["auth"], found["rate_limit"] = [], []
    if obs.wrapper:
        return Signals(
            tuple(found["auth"]),
            tuple(found["rate_limit"]),
            resume_failed=tuple(found["resume_failed"]),
            engine_config=tuple(found["config"]),
        )
    return Signals(
        tuple(found["auth"]),
        tuple(found["rate_limit"]),
        tuple(found["config"]),
        tuple(found["resume_failed"]),
    )


def credentials_changed(obs: Observation, memory: SessionState) -> bool:
    """An auth block whose account has logged in again since (its credentials file changed)."""
    return (
        memory.blocked == "auth"
        and memory.blocked_stamp is not None
        and (obs.credentials or "missing") != memory.blocked_stamp
    )


def _still_blocked(c: Case) -> bool:
    return c.memory.blocked == "auth" and not credentials_changed(c.obs, c.memory)


def _read_and_exit(c: Case) -> bool:
    if not (c.obs.finished and c.obs.exit_code == 0):
        return False
    if c.obs.age is None or c.obs.age > c.settings.read_exit_seconds:
        return False
    if c.obs.verification is not None:
        return c.obs.verification.changed_nothing
    return c.memory.incarnation == c.obs.incarnation and c.memory.diagnosis == D.READ_AND_EXIT


def _completed(c: Case) -> bool:
    if c.obs.finished:
        return c.obs.exit_code == 0
    return not c.obs.exists and c.memory.diagnosis == D.COMPLETED and c.memory.verified is not None


def _misconfigured(c: Case) -> bool:
    if c.signals.config:
        return True
    return (
        c.memory.blocked == "misconfigured"
        and c.memory.blocked_command == c.obs.entry.command
        and c.obs.state is not PaneState.RUNNING
    )


RULES: tuple[tuple[Diagnosis, Callable[[Case], bool]], ...] = (
    (D.PAUSED, lambda c: c.obs.paused),
    (D.NOT_OWNED, lambda c: c.obs.not_owned is not None),
    (D.AUTH_EXPIRED, lambda c: bool(c.signals.auth) or _still_blocked(c)),
    (D.MISCONFIGURED, _misconfigured),
    (D.RATE_LIMITED, lambda c: bool(c.signals.rate)),
    (D.READ_AND_EXIT, _read_and_exit),
    (D.COMPLETED, _completed),
    (D.FAILED, lambda c: c.obs.finished and c.obs.exit_code != 0),
    (D.DIED, lambda c: not c.obs.exists),
    (D.WAITING_INPUT, lambda c: c.obs.prompt is not None),
    (D.STALLED, lambda c: c.obs.idle is not None and c.obs.idle > c.settings.stall_minutes * 60),
    (D.HEALTHY, lambda c: True),
)


def diagnose(case: Case) -> Diagnosis:
    """The first rule that holds."""
    return next(name for name, holds in RULES if holds(case))


class Policy(t.NamedTuple):
    #: The canonical entry's status word (None: leave it).
    status: Status | None
    #: The rule of action, a key of ``decide._ACTIONS``.
    act: str


POLICIES: dict[Diagnosis, Policy] = {
    D.HEALTHY: Policy(Status.RUNNING, "healthy"),
    D.COMPLETED: Policy(Status.DONE, "verify"),
    D.READ_AND_EXIT: Policy(Status.FAILED, "ralph"),
    D.AUTH_EXPIRED: Policy(Status.BLOCKED, "block"),
    D.RATE_LIMITED: Policy(Status.BLOCKED, "hold"),
    D.MISCONFIGURED: Policy(Status.BLOCKED, "misconfigured"),
    D.FAILED: Policy(Status.FAILED, "budget"),
    D.DIED: Policy(Status.DIED, "budget"),
    D.STALLED: Policy(Status.STALLED, "report"),
    D.WAITING_INPUT: Policy(Status.BLOCKED, "report"),
    D.PAUSED: Policy(None, "none"),
    D.NOT_OWNED: Policy(None, "report"),
}
