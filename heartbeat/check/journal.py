"""Journal: what the check tells — the note's status words and log lines, what is news, memory.

News follows the state, not the tick (DESIGN §4): one notification when a
session enters a bad state, one when it recovers or finishes.
"""

from __future__ import annotations

import typing as t

import memory_schema as ms
from heartbeat.debuglog import LazyLogger
from heartbeat.session import dated_start
from heartbeat.words import Action, Diagnosis, Status

if t.TYPE_CHECKING:
    import datetime

    from heartbeat.check.act import Outcome
    from heartbeat.config import Settings
    from heartbeat.tmux import Pane

log = LazyLogger(__name__)
D = Diagnosis


def event_text(outcome: Outcome, clock: str) -> str | None:
    """The note's log line for a change of state, or None when nothing changed."""
    memory, diagnosis, action = outcome.before, outcome.decision.diagnosis, outcome.action
    name = outcome.name
    if action == Action.RESTARTED and outcome.restarted:
        return f"{clock} {name} {diagnosis} → restarted {outcome.detail}".rstrip()
    if action == Action.GAVE_UP:
        if memory.notified == Action.GAVE_UP:
            return None
        return f"{clock} {name} {diagnosis} → gave up ({outcome.detail})"
    if outcome.decision.renamed and diagnosis in (memory.notified, D.HEALTHY):
        return f"{clock} {name} renamed → followed (now `{outcome.decision.renamed}`)"
    if diagnosis == memory.notified:
        return None
    if diagnosis == D.HEALTHY:
        if memory.notified in (None, "healthy", "paused"):
            return None
        return f"{clock} {name} healthy again"
    if diagnosis == D.COMPLETED:
        return f"{clock} {name} completed → verified ({outcome.detail})"
    if diagnosis == D.PAUSED:
        return None
    detail = f" ({outcome.detail})" if outcome.detail else ""
    return f"{clock} {name} {diagnosis} → {action}{detail}"


def unlogged_text(socket: str, pane: Pane, agent: str, clock: str) -> str:
    """The note's line for an agent session no note lists (written once)."""
    return (
        f"{clock} {pane.session} unlogged → reported ({agent} on {socket}, in no note; "
        f"`heartbeat notes adopt {pane.session}` logs it)"
    )


def is_news(outcome: Outcome) -> bool:
    """Whether a session's event is worth a notification: the state, not the tick.

    News is entering a bad state (again, after a restart), giving up, finishing,
    or recovering by itself. A session still in the state already notified (a
    restart staggered to a later check of the same incident) is not news, and
    neither is the heartbeat's own restart working: it was announced already.
    """
    memory, diagnosis = outcome.before, outcome.decision.diagnosis
    if outcome.decision.renamed:
        return True
    restarted_last_check = memory.diagnosis is None and memory.restarted_at is not None
    if diagnosis == D.HEALTHY:
        return memory.notified not in (None, "healthy") and not restarted_last_check
    return diagnosis != memory.notified or restarted_last_check


def status_word(outcome: Outcome) -> Status | None:
    """The canonical entry's status word after this check (None: leave it)."""
    return Status.RESTARTED if outcome.restarted else outcome.decision.status


def write_back(
    settings: Settings,
    date: datetime.date,
    outcomes: t.Sequence[Outcome],
    carry: t.Sequence[ms.Entry],
    events: t.Sequence[str],
) -> bool:
    """Carry entries, update canonical status words and append the events: one atomic edit.

    Returns True when the note was written; a check with nothing to say leaves
    the note untouched (bytes and mtime). A carried bare start time keeps its
    note's date.
    """
    path = ms.note_path(settings.notes_dir, date)
    wanted = {o.name: w for o in outcomes if (w := status_word(o)) is not None}
    statuses = {
        o.name: wanted[o.name]
        for o in outcomes
        if o.name in wanted
        and o.obs.entry.canonical
        and o.obs.entry.file == path
        and o.obs.entry.status not in (wanted[o.name], "paused")
    }
    if not carry and not events and not statuses:
        return False

    def transform(note: ms.ParsedNote) -> ms.ParsedNote:
        """Every change in one splice pass over one parse (re-applied if the note moved)."""
        edits = ms.NoteEdits()
        for name, status in statuses.items():
            mentions = note.entries_named(name)
            last = mentions[-1] if mentions else None
            if last is not None and last.canonical and last.status not in (status, "paused"):
                edits.status(name, str(status), until=last.until)
        for entry in carry:
            if note.entries_named(entry.name):
                continue
            word = "paused" if entry.status == "paused" else wanted.get(entry.name, "running")
            edits.add(
                entry.name,
                entry.command,
                str(word),
                started=dated_start(entry.started, ms.note_date(entry.file) or date),
                dir=entry.dir,
                until=entry.until,
            )
        edits.log(events)
        return edits.apply_parsed(note)

    try:
        return ms.edit_note(
            path,
            transform,
            create=ms.new_note_text(date.isoformat()),
            cache_dir=settings.state_dir,
        )
    except ms.InvalidEntry as error:  # pragma: no cover - carried entries were readable
        log.warning("could not carry an entry: %s", error)
        return False
