"""The digest: the morning report as a section of today's note, ``## Heartbeat digest``.

Written by the first check at or after ``digest_at`` each day (and sent as one
notification), or by ``heartbeat report --write``; either replaces that day's
digest section rather than adding another. The edit is a text splice
(``memory_schema``): every other byte of the note stays as it was.

``due`` is on every check's path and costs a comparison; the rest is imported
only on the day's digest.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import datetime

    import memory_schema as ms
    from heartbeat.config import Settings
    from heartbeat.morning import Report, SessionFacts
    from heartbeat.state import State

TITLE = "Heartbeat digest"


def clock_of(value: str) -> tuple[int, int] | None:
    """``HH:MM`` as (hour, minute); None for anything else (``digest_at`` is checked
    when the settings are read)."""
    hour, _, minute = value.partition(":")
    if not (hour.isdigit() and minute.isdigit() and len(minute) == 2):
        return None
    if int(hour) > 23 or int(minute) > 59:
        return None
    return int(hour), int(minute)


def due(settings: Settings, state: State, day: datetime.date, now: datetime.datetime) -> bool:
    """Whether this check writes the day's digest: at or after ``digest_at``, once a day."""
    if not settings.digest_at or state.digest_day == day.isoformat():
        return False
    at = clock_of(settings.digest_at)
    return at is not None and (now.hour, now.minute) >= at


def from_check(
    settings: Settings, state: State, day: datetime.date, now: datetime.datetime
) -> tuple[str | None, str | None]:
    """Write the day's digest for a check: (the notification's text, a warning).

    Marks the day done in *state* only when the note was written, so a digest
    that could not be written is tried again by the next check.
    """
    from heartbeat import history
    from heartbeat.errors import HeartbeatError
    from memory_schema import NoteError

    try:
        report = build(settings, now, day)
        write(settings, report, day)
    except (HeartbeatError, NoteError, OSError) as error:
        return None, f"the digest was not written: {error}"
    state.digest_day = day.isoformat()
    return message(report), history.append_digest(settings.state_dir, now, day, "check")


def build(
    settings: Settings,
    now: datetime.datetime,
    day: datetime.date,
    since: str | None = None,
    until: str | None = None,
) -> Report:
    """The report a digest of *day* shows: by default since the last digest of another day."""
    from heartbeat import morning

    return morning.build(settings, now, since, until, replacing=day.isoformat())


def lines(report: Report, newline: str = "\n") -> list[str]:
    """The section: its heading, the totals, the needs-you list, one line per session."""
    totals = report.totals
    head = (
        f"{report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M}: "
        f"{_count(totals['sessions'], 'session')}, {_count(totals['commits'], 'commit')}, "
        f"{_count(totals['restarts'], 'restart')}, {totals['tokens']:,} tokens"
    )
    out = [f"## {TITLE}", "", head + ".", ""]
    needing = [s for s in report.sessions if s.needs_you]
    if needing:
        out += ["Needs you:", ""]
        out += [f"- `{s.name}` — {s.needs_you}" for s in needing]
        out.append("")
    out += [f"- `{s.name}` — {summary(s)}" for s in report.sessions]
    if not report.sessions:
        out.append("- no session was active")
    return [line + newline for line in out]


def summary(facts: SessionFacts) -> str:
    """One session in a line: outcome, work, restarts, time, tokens."""
    from heartbeat.words import format_duration

    parts = [facts.outcome.replace("_", " ")]
    parts.append(_count(facts.commits, "commit"))
    if facts.prd:
        prd = facts.prd
        parts.append(
            f"PRD {prd['done']} done, {prd['ticked_without_commit']} ticked without a commit, "
            f"{prd['open']} open"
        )
    if facts.restarts:
        parts.append(_count(facts.restarts, "restart"))
    times = [
        f"{word} {format_duration(seconds, compact=True)}"
        for word, seconds in (
            ("running", facts.running_seconds),
            ("held", facts.held_seconds),
            ("down", facts.down_seconds),
            ("unknown", facts.unknown_seconds),
        )
        if seconds >= 60
    ]
    if times:
        parts.append(", ".join(times))
    if facts.tokens:
        parts.append(f"{int(facts.tokens['total'] or 0):,} tokens ({facts.tokens['source']})")
    return " · ".join(parts)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def message(report: Report) -> str:
    """The digest as one notification."""
    totals = report.totals
    text = (
        f"heartbeat digest: {_count(totals['sessions'], 'session')}, "
        f"{_count(totals['commits'], 'commit')}, {_count(totals['restarts'], 'restart')}, "
        f"{totals['tokens']:,} tokens"
    )
    needing = [
        f"{s.name} ({(s.needs_you or '').split(':')[0]})" for s in report.sessions if s.needs_you
    ]
    return text + ("; needs you: " + ", ".join(needing) if needing else "")


def write(settings: Settings, report: Report, day: datetime.date) -> bool:
    """Put the digest into *day*'s note, replacing that day's digest section; True if written.

    Raises NoteError (or OSError) when the note cannot be edited.
    """
    import memory_schema as ms
    from memory_schema.edit import Splice, apply_splices, section_append

    def transform(parsed: ms.ParsedNote) -> str:
        note = parsed.text
        block = lines(report, note.newline)
        mine = [s for s in parsed.sections if s.level == 2 and s.title.strip() == TITLE]
        if not mine:
            return apply_splices(note, [section_append(note, block)])
        section = mine[-1]
        end = section.end
        while end > section.start + 1 and not note.bare(end - 1).strip():
            end -= 1  # the blank lines before the next heading stay as they are
        return apply_splices(note, [Splice(section.start, block, end - section.start)])

    return ms.edit_note(
        ms.note_path(settings.notes_dir, day),
        transform,
        create=ms.new_note_text(day.isoformat()),
        cache_dir=settings.state_dir,
    )


def write_on_demand(
    settings: Settings, report: Report, day: datetime.date, now: datetime.datetime
) -> str | None:
    """``report --write``: the digest into *day*'s note, and the journal told; a warning."""
    from heartbeat import history

    write(settings, report, day)
    return history.append_digest(settings.state_dir, now, day, "report")
