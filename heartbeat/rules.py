"""The rules of DESIGN §4 as data: what a check sees → diagnosis → policy.

``RULES`` is read top to bottom; the first predicate that holds names the
diagnosis. ``POLICIES`` says, per diagnosis, what the note's status word
becomes, whether a restart is wanted, and whether it is a bad state to
notify about. ``HINTS`` are the sentences a person reads.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from heartbeat.config import Settings

DIAGNOSES = (
    "healthy",
    "completed",
    "read_and_exit",
    "auth_expired",
    "rate_limited",
    "failed",
    "died",
    "stalled",
    "waiting_input",
    "paused",
)
ACTIONS = ("none", "restarted", "reported", "verified", "backoff", "gave_up")


@dataclasses.dataclass
class Facts:
    """What one check saw of one session (no tmux or git calls behind these)."""

    name: str
    exists: bool
    finished: bool = False
    exit_code: int | None = None
    idle: float | None = None
    age: float | None = None
    auth: list[str] = dataclasses.field(default_factory=list)
    rate: list[str] = dataclasses.field(default_factory=list)
    reset: datetime.datetime | None = None
    prompt: str | None = None
    paused: bool = False
    blocked_auth: bool = False
    completed_before: bool = False
    changed_nothing: bool | None = None

    @property
    def state(self) -> str:
        """running, exited or dead (DESIGN §5's `state`)."""
        if not self.exists:
            return "dead"
        return "exited" if self.finished else "running"


def _completed(f: Facts, s: Settings) -> bool:
    return (f.finished and f.exit_code == 0) or (not f.exists and f.completed_before)


def _read_and_exit(f: Facts, s: Settings) -> bool:
    return (
        f.finished
        and f.exit_code == 0
        and f.age is not None
        and f.age <= s.read_exit_seconds
        and f.changed_nothing is True
    )


RULES: list[tuple[str, Callable[[Facts, Settings], bool]]] = [
    ("paused", lambda f, s: f.paused),
    ("auth_expired", lambda f, s: bool(f.auth) or f.blocked_auth),
    ("rate_limited", lambda f, s: bool(f.rate)),
    ("read_and_exit", _read_and_exit),
    ("completed", _completed),
    ("failed", lambda f, s: f.finished and f.exit_code != 0),
    ("died", lambda f, s: not f.exists),
    ("waiting_input", lambda f, s: f.prompt is not None),
    ("stalled", lambda f, s: f.idle is not None and f.idle > s.stall_minutes * 60),
    ("healthy", lambda f, s: True),
]


def diagnose(facts: Facts, settings: Settings) -> str:
    """The first rule that holds."""
    return next(name for name, holds in RULES if holds(facts, settings))


@dataclasses.dataclass(frozen=True)
class Policy:
    #: The canonical entry's status word for this diagnosis (None: leave it).
    status: str | None
    #: "no", "yes" (within the budget), "after_hold" (rate limits), "config" (auto_ralph).
    restart: str = "no"
    #: A state to notify about on entering it.
    bad: bool = True
    #: Action word when nothing is restarted.
    action: str = "reported"


POLICIES: dict[str, Policy] = {
    "healthy": Policy("running", bad=False, action="none"),
    "completed": Policy("done", bad=False, action="verified"),
    "read_and_exit": Policy("failed", restart="config"),
    "auth_expired": Policy("blocked"),
    "rate_limited": Policy("blocked", restart="after_hold", action="backoff"),
    "failed": Policy("failed", restart="yes"),
    "died": Policy("died", restart="yes"),
    "stalled": Policy("stalled"),
    "waiting_input": Policy("blocked"),
    "paused": Policy(None, bad=False, action="none"),
}

HINTS: dict[str, str] = {
    "auth_expired": (
        "run `codex login` (check with `codex login status`) — the seed's `codex auth login` "
        "does not exist in codex's CLI; then `heartbeat notes resume {name}`"
    ),
    "auth_parallel": (
        "several codex sessions share one ~/.codex/auth.json: parallel token refreshes "
        "invalidate each other (refresh_token_reused); stagger them"
    ),
    "rate_limited": "held until {until}; restarts are staggered, one per check",
    "rate_parallel": "several sessions hit rate limits: reduce parallelism or stagger starts",
    "read_and_exit": (
        "the agent read files and exited without a change: wrap it in a Ralph loop "
        "(`ralphy --codex --prd PRD.md`), or set auto_ralph = true to let the heartbeat do it"
    ),
    "failed": "restarted with the same command from the notes",
    "failed_again": (
        "failed more than once: the Ralph loop (`ralphy --codex`) retries with fresh context"
    ),
    "died": "restarted with the same command from the notes",
    "stalled": "no output for {idle}; look at it: tmux -S {socket} attach -t ={name}",
    "waiting_input": (
        "waiting at a prompt; the heartbeat never answers: tmux -S {socket} attach -t ={name}"
    ),
    "gave_up": (
        "restarted {count} times within an hour; fix it, then `heartbeat notes resume {name}`"
    ),
    "completed": "",
    "healthy": "",
    "paused": "paused; `heartbeat notes resume {name}` to watch it again",
}
