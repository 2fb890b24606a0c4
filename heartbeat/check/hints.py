"""The sentences a person reads: a hint per diagnosis, and the fix for a misconfiguration."""

from __future__ import annotations

import typing as t

from heartbeat.timefmt import format_duration
from heartbeat.words import Diagnosis

if t.TYPE_CHECKING:
    from heartbeat.check.observe import Observation

__all__ = ["HINTS", "fix_for", "format_duration"]

D = Diagnosis

HINTS: dict[str, str] = {
    D.AUTH_EXPIRED: "log the agent in again",
    D.RATE_LIMITED: "held until {until}; restarts are staggered, one per check",
    "rate_parallel": "several sessions hit rate limits: reduce parallelism or stagger starts",
    D.READ_AND_EXIT: (
        "the agent read files and exited without a change: wrap it in a Ralph loop "
        "(`ralphy --codex --prd PRD.md`), or set auto_ralph = true to let the heartbeat do it"
    ),
    D.FAILED: "restarts with the same command from the notes",
    "failed_again": (
        "failed more than once: the Ralph loop (`ralphy --codex`) retries with fresh context"
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
    rejected = next((m.groups.get("flag") for m in obs.voice if m.kind == "config"), None)
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
