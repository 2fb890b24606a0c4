"""What decide produces, and the parts every rule of action shares. Pure.

``Decision`` is read by act and journal and never changed; ``Tally`` is what
one pass of ``decide`` counts across sessions; ``base`` builds a decision
with the remembered state's routine changes and the diagnosis' hint.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import typing as t

from heartbeat.check.hints import HINTS, format_duration
from heartbeat.check.rules import credentials_changed
from heartbeat.words import Action, Diagnosis

if t.TYPE_CHECKING:
    from heartbeat.check.rules import Case
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
    hint = HINTS.get(diagnosis, "").format_map(
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
    return Decision(obs.entry.name, diagnosis, memory=memory, **fields)


def evidence(case: Case) -> tuple[str, ...]:
    """The lines that made the diagnosis: the agent's own failure lines only where they
    counted (a non-zero exit, a session gone), its loop summary and question, the hook."""
    kinds = {"task_failed", "summary_completed", "summary_failed", "prompt"}
    if case.signals != type(case.signals)():
        kinds |= {"auth", "rate_limit", "config"}
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
