"""`heartbeat verify NAME`: the post-completion verification on demand."""

from __future__ import annotations

import typing as t

import memory_schema as ms
from heartbeat.tmux import Tmux

if t.TYPE_CHECKING:
    import datetime

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.verify import Verification


def verify_session(
    settings: Settings, date: datetime.date, now: pendulum.DateTime, name: str
) -> Verification:
    """Verify *name*'s folder; the start time is the tmux session's, else the note's."""
    from heartbeat.notes import collect
    from heartbeat.session import folder, parse_started
    from heartbeat.verify import verify

    collection = collect(settings, date)
    entry = collection.get(name)
    if entry is None:
        raise ms.EntryNotFound(name, f"the notes of {date.isoformat()} and the days before")
    started: float | None = None
    probe = Tmux(settings.socket).probe({name}, lines=1)
    panes = probe.session_panes(name) if probe.server == "running" else []
    if panes:
        started = panes[0].created
    if started is None:
        started = parse_started(entry.started, now)
    return verify(folder(entry), entry.command, started)
