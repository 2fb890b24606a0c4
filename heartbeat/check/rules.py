"""The rules of DESIGN §4 as data, and the sentences they give a person.

``RULES`` is read top to bottom: the first predicate that holds names the
diagnosis. ``POLICIES`` says per diagnosis the note's status word and which
rule of action applies (``decide._ACTIONS``). ``HINTS`` holds the sentences
that fit any agent; a hint that names an agent comes from ``AGENTS``, keyed by
profile name (its Ralph loop, its login, what a rerun needs), so a Claude Code
run is never told to wrap itself in ``ralphy --codex``. Pure: no tmux, no
subprocess, no clock.
"""

from __future__ import annotations

import typing as t

from heartbeat.words import Block, Diagnosis, Kind, PaneState, Status

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from heartbeat.check.observe import Observation
    from heartbeat.config import Settings
    from heartbeat.profiles import Profile, Profiles
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
    found: dict[str, list[str]] = {
        Kind.AUTH: [],
        Kind.RATE_LIMIT: [],
        Kind.CONFIG: [],
        Kind.RESUME_FAILED: [],
    }
    for match in obs.voice:
        if match.kind in found:
            found[match.kind].append(match.line)
    if obs.exit_kind in found:
        found[obs.exit_kind].append(f"exit {obs.exit_code}")
    if obs.record_limit:
        found[Kind.RATE_LIMIT].append(
            f"{obs.profile} recorded {obs.record_limit} (its own records)"
        )
    if not found[Kind.AUTH] and not found[Kind.RATE_LIMIT]:
        for kind, line in obs.log:
            if kind in found:
                found[kind].append(line)
    void = memory.void_incarnation
    if void is not None and (obs.incarnation is None or void in ("pending", obs.incarnation)):
        # the user resumed after this incarnation failed: its old errors are void
        found[Kind.AUTH], found[Kind.RATE_LIMIT] = [], []
    if credentials_changed(obs, memory):
        # logged in again since the block: the errors the old login caused are void
        found[Kind.AUTH], found[Kind.RATE_LIMIT] = [], []
    if obs.wrapper:
        return Signals(
            tuple(found[Kind.AUTH]),
            tuple(found[Kind.RATE_LIMIT]),
            resume_failed=tuple(found[Kind.RESUME_FAILED]),
            engine_config=tuple(found[Kind.CONFIG]),
        )
    return Signals(
        tuple(found[Kind.AUTH]),
        tuple(found[Kind.RATE_LIMIT]),
        tuple(found[Kind.CONFIG]),
        tuple(found[Kind.RESUME_FAILED]),
    )


def credentials_changed(obs: Observation, memory: SessionState) -> bool:
    """An auth block whose account has logged in again since (its credentials file changed)."""
    return (
        memory.blocked == Block.AUTH
        and memory.blocked_stamp is not None
        and (obs.credentials or "missing") != memory.blocked_stamp
    )


def _still_blocked(c: Case) -> bool:
    return c.memory.blocked == Block.AUTH and not credentials_changed(c.obs, c.memory)


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
        c.memory.blocked == Block.MISCONFIGURED
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


HINTS: dict[str, str] = {
    D.AUTH_EXPIRED: "log the agent in again",
    D.RATE_LIMITED: "held until {until}; restarts are staggered, one per check",
    "rate_parallel": "several sessions hit rate limits: reduce parallelism or stagger starts",
    D.READ_AND_EXIT: (
        "the agent read files and exited without a change: run it in a loop that starts it "
        "afresh for each task until the work is done (a Ralph loop), or give it a narrower task"
    ),
    D.FAILED: "restarts with the same command from the notes",
    "failed_again": (
        "failed more than once: a loop that starts the agent afresh for each task "
        "(a Ralph loop) may get further than the same command again"
    ),
    D.DIED: "restarts with the same command from the notes",
    D.STALLED: "no output for {idle}; look at it: tmux -S {socket} attach -t ={name}",
    D.WAITING_INPUT: (
        "waiting at a prompt; the heartbeat never answers: tmux -S {socket} attach -t ={name}"
    ),
    D.MISCONFIGURED: "fix the command in the note, then `heartbeat notes resume {name}`",
    "gave_up": (
        "restarted {count} times within an hour; fix it, then `heartbeat notes resume {name}`"
    ),
    D.PAUSED: "paused; `heartbeat notes resume {name}` to watch it again",
    D.NOT_OWNED: (
        "the heartbeat cannot tie this pane to the logged agent and never touches it: look at it "
        "(tmux -S {socket} attach -t ={name}); when the agent is done, `heartbeat notes done "
        "{name}`, or start it again yourself"
    ),
    D.UNLOGGED: "log it with `heartbeat notes adopt {name}` so the heartbeat watches it",
}


def fix_for(obs: Observation) -> str:
    """How to fix a misconfigured session: the rewritten command where a flag was rejected."""
    name = obs.entry.name
    rejected = next((m.groups.get("flag") for m in obs.voice if m.kind == Kind.CONFIG), None)
    if obs.rejected_flag and obs.rewritten:
        flag, replacement, removed_in = obs.rejected_flag
        since = f" (removed in {obs.profile or 'the agent'} {removed_in})" if removed_in else ""
        return (
            f"the agent no longer accepts `{flag}`{since}; log the same command with "
            f"`{replacement}`: `{obs.rewritten}`, then `heartbeat notes resume {name}`"
        )
    if rejected:
        return (
            f"the agent rejects `{rejected}`: remove it from the command in the note, "
            f"then `heartbeat notes resume {name}`"
        )
    if any("trusted directory" in m.line for m in obs.voice):
        return (
            "the agent will not run outside a trusted folder (a git repository): run it in one, "
            f"or trust the folder, then `heartbeat notes resume {name}`"
        )
    return HINTS[D.MISCONFIGURED].format(name=name)


class AgentHints(t.NamedTuple):
    """What fits one agent when a run gets nowhere (a row of ``AGENTS``)."""

    #: The agent as a person calls it.
    title: str
    #: The Ralph loop that runs this agent with fresh context per task; None: the agent is
    #: a loop itself, or none runs it (then *note* says what to do instead).
    loop: str | None
    #: Said after the loop, or instead of it.
    note: str = ""
    #: The agent ticks a PRD task's box when the task fails too (and skips ticked boxes).
    ticks_failed: bool = False
    #: The agent run directly, headless (what to run when a loop cannot run it).
    direct: str = ""


#: Per profile name. The loops are ralphy-cli 4.7.2's engine flags (``ralphy --help``:
#: ``--claude``, its default, ``--codex``, ``--gemini``; the profile's ``[engines]``).
#: Only a codex run can be wrapped by the heartbeat itself (``auto_ralph``:
#: ``session.ralph_command`` rewrites a ``codex exec … 'TASK'`` alone).
AGENTS: dict[str, AgentHints] = {
    "codex": AgentHints(
        "codex", "ralphy --codex --prd PRD.md", direct="codex exec -s workspace-write …"
    ),
    "claude": AgentHints(
        "Claude Code",
        "ralphy --claude --prd PRD.md",
        "Claude Code is ralphy's default engine, so `--claude` may be left out",
        direct="claude -p …",
    ),
    "gemini": AgentHints("gemini-cli", "ralphy --gemini --prd PRD.md", direct="gemini -p …"),
    "ralphy": AgentHints(
        "ralphy",
        None,
        "rerun the same command (ralphy gives each task fresh context) after unticking "
        "(`- [ ]`) the PRD boxes of the tasks to redo: ralphy ticks a task even when it "
        "failed, and skips a ticked one",
        ticks_failed=True,
    ),
}


def read_and_exit(obs: Observation, *, auto_ralph: bool) -> str:
    """The read-and-exit hint for the session's agent: its own Ralph loop, or what instead.

    Offers ``auto_ralph`` only where the heartbeat can wrap the command (``obs.ralph``),
    and says so where it is on but cannot.
    """
    row = AGENTS.get(obs.profile or "")
    if row is None:
        return HINTS[D.READ_AND_EXIT]
    if row.loop is None:
        return f"{row.title} exited at once without a change{_all_ticked(obs)}: {row.note}"
    said = f"{row.title} read files and exited without a change"
    hint = f"{said}: wrap it in a Ralph loop (`{row.loop}`)"
    if row.note:
        hint += f"; {row.note}"
    if obs.ralph is not None and not auto_ralph:
        hint += f", or set auto_ralph = true to let the heartbeat restart it as `{obs.ralph}`"
    elif obs.ralph is None and auto_ralph:
        hint += (
            "; auto_ralph cannot wrap this command (it wraps only a `codex exec … 'TASK'` "
            "logged as a plain command)"
        )
    return hint


def _all_ticked(obs: Observation) -> str:
    checked = obs.verification
    if checked is None or not checked.prd or not checked.prd_total:
        return ""
    if checked.prd_ticked < checked.prd_total:
        return ""
    return f" (every box of {checked.prd} is ticked: {checked.prd_ticked}/{checked.prd_total})"


def failed(obs: Observation, failures: int) -> str | None:
    """The hint for a failed session: for a loop that ticks failed tasks, which boxes to
    untick (every time); for an agent that failed more than once, its Ralph loop."""
    row = AGENTS.get(obs.profile or "")
    again = "failed more than once: " if failures >= 1 else ""
    if row is not None and row.ticks_failed:
        return again + _untick(obs, row)
    if not again:
        return None
    if row is None:
        return HINTS["failed_again"]
    if row.loop is None:
        return again + row.note
    hint = f"{again}the Ralph loop (`{row.loop}`) retries with fresh context"
    return f"{hint} ({row.note})" if row.note else hint


def _untick(obs: Observation, row: AgentHints) -> str:
    tasks = [m.groups.get("task", "") for m in obs.voice if m.kind == Kind.TASK_FAILED]
    named = [f"'{task[:60]}'" for task in dict.fromkeys(t for t in tasks if t)][:3]
    if named:
        them = "it" if len(named) == 1 else "them"
        return (
            f"{row.title} ticked the box of the task it failed ({', '.join(named)}): untick "
            f"{them} (`- [ ]`) in the PRD so the rerun does {them} again"
        )
    return (
        f"{row.title} ticks a task's box even when the task failed, so untick those boxes "
        "(`- [ ]`) in the PRD for the rerun to do them again"
    )


def login(profiles: Profiles, profile: Profile | None, command: str) -> tuple[str, Profile | None]:
    """How to log in again, and the profile whose credentials were refused.

    A loop's login is its engine's (ralphy on Claude Code logs in with ``claude``):
    the engine its command names, else its default; the loop's own hint only
    where its engine is unknown. *command* may be a logged ``tmux … new … "…"``
    line: quotes are no part of a flag (decide stays pure: no shell parser here).
    """
    if profile is None:
        return HINTS[D.AUTH_EXPIRED], None
    engine = profiles.engine(profile, command.replace('"', " ").replace("'", " "))
    if engine is not None and engine.login_hint:
        return f"{profile.name} runs {_title(engine)}: {engine.login_hint}", engine
    return profile.login_hint or HINTS[D.AUTH_EXPIRED], profile


def engine_rejects(profiles: Profiles, profile: Profile | None, command: str, line: str) -> str:
    """A loop whose engine rejects the command line the loop gives it: what can help."""
    name = profile.name if profile else "the loop"
    engine = (
        profiles.engine(profile, command.replace('"', " ").replace("'", " ")) if profile else None
    )
    row = AGENTS.get(engine.name) if engine else None
    direct = (
        f"run the engine directly (`{row.direct}`)"
        if row and row.direct
        else "run its engine directly"
    )
    return (
        f"{name} runs its engine with a command line the installed engine rejects "
        f"({line[:120]}): a restart cannot help; upgrade {name}, or {direct}"
    )


def _title(profile: Profile) -> str:
    row = AGENTS.get(profile.name)
    return row.title if row else profile.name
