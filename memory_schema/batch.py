"""Several edits of one note from one parse, checked by one read-back: :class:`NoteEdits`.

A check that carries entries, updates statuses and logs what it did makes
every change on one parsed note; after each change the note is parsed again
only between the headings around the lines it changed
(:func:`memory_schema.reparse.reparse`): a long note is not parsed per edit.
"""

from __future__ import annotations

import dataclasses
import typing as t

from memory_schema.edit import (
    Splice,
    apply_splices,
    log_splice,
    section_append,
    section_insertion,
    status_splice,
)
from memory_schema.errors import NoteError
from memory_schema.render import render_entry, render_section
from memory_schema.reparse import reparse

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from memory_schema.parse import ParsedNote


@dataclasses.dataclass(frozen=True)
class _Add:
    name: str
    command: str
    status: str
    started: str | None
    dir: str | None
    until: str | None

    def lines(self, newline: str) -> list[str]:
        return render_entry(
            self.name,
            self.command,
            self.status,
            started=self.started,
            dir=self.dir,
            until=self.until,
            newline=newline,
        )


@dataclasses.dataclass
class NoteEdits:
    """Edits to make to one note: new canonical entries, status changes, log lines.

    Collect them with :meth:`add`, :meth:`status` and :meth:`log` (each checks
    its input at once and raises InvalidEntry or NoteError), then
    :meth:`apply` them to a parsed note: one splice pass, one read-back.
    ``edit_note(path, edits.apply_parsed)`` writes them atomically.
    """

    adds: list[_Add] = dataclasses.field(default_factory=list)
    statuses: dict[str, tuple[str, str | None]] = dataclasses.field(default_factory=dict)
    events: list[str] = dataclasses.field(default_factory=list)

    def add(
        self,
        name: str,
        command: str,
        status: str = "running",
        *,
        started: str | None = None,
        dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
        until: str | None = None,
    ) -> None:
        """Add a canonical entry at the end of the last Active section (see add_entry)."""
        add = _Add(name, command, status, started, dir, until)
        add.lines("\n")  # raises InvalidEntry now, not in the middle of a write
        self.adds.append(add)

    def status(self, name: str, status: str, *, until: str | None = None) -> None:
        """Set the status (and pause end) of *name*'s last mention, as set_status does."""
        self.statuses[name] = (status, until)

    def log(self, events: Iterable[str]) -> None:
        """Append log lines under ``## Heartbeat`` (created at the end when missing)."""
        for event in events:
            if "\n" in event or "\r" in event:
                raise NoteError("a log line cannot contain a line break")
            self.events.append(event)

    def __bool__(self) -> bool:
        return bool(self.adds or self.statuses or self.events)

    def apply(self, parsed: ParsedNote) -> str:
        """The note's new text. Raises as :meth:`apply_parsed` does."""
        return self.apply_parsed(parsed).text.text

    def apply_parsed(self, parsed: ParsedNote) -> ParsedNote:
        """The note with every edit made, parsed (the parse reused up to the first change).

        Raises EntryNotFound or NotCanonical for a status change of an entry
        that is missing or not canonical, and NoteError when an added entry
        would not read back even in a new section at the end of the note.
        """
        if not self:
            return parsed
        # One edit after the other, as the single edits would be made, each
        # parsed again only around the lines it changed.
        current = parsed
        for name, (status, until) in self.statuses.items():
            splice = status_splice(current, name, status, until=until)
            if splice is not None:
                current = _spliced(current, splice)
        if self.adds:
            current = self._add(current)
        if self.events:
            current = _spliced(current, log_splice(current, self.events))
        return current

    def _add(self, parsed: ParsedNote) -> ParsedNote:
        """The adds as one block in the last Active section, else in a new one at the end."""
        note = parsed.text
        block = [line for add in self.adds for line in add.lines(note.newline)]
        tries = [section_append(note, render_section([block], note.newline))]
        if parsed.active_sections:
            tries.insert(0, section_insertion(note, parsed.active_sections[-1], block))
        for splice in tries:
            result = _spliced(parsed, splice)
            if all(_reads_back(result, add) for add in self.adds):
                return result
        raise NoteError(
            f"{parsed.path}: an entry added at the end of the note would not be read back "
            "(the note ends inside an unclosed code block, HTML block or comment); "
            "close it, then add the entry again"
        )


def _spliced(parsed: ParsedNote, splice: Splice) -> ParsedNote:
    return reparse(parsed, apply_splices(parsed.text, [splice]))


def _reads_back(parsed: ParsedNote, add: _Add) -> bool:
    """True when *add*'s name reads last as the canonical entry just added."""
    mentions = parsed.entries_named(add.name)
    return bool(mentions) and (
        mentions[-1].canonical,
        mentions[-1].command,
        mentions[-1].status,
    ) == (True, add.command, add.status)


def add_entry(
    parsed: ParsedNote,
    name: str,
    command: str,
    status: str = "running",
    *,
    started: str | None = None,
    dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
    until: str | None = None,
) -> str:
    """Add a canonical entry at the end of the note's last Active section.

    Creates the section at the end of the note when there is none, or when
    the entry would not read back where it was put. Does not check for an
    existing entry of the same name: a later mention overrides. Raises
    InvalidEntry for what the canonical form cannot hold, NoteError when the
    entry cannot be added so that it reads back.
    """
    edits = NoteEdits()
    edits.add(name, command, status, started=started, dir=dir, until=until)
    return edits.apply(parsed)
