"""Decide: Observations + remembered state + the budget → one frozen Decision each. Pure.

No tmux, no subprocess, no files, no clock: the time is a value passed in.
The diagnosis comes from ``rules.RULES``; the action from the rule of action
that ``rules.POLICIES`` names for it (``_ACTIONS`` below): none, report,
verify, block, hold (rate limits: the agent's records, then its words, then a
backoff; an account's sessions share a hold), budget (restarts within the
hour, growing delays, resume or a fresh start) and the Ralph loop.
Cross-session limits — one rate-limited restart per check, at most N restarts
per check, holds shared by an account — are counted here (``Tally``), in one
pass, so every later step reads the same decision. ``Decision`` carries
everything act and journal need: the action, the status word, the next
remembered state, and "report instead of restart" where no restart can be made.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import typing as t
import zlib

from heartbeat.check import rules
from heartbeat.check.rules import POLICIES, Case, credentials_changed, diagnose, signals
from heartbeat.words import Action, Block, Diagnosis, Kind, PaneState, Status, format_duration

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from heartbeat.check.observe import Observation
    from heartbeat.check.rules import Case
    from heartbeat.config import Settings
    from heartbeat.profiles import Profiles
    from heartbeat.state import SessionState

D = Diagnosis


class Decision(t.NamedTuple):
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
    #: The session's new name, when the user renamed it since the last check (news once).
    renamed: str | None = None
    #: The canonical entry's status word, unless a restart is made (then ``restarted``).
    status: Status | None = None
    #: The state remembered for the next check if the restart is made (``memory``: if not).
    restarted_memory: SessionState | None = None
    #: The state as this check found it (what is news is read against it).
    previous: SessionState | None = None


class Tally:
    """What one pass counts across sessions (local to ``decide``; a plain class, as a
    dataclass costs every check its build at import)."""

    def __init__(self) -> None:
        self.restarts = 0
        self.rate_restarts = 0
        self.rate_limited = 0
        self.auth_accounts: set[str] = set()
        self.accounts: collections.Counter[str] = collections.Counter()
        #: Accounts under a usage-limit hold, and until when (epoch seconds).
        self.holds: dict[str, float] = {}


def base(case: Case, diagnosis: Diagnosis, now: datetime.datetime, **changes: t.Any) -> Decision:
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
    if obs.pane_id is not None:
        fresh.update(
            pane_id=obs.pane_id,
            pane_pid=obs.pane_pid,
            session_id=obs.session_id,
            server=obs.server or None,
            renamed=obs.renamed,
        )
    if credentials_changed(obs, memory):
        fresh.update(blocked=None, blocked_stamp=None)
    memory = dataclasses.replace(memory, **{**fresh, **changes.pop("memory", {})})
    hint = rules.HINTS.get(diagnosis, "").format_map(
        collections.defaultdict(
            str,
            name=obs.entry.name,
            socket=obs.server or case.settings.socket,
            idle=format_duration(obs.idle or 0),
            count=case.settings.max_restarts_per_hour,
        )
    )
    fields: dict[str, t.Any] = {
        "action": Action.REPORTED,
        "hint": hint,
        "evidence": evidence(case),
        **changes,
    }
    gave_up = fields["action"] == Action.GAVE_UP
    fields["status"] = Status.FAILED if gave_up else POLICIES[diagnosis].status
    return Decision(obs.entry.name, diagnosis, memory=memory, **fields)


def evidence(case: Case) -> tuple[str, ...]:
    """The lines that made the diagnosis: the agent's own failure lines only where they
    counted (a non-zero exit, a session gone), its loop summary and question, the hook."""
    kinds = {Kind.TASK_FAILED, Kind.SUMMARY_COMPLETED, Kind.SUMMARY_FAILED, Kind.PROMPT}
    if case.signals != type(case.signals)():
        kinds |= {Kind.AUTH, Kind.RATE_LIMIT, Kind.CONFIG}
    lines = [m.line for m in case.obs.voice if m.kind in kinds]
    lines += [
        line
        for line in (*case.signals.auth, *case.signals.rate, *case.signals.config)
        if line not in lines
    ]
    if case.obs.hook:
        lines.append(case.obs.hook)
    return tuple(line[:500] for line in lines[-6:])


def clock(ts: float, now: datetime.datetime) -> str:
    """``09:02`` today; on another day its date too (``2026-12-09 09:02``): a hold
    days long must say the day."""
    moment = datetime.datetime.fromtimestamp(ts, now.tzinfo)
    here = datetime.datetime.fromtimestamp(now.timestamp(), now.tzinfo)
    return moment.strftime("%H:%M" if moment.date() == here.date() else "%Y-%m-%d %H:%M")


def hold(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    s, memory, obs, ts = case.settings, case.memory, case.obs, now.timestamp()
    changes: dict[str, t.Any] = {}
    restart = False
    if memory.hold_reason != Kind.RATE_LIMIT or memory.incarnation != obs.incarnation:
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
            "hold_reason": Kind.RATE_LIMIT,
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
    hint = rules.HINTS[D.RATE_LIMITED].format(until=clock(held, now) if held else "the reset")
    if tally.rate_limited > 1:
        hint += "; " + rules.HINTS["rate_parallel"]
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
    hint = rules.failed(case.obs, memory.failures) if diagnosis == D.FAILED else None
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
        hint = rules.engine_rejects(profiles, profile, case.obs.entry.command, line)
        return base(case, diagnosis, now, detail=detail, hint=hint, memory=remembered)
    if memory.blocked == Block.GAVE_UP or len(recent) >= s.max_restarts_per_hour:
        detail = (
            "gave up earlier; waiting for `heartbeat notes resume`"
            if memory.blocked == Block.GAVE_UP
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
    if Kind.SUMMARY_COMPLETED in groups or Kind.SUMMARY_FAILED in groups:
        done = groups.get(Kind.SUMMARY_COMPLETED, {}).get("count", "?")
        failed = groups.get(Kind.SUMMARY_FAILED, {}).get("count", "?")
        parts.append(f"{case.obs.profile or 'the loop'} reported {done} completed, {failed} failed")
    if Kind.TASK_FAILED in groups:
        task = groups[Kind.TASK_FAILED]
        parts.append(f"task {task.get('task', '')!r} failed: {task.get('reason', '')[:200]}")
    transient = [m.line for m in case.obs.voice if m.kind == Kind.TRANSIENT]
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
    hint = rules.HINTS["gave_up"].format(count=count, name=case.obs.entry.name)
    memory = {"blocked": Block.GAVE_UP, **remembered}
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
    kinds = {Kind.TRANSIENT, Kind.TASK_FAILED, Kind.CONFIG, Kind.RESUME_FAILED}
    return next((m.line for m in case.obs.voice if m.kind in kinds), None)


def ralph(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    """A read-and-exit run: wrapped in a Ralph loop where the configuration allows and the
    heartbeat can (codex only); the hint fits the agent either way."""
    hint = rules.read_and_exit(case.obs, auto_ralph=case.settings.auto_ralph)
    if case.settings.auto_ralph and case.obs.ralph is not None:
        decision = budget(case, diagnosis, tally, now, profiles, ralph=True)
        # the budget's own hints (gave up) stand; the diagnosis' generic one does not
        return decision._replace(hint=hint) if decision.hint == rules.HINTS[diagnosis] else decision
    return base(case, diagnosis, now, hint=hint)


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
            until = hold_until(case, ts) if diagnosis == D.RATE_LIMITED else None
            if until is None and memory.hold_reason == Kind.RATE_LIMIT:
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
        decisions.append(_settled(decision, case, now.timestamp()))
    return decisions


def _settled(decision: Decision, case: Case, ts: float) -> Decision:
    """The state the next check remembers: with the restart made, and without it.

    What was notified (the state, not the tick), the diagnosis and the incarnation
    it was made on; after a restart, the budget's history and a fresh incarnation.
    act picks one (and adds what only acting knows: the command started, a
    verification); nothing after decide works it out again.
    """
    memory, diagnosis = decision.memory, decision.diagnosis
    notified = memory.notified
    if decision.action == Action.GAVE_UP:
        notified = str(Action.GAVE_UP)
    elif diagnosis != D.PAUSED and memory.notified != Action.GAVE_UP:
        notified = str(diagnosis)
    kept = dataclasses.replace(
        memory, notified=notified, diagnosis=str(diagnosis), incarnation=case.obs.incarnation
    )
    after = None
    if decision.restart:
        changes: dict[str, t.Any] = {
            "notified": notified,
            "diagnosis": None,
            "verified": None,
            "restarts": [*memory.restarts, ts],
            "restarted_at": ts,
            "incarnation": None,
            "resumed_session": decision.resume,
        }
        if diagnosis == D.FAILED:
            changes["failures"] = memory.failures + 1
        if diagnosis == D.RATE_LIMITED:
            changes.update(hold_until=None, hold_reason=None)
        after = dataclasses.replace(memory, **changes)
    return decision._replace(memory=kept, restarted_memory=after, previous=case.memory)


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
    said = [m for m in case.obs.voice if m.kind in {Kind.AUTH, Kind.RATE_LIMIT}]
    if case.obs.state is not PaneState.RUNNING or not said:
        return ""
    what = "a rate limit" if said[-1].kind == Kind.RATE_LIMIT else "an auth error"
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
    login, refused = rules.login(
        profiles, profiles.named(case.obs.profile or ""), case.obs.entry.command
    )
    hint = f"{login}; then `heartbeat notes resume {case.obs.entry.name}`"
    if refused and refused.parallel_hint and tally.accounts[case.obs.account or ""] > 1:
        hint += "; " + refused.parallel_hint
    detail = "blocked: not restarted while the credentials are refused"
    stamp = (
        case.memory.blocked_stamp
        if case.memory.blocked == Block.AUTH
        else (case.obs.credentials or "missing")
    )
    memory = {"blocked": Block.AUTH, "blocked_stamp": stamp}
    return base(case, diagnosis, now, detail=detail, hint=hint, memory=memory)


def _misconfigured_action(
    case: Case, diagnosis: Diagnosis, tally: Tally, now: datetime.datetime, profiles: Profiles
) -> Decision:
    fix = rules.fix_for(case.obs)
    memory = {"blocked": Block.MISCONFIGURED, "blocked_command": case.obs.entry.command}
    detail = "not restarted: the agent rejects its own command line or setup, a restart cannot help"
    return base(case, diagnosis, now, detail=detail, hint=fix, memory=memory)


_ACTIONS: dict[str, Callable[[Case, Diagnosis, Tally, datetime.datetime, Profiles], Decision]] = {
    "none": _none,
    "healthy": _healthy,
    "report": _report,
    "verify": _verify,
    "block": _block,
    "misconfigured": _misconfigured_action,
    "hold": hold,
    "budget": budget,
    "ralph": ralph,
}
