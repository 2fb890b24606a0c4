"""The rules of action that restart: rate-limit holds, the budget, resume, the Ralph loop. Pure.

A restart is decided here and made by act. Holds come from the agent's
records, then its words, then a backoff; sessions of one account share a
hold; a restart resumes the agent's conversation where it can, and falls back
to one fresh start when the resume fails.
"""

from __future__ import annotations

import datetime
import typing as t
import zlib

from heartbeat.check import hints
from heartbeat.check.hints import HINTS, format_duration
from heartbeat.check.verdict import Decision, Tally, base, clock
from heartbeat.words import Action, Diagnosis

if t.TYPE_CHECKING:
    from heartbeat.check.rules import Case
    from heartbeat.profiles import Profiles

D = Diagnosis


def hold(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    s, memory, obs, ts = case.settings, case.memory, case.obs, now.timestamp()
    changes: dict[str, t.Any] = {}
    restart = False
    if memory.hold_reason != "rate_limit" or memory.incarnation != obs.incarnation:
        own = hold_until(case, ts)
        shared = tally.holds.get(obs.account or "")
        margin = s.rate_limit_margin_minutes
        if own is not None:
            until = own
            source = "recorded" if obs.record_reset is not None else "stated"
            how = f"the {source} reset {clock(until - margin * 60, now)} + {margin:g} min"
        elif shared is not None:
            until = shared
            how = "the account's usage limit, shared with its other sessions"
        else:
            first = s.rate_limit_backoff_minutes * 60 * 2**memory.rate_limit_attempts
            jitter = 0.8 + 0.4 * (
                zlib.crc32(f"{obs.entry.name}:{memory.rate_limit_attempts}".encode()) / 2**32
            )
            delay = min(first, s.rate_limit_backoff_cap_minutes * 60) * jitter
            until = ts + delay
            how = f"backoff {format_duration(delay)}"
        changes = {
            "hold_until": until,
            "hold_reason": "rate_limit",
            "rate_limit_attempts": memory.rate_limit_attempts + 1,
        }
        action, detail = Action.BACKOFF, f"held until {clock(until, now)}: {how}"
    elif memory.hold_until is not None and ts < memory.hold_until:
        action, detail = Action.BACKOFF, f"held until {clock(memory.hold_until, now)}"
    elif tally.rate_restarts >= 1:
        action, detail = Action.BACKOFF, "staggered: one rate-limited restart per check"
    else:
        tally.rate_restarts += 1
        action, detail, restart = Action.RESTARTED, "hold over", True
    resume = _resume(case, diagnosis) if restart else None
    if resume:
        detail += f"; resuming {obs.profile}'s session {resume}"
    held = changes.get("hold_until", memory.hold_until)
    hint = HINTS[D.RATE_LIMITED].format(until=clock(held, now) if held else "the reset")
    if tally.rate_limited > 1:
        hint += "; " + HINTS["rate_parallel"]
    return base(
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


def hold_until(case: Case, ts: float) -> float | None:
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


def budget(
    case: Case,
    diagnosis: Diagnosis,
    tally: Tally,
    now: datetime.datetime,
    profiles: Profiles,
    *,
    ralph: bool = False,
) -> Decision:
    s, memory, ts = case.settings, case.memory, now.timestamp()
    if case.obs.account in tally.auth_accounts:
        detail = "held: another session on the same account shows refused credentials"
        return base(case, diagnosis, now, action=Action.BACKOFF, detail=detail)
    recent = [r for r in memory.restarts if ts - r < 3600]
    hint = hints.failed(case.obs, memory.failures) if diagnosis == D.FAILED else None
    extra: dict[str, t.Any] = {"hint": hint} if hint else {}
    failure = _failure_line(case) if diagnosis == D.FAILED else None
    resumed = memory.resumed_session
    remembered: dict[str, t.Any] = {"last_failure": failure}
    if resumed and failure and failure == memory.last_failure and not _resume_failed(case):
        # the circuit breaker: resumed, and failed the same way again
        detail = f"resumed and failed the same way again ({failure[:120]}); not tried again"
        return _gave_up(case, diagnosis, now, detail, len(recent), remembered)
    if resumed and _resume_failed(case):
        remembered["resume_failed"] = resumed
    extra["memory"] = remembered
    if case.signals.engine_config:
        # ralphy 4.7.2 runs `codex exec --full-auto`, which codex 0.169 rejects: every run
        # fails the same way, whatever the heartbeat does
        line = case.signals.engine_config[-1]
        detail = f"{_reason(case) or 'its tasks failed'}; its engine rejects what it is given"
        profile = profiles.named(case.obs.profile or "")
        hint = hints.engine_rejects(profiles, profile, case.obs.entry.command, line)
        return base(case, diagnosis, now, detail=detail, hint=hint, memory=remembered)
    if memory.blocked == "gave_up" or len(recent) >= s.max_restarts_per_hour:
        detail = (
            "gave up earlier; waiting for `heartbeat notes resume`"
            if memory.blocked == "gave_up"
            else f"{len(recent)} restarts within the hour; not restarting again"
        )
        count = len(recent) or s.max_restarts_per_hour
        return _gave_up(case, diagnosis, now, detail, count, remembered)
    if recent:
        delay = min(s.backoff_minutes * 60 * 2 ** (len(recent) - 1), s.backoff_cap_minutes * 60)
        if ts - recent[-1] < delay:
            detail = f"next restart after {clock(recent[-1] + delay, now)}"
            return base(case, diagnosis, now, action=Action.BACKOFF, detail=detail, **extra)
    if tally.restarts >= s.max_restarts_per_check:
        detail = f"staggered: at most {s.max_restarts_per_check} restarts per check"
        return base(case, diagnosis, now, action=Action.BACKOFF, detail=detail, **extra)
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
    return base(
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


def _gave_up(
    case: Case,
    diagnosis: Diagnosis,
    now: datetime.datetime,
    detail: str,
    count: int,
    remembered: dict[str, t.Any],
) -> Decision:
    """No more restarts until the user's `notes resume` (notified once)."""
    hint = HINTS["gave_up"].format(count=count, name=case.obs.entry.name)
    memory = {"blocked": "gave_up", **remembered}
    return base(
        case, diagnosis, now, action=Action.GAVE_UP, detail=detail, hint=hint, memory=memory
    )


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


def ralph(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    """A read-and-exit run: wrapped in a Ralph loop where the configuration allows and the
    heartbeat can (codex only); the hint fits the agent either way."""
    hint = hints.read_and_exit(case.obs, auto_ralph=case.settings.auto_ralph)
    if case.settings.auto_ralph and case.obs.ralph is not None:
        decision = budget(case, diagnosis, tally, now, profiles, ralph=True)
        # the budget's own hints (gave up) stand; the diagnosis' generic one does not
        return decision._replace(hint=hint) if decision.hint == HINTS[diagnosis] else decision
    return base(case, diagnosis, now, hint=hint)
