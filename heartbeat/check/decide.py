"""Decide: Observations + remembered state + the budget → one frozen Decision each. Pure.

No tmux, no subprocess, no files, no clock: the time is a value passed in.
The diagnosis comes from ``rules.RULES``; the action from the rule of action
that ``rules.POLICIES`` names for it (``_ACTIONS`` below). Cross-session limits — one
rate-limited restart per check, at most N restarts per check, holds shared by
an account — are counted here, in one pass, so every later step reads the same
decision.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import typing as t
import zlib

from heartbeat.check.hints import HINTS, fix_for, format_duration
from heartbeat.check.rules import POLICIES, Case, credentials_changed, diagnose, signals
from heartbeat.words import Action, Diagnosis, PaneState

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from heartbeat.check.observe import Observation
    from heartbeat.config import Settings
    from heartbeat.profiles import Profiles
    from heartbeat.state import SessionState

D = Diagnosis


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the check concluded and means to do about one session."""

    name: str
    diagnosis: Diagnosis
    action: Action
    memory: SessionState
    detail: str = ""
    hint: str = ""
    evidence: tuple[str, ...] = ()
    restart: bool = False
    #: Restart as ``ralphy --codex`` (auto_ralph on a read-and-exit run).
    ralph: bool = False
    #: Verify through git after acting (a completion not verified yet).
    verify: bool = False
    #: Resume the agent's conversation of this id instead of starting the task afresh.
    resume: str | None = None


@dataclasses.dataclass
class _Tally:
    """What one pass counts across sessions (local to ``decide``)."""

    restarts: int = 0
    rate_restarts: int = 0
    rate_limited: int = 0
    auth_accounts: set[str] = dataclasses.field(default_factory=set)
    accounts: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    #: Accounts under a usage-limit hold, and until when (epoch seconds).
    holds: dict[str, float] = dataclasses.field(default_factory=dict)


def decide(
    observations: Sequence[Observation],
    memories: Sequence[SessionState],
    settings: Settings,
    profiles: Profiles,
    now: datetime.datetime,
    *,
    server_down: bool = False,
) -> list[Decision]:
    """One Decision per observation, in order. Pure: the same inputs give the same decisions."""
    tally = _Tally()
    cases = []
    ts = now.timestamp()
    for obs, memory in zip(observations, memories, strict=True):
        case = Case(obs, memory, signals(obs, memory), settings)
        diagnosis = diagnose(case)
        cases.append((case, diagnosis))
        if obs.account:
            tally.accounts[obs.account] += 1
            if diagnosis == D.AUTH_EXPIRED:
                tally.auth_accounts.add(obs.account)
            until = _hold_until(case, ts) if diagnosis == D.RATE_LIMITED else None
            if until is None and memory.hold_reason == "rate_limit":
                until = memory.hold_until
            if until is not None and until > ts:
                tally.holds[obs.account] = max(until, tally.holds.get(obs.account, 0.0))
    # a session of an account under a usage limit that fails meanwhile is held with it
    cases = [
        (case, D.RATE_LIMITED)
        if diagnosis in (D.FAILED, D.DIED) and case.obs.account in tally.holds
        else (case, diagnosis)
        for case, diagnosis in cases
    ]
    tally.rate_limited = sum(diagnosis == D.RATE_LIMITED for _, diagnosis in cases)
    decisions = []
    for case, diagnosis in cases:
        decision = _ACTIONS[POLICIES[diagnosis].act](case, diagnosis, tally, now, profiles)
        if decision.restart and server_down:
            extra = "tmux server down: one incident"
            detail = f"{decision.detail}; {extra}" if decision.detail else extra
            decision = dataclasses.replace(decision, detail=detail)
        decisions.append(decision)
    return decisions


def _base(case: Case, diagnosis: Diagnosis, now: datetime.datetime, **changes: t.Any) -> Decision:
    obs, memory = case.obs, case.memory
    fresh: dict[str, t.Any] = {"seen": now.timestamp()}
    if diagnosis != D.HEALTHY:
        fresh["healthy_since"] = None
    if obs.cwd:
        fresh["last_dir"] = obs.cwd
    if memory.void_incarnation == "pending" and obs.incarnation is not None:
        fresh["void_incarnation"] = obs.incarnation
    if obs.agent_session:
        fresh["agent_session"] = obs.agent_session
    if credentials_changed(obs, memory):
        fresh.update(blocked=None, blocked_stamp=None)
    memory = dataclasses.replace(memory, **{**fresh, **changes.pop("memory", {})})
    hint = HINTS.get(diagnosis, "").format_map(
        collections.defaultdict(
            str,
            name=obs.entry.name,
            socket=case.settings.socket,
            idle=format_duration(obs.idle or 0),
            count=case.settings.max_restarts_per_hour,
        )
    )
    fields: dict[str, t.Any] = {
        "action": Action.REPORTED,
        "hint": hint,
        "evidence": _evidence(case),
        **changes,
    }
    return Decision(obs.entry.name, diagnosis, memory=memory, **fields)


def _evidence(case: Case) -> tuple[str, ...]:
    kinds = {
        "auth",
        "rate_limit",
        "config",
        "task_failed",
        "summary_completed",
        "summary_failed",
        "prompt",
    }
    lines = [m.line for m in case.obs.voice if m.kind in kinds]
    lines += [
        line
        for line in (*case.signals.auth, *case.signals.rate, *case.signals.config)
        if line not in lines
    ]
    if case.obs.hook:
        lines.append(case.obs.hook)
    return tuple(line[:500] for line in lines[-6:])


def _clock(ts: float, now: datetime.datetime) -> str:
    return datetime.datetime.fromtimestamp(ts, now.tzinfo).strftime("%H:%M")


def _none(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    return _base(case, diagnosis, now, action=Action.NONE)


def _healthy(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    memory, ts = case.memory, now.timestamp()
    since = memory.healthy_since if memory.healthy_since is not None else ts
    changes: dict[str, t.Any] = {"healthy_since": since}
    if ts - since >= case.settings.healthy_reset_minutes * 60:
        changes.update(restarts=[], failures=0, rate_limit_attempts=0)
    return _base(
        case, diagnosis, now, action=Action.NONE, detail=_still_running(case), memory=changes
    )


def _still_running(case: Case) -> str:
    """A running agent whose own last lines report a limit or auth error: a note, no more."""
    said = [m for m in case.obs.voice if m.kind in {"auth", "rate_limit"}]
    if case.obs.state is not PaneState.RUNNING or not said:
        return ""
    what = "a rate limit" if said[-1].kind == "rate_limit" else "an auth error"
    return f"still running; its last lines report {what} (it retries by itself)"


def _report(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    detail = (
        f"waiting at: {case.obs.prompt}" if diagnosis == D.WAITING_INPUT else _still_running(case)
    )
    return _base(case, diagnosis, now, detail=detail)


def _verify(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    memory, obs = case.memory, case.obs
    if memory.verified is not None and (
        obs.incarnation is None or memory.verified == obs.incarnation
    ):
        return _base(case, diagnosis, now, action=Action.NONE, detail=memory.detail or "")
    return _base(case, diagnosis, now, action=Action.VERIFIED, verify=True)


def _block(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    profile = profiles.named(case.obs.profile or "")
    login = (profile.login_hint if profile else "") or HINTS[D.AUTH_EXPIRED]
    hint = f"{login}; then `heartbeat notes resume {case.obs.entry.name}`"
    if profile and profile.parallel_hint and tally.accounts[case.obs.account or ""] > 1:
        hint += "; " + profile.parallel_hint
    detail = "blocked: not restarted while the credentials are refused"
    stamp = (
        case.memory.blocked_stamp
        if case.memory.blocked == "auth"
        else (case.obs.credentials or "missing")
    )
    memory = {"blocked": "auth", "blocked_stamp": stamp}
    return _base(case, diagnosis, now, detail=detail, hint=hint, memory=memory)


def _misconfigured_action(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    fix = fix_for(case.obs)
    memory = {"blocked": "misconfigured", "blocked_command": case.obs.entry.command}
    detail = "not restarted: the agent rejects its own command line or setup, a restart cannot help"
    return _base(case, diagnosis, now, detail=detail, hint=fix, memory=memory)


def _hold(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    s, memory, obs, ts = case.settings, case.memory, case.obs, now.timestamp()
    changes: dict[str, t.Any] = {}
    restart = False
    if memory.hold_reason != "rate_limit" or memory.incarnation != obs.incarnation:
        own = _hold_until(case, ts)
        shared = tally.holds.get(obs.account or "")
        margin = s.rate_limit_margin_minutes
        if own is not None:
            until = own
            source = "recorded" if obs.record_reset is not None else "stated"
            how = f"the {source} reset {_clock(until - margin * 60, now)} + {margin:g} min"
        elif shared is not None:
            until = shared
            how = "the account's usage limit, shared with its other sessions"
        else:
            base = s.rate_limit_backoff_minutes * 60 * 2**memory.rate_limit_attempts
            jitter = 0.8 + 0.4 * (
                zlib.crc32(f"{obs.entry.name}:{memory.rate_limit_attempts}".encode()) / 2**32
            )
            delay = min(base, s.rate_limit_backoff_cap_minutes * 60) * jitter
            until = ts + delay
            how = f"backoff {format_duration(delay)}"
        changes = {
            "hold_until": until,
            "hold_reason": "rate_limit",
            "rate_limit_attempts": memory.rate_limit_attempts + 1,
        }
        action, detail = Action.BACKOFF, f"held until {_clock(until, now)}: {how}"
    elif memory.hold_until is not None and ts < memory.hold_until:
        action, detail = Action.BACKOFF, f"held until {_clock(memory.hold_until, now)}"
    elif tally.rate_restarts >= 1:
        action, detail = Action.BACKOFF, "staggered: one rate-limited restart per check"
    else:
        tally.rate_restarts += 1
        action, detail, restart = Action.RESTARTED, "hold over", True
    resume = _resume(case, diagnosis) if restart else None
    if resume:
        detail += f"; resuming {obs.profile}'s session {resume}"
    hold_until = changes.get("hold_until", memory.hold_until)
    hint = HINTS[D.RATE_LIMITED].format(
        until=_clock(hold_until, now) if hold_until else "the reset"
    )
    if tally.rate_limited > 1:
        hint += "; " + HINTS["rate_parallel"]
    return _base(
        case,
        diagnosis,
        now,
        action=action,
        detail=detail,
        hint=hint,
        restart=restart,
        resume=resume,
        memory=changes,
    )


def _hold_until(case: Case, ts: float) -> float | None:
    """When a limit ends, plus the margin: the agent's records first, then its words."""
    margin = case.settings.rate_limit_margin_minutes * 60
    if case.obs.record_reset is not None and case.obs.record_reset > ts - 3600:
        return case.obs.record_reset + margin
    if case.obs.reset is not None:
        return case.obs.reset.timestamp() + margin
    return None


def _resume(case: Case, diagnosis: Diagnosis) -> str | None:
    """The agent session to resume on a restart; None: start the task afresh.

    Only where the profile can resume, the id is known, restart_mode is
    "resume", and no resume of that id failed before.
    """
    obs, memory = case.obs, case.memory
    if case.settings.restart_mode != "resume" or not obs.resumable or not obs.agent_session:
        return None
    if diagnosis not in (D.FAILED, D.DIED, D.RATE_LIMITED) or case.signals.resume_failed:
        return None
    return None if memory.resume_failed == obs.agent_session else obs.agent_session


def _budget(
    case: Case,
    diagnosis: Diagnosis,
    tally: _Tally,
    now: datetime.datetime,
    profiles: Profiles,
    *,
    ralph: bool = False,
) -> Decision:
    s, memory, ts, name = case.settings, case.memory, now.timestamp(), case.obs.entry.name
    if case.obs.account in tally.auth_accounts:
        detail = "held: another session on the same account shows refused credentials"
        return _base(case, diagnosis, now, action=Action.BACKOFF, detail=detail)
    recent = [r for r in memory.restarts if ts - r < 3600]
    hint = HINTS["failed_again"] if diagnosis == D.FAILED and memory.failures >= 1 else None
    extra: dict[str, t.Any] = {"hint": hint} if hint else {}
    failure = _failure_line(case) if diagnosis == D.FAILED else None
    resumed = memory.resumed_session
    remembered: dict[str, t.Any] = {"last_failure": failure}
    if resumed and failure and failure == memory.last_failure and not _resume_failed(case):
        # the circuit breaker: resumed, and failed the same way again
        detail = f"resumed and failed the same way again ({failure[:120]}); not tried again"
        hint = HINTS["gave_up"].format(count=len(recent), name=name)
        memory_changes = {"blocked": "gave_up", **remembered}
        return _base(
            case,
            diagnosis,
            now,
            action=Action.GAVE_UP,
            detail=detail,
            hint=hint,
            memory=memory_changes,
        )
    if resumed and _resume_failed(case):
        remembered["resume_failed"] = resumed
    extra["memory"] = remembered
    if memory.blocked == "gave_up" or len(recent) >= s.max_restarts_per_hour:
        detail = (
            "gave up earlier; waiting for `heartbeat notes resume`"
            if memory.blocked == "gave_up"
            else f"{len(recent)} restarts within the hour; not restarting again"
        )
        hint = HINTS["gave_up"].format(count=len(recent) or s.max_restarts_per_hour, name=name)
        return _base(
            case,
            diagnosis,
            now,
            action=Action.GAVE_UP,
            detail=detail,
            hint=hint,
            memory={"blocked": "gave_up", **remembered},
        )
    if recent:
        delay = min(s.backoff_minutes * 60 * 2 ** (len(recent) - 1), s.backoff_cap_minutes * 60)
        if ts - recent[-1] < delay:
            detail = f"next restart after {_clock(recent[-1] + delay, now)}"
            return _base(case, diagnosis, now, action=Action.BACKOFF, detail=detail, **extra)
    if tally.restarts >= s.max_restarts_per_check:
        detail = f"staggered: at most {s.max_restarts_per_check} restarts per check"
        return _base(case, diagnosis, now, action=Action.BACKOFF, detail=detail, **extra)
    tally.restarts += 1
    detail = f"({len(recent) + 1}/{s.max_restarts_per_hour})"
    reason = _reason(case)
    if reason:
        detail = f"{detail}; {reason}"
    if ralph:
        detail = f"wrapped in a Ralph loop (auto_ralph); {detail}"
    resume = None if ralph or "resume_failed" in remembered else _resume(case, diagnosis)
    if resume:
        detail = f"{detail}; resuming {case.obs.profile}'s session {resume}"
    elif "resume_failed" in remembered:
        detail = f"{detail}; the resume of session {resumed} failed: started afresh"
    return _base(
        case,
        diagnosis,
        now,
        action=Action.RESTARTED,
        detail=detail,
        restart=True,
        ralph=ralph,
        resume=resume,
        **extra,
    )


def _reason(case: Case) -> str:
    """Why an agent failed, in its own words: a loop's summary and failed task, server trouble."""
    if not case.obs.finished or case.obs.exit_code == 0:
        return ""
    groups = {m.kind: m.groups for m in case.obs.voice}
    parts = []
    if "summary_completed" in groups or "summary_failed" in groups:
        done = groups.get("summary_completed", {}).get("count", "?")
        failed = groups.get("summary_failed", {}).get("count", "?")
        parts.append(f"{case.obs.profile or 'the loop'} reported {done} completed, {failed} failed")
    if "task_failed" in groups:
        task = groups["task_failed"]
        parts.append(f"task {task.get('task', '')!r} failed: {task.get('reason', '')[:200]}")
    transient = [m.line for m in case.obs.voice if m.kind == "transient"]
    if transient:
        parts.append(f"server trouble: {transient[-1][:200]}")
    return " — ".join(parts)


#: A resumed agent that fails within this long failed to resume (an unknown id, say).
RESUME_GRACE = 90.0


def _resume_failed(case: Case) -> bool:
    obs = case.obs
    if not case.memory.resumed_session:
        return False
    quick = obs.finished and obs.exit_code != 0 and (obs.age or 0.0) < RESUME_GRACE
    return bool(case.signals.resume_failed) or quick


def _failure_line(case: Case) -> str | None:
    """The agent's own first error line (for "the same failure again")."""
    kinds = {"transient", "task_failed", "config", "resume_failed"}
    return next((m.line for m in case.obs.voice if m.kind in kinds), None)


def _ralph(
    case: Case, diagnosis: Diagnosis, tally: _Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    if case.settings.auto_ralph and case.obs.ralph is not None:
        return _budget(case, diagnosis, tally, now, profiles, ralph=True)
    return _base(case, diagnosis, now)


_ACTIONS: dict[str, Callable[[Case, Diagnosis, _Tally, datetime.datetime, Profiles], Decision]] = {
    "none": _none,
    "healthy": _healthy,
    "report": _report,
    "verify": _verify,
    "block": _block,
    "misconfigured": _misconfigured_action,
    "hold": _hold,
    "budget": _budget,
    "ralph": _ralph,
}


def restarted(memory: SessionState, decision: Decision, ts: float) -> SessionState:
    """The remembered state after a restart that tmux accepted."""
    diagnosis = decision.diagnosis
    changes: dict[str, t.Any] = {
        "restarts": [*memory.restarts, ts],
        "restarted_at": ts,
        "incarnation": None,
        "resumed_session": decision.resume,
    }
    if diagnosis == D.FAILED:
        changes["failures"] = memory.failures + 1
    if diagnosis == D.RATE_LIMITED:
        changes.update(hold_until=None, hold_reason=None)
    return dataclasses.replace(memory, **changes)
