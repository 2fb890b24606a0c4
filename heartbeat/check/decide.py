"""Decide: Observations + remembered state + the budget → one frozen Decision each. Pure.

No tmux, no subprocess, no files, no clock: the time is a value passed in.
The diagnosis comes from ``rules.RULES``; the action from the rule of action
that ``rules.POLICIES`` names for it (``_ACTIONS`` below). Cross-session limits — one
rate-limited restart per check, at most N restarts per check, holds shared by
an account — are counted here, in one pass, so every later step reads the same
decision.
"""

from __future__ import annotations

import datetime
import typing as t

from heartbeat.check import hints, restarts
from heartbeat.check.hints import fix_for
from heartbeat.check.rules import POLICIES, Case, diagnose, signals
from heartbeat.check.verdict import Decision, Tally, base
from heartbeat.words import Action, Diagnosis, PaneState

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from heartbeat.check.observe import Observation
    from heartbeat.config import Settings
    from heartbeat.profiles import Profiles
    from heartbeat.state import SessionState

__all__ = ["Decision", "decide"]

D = Diagnosis


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
    tally = Tally()
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
            until = restarts.hold_until(case, ts) if diagnosis == D.RATE_LIMITED else None
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
        renamed = case.obs.renamed
        if renamed:
            said = f"followed: renamed to `{renamed}`"
            detail = f"{said}; {decision.detail}" if decision.detail else said
            news = renamed if renamed != case.memory.renamed else None
            decision = decision._replace(detail=detail, renamed=news)
        if decision.restart and case.obs.cannot_restart:
            # status and --dry-run must say what the check will do: report, not restart
            detail = f"cannot restart: {case.obs.cannot_restart}"
            decision = decision._replace(restart=False, action=Action.REPORTED, detail=detail)
        if decision.restart and server_down:
            extra = "tmux server down: one incident"
            detail = f"{decision.detail}; {extra}" if decision.detail else extra
            decision = decision._replace(detail=detail)
        decisions.append(decision)
    return decisions


def _none(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    return base(case, diagnosis, now, action=Action.NONE)


def _healthy(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    memory, ts = case.memory, now.timestamp()
    since = memory.healthy_since if memory.healthy_since is not None else ts
    changes: dict[str, t.Any] = {"healthy_since": since}
    if ts - since >= case.settings.healthy_reset_minutes * 60:
        changes.update(restarts=[], failures=0, rate_limit_attempts=0)
    return base(
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
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    if diagnosis == D.NOT_OWNED:
        detail = f"not the agent's pane: {case.obs.not_owned} runs there; never touched"
    elif diagnosis == D.WAITING_INPUT:
        detail = f"waiting at: {case.obs.prompt}"
    else:
        detail = _still_running(case)
    return base(case, diagnosis, now, detail=detail)


def _verify(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    memory, obs = case.memory, case.obs
    if memory.verified is not None and (
        obs.incarnation is None or memory.verified == obs.incarnation
    ):
        return base(case, diagnosis, now, action=Action.NONE, detail=memory.detail or "")
    return base(case, diagnosis, now, action=Action.VERIFIED, verify=True)


def _block(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    # a loop's credentials are its engine's: ralphy on Claude Code logs in with `claude`
    login, refused = hints.login(
        profiles, profiles.named(case.obs.profile or ""), case.obs.entry.command
    )
    hint = f"{login}; then `heartbeat notes resume {case.obs.entry.name}`"
    if refused and refused.parallel_hint and tally.accounts[case.obs.account or ""] > 1:
        hint += "; " + refused.parallel_hint
    detail = "blocked: not restarted while the credentials are refused"
    stamp = (
        case.memory.blocked_stamp
        if case.memory.blocked == "auth"
        else (case.obs.credentials or "missing")
    )
    memory = {"blocked": "auth", "blocked_stamp": stamp}
    return base(case, diagnosis, now, detail=detail, hint=hint, memory=memory)


def _misconfigured_action(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    fix = fix_for(case.obs)
    memory = {"blocked": "misconfigured", "blocked_command": case.obs.entry.command}
    detail = "not restarted: the agent rejects its own command line or setup, a restart cannot help"
    return base(case, diagnosis, now, detail=detail, hint=fix, memory=memory)


_ACTIONS: dict[str, Callable[[Case, Diagnosis, Tally, datetime.datetime, Profiles], Decision]] = {
    "none": _none,
    "healthy": _healthy,
    "report": _report,
    "verify": _verify,
    "block": _block,
    "misconfigured": _misconfigured_action,
    "hold": restarts.hold,
    "budget": restarts.budget,
    "ralph": restarts.ralph,
}
