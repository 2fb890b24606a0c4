"""Edits of a note as text splices: each changes only the lines it means to.

Every function here takes a parsed note and returns the new full text (or the
splice that makes it); none touches the disk (``memory_schema.edit_note`` does,
atomically). Several edits in one go: ``memory_schema.NoteEdits``. The
frontmatter, other sections, line endings, the trailing newline and a BOM are
kept byte for byte.
"""

from __future__ import annotations

import re
import typing as t

from memory_schema.errors import EntryNotFound, NoteError
from memory_schema.model import LOG_TITLE, STATUS_WORDS, Entry, Section, is_valid_name
from memory_schema.render import InvalidEntry, render_section
from memory_schema.text import NoteText, strip_ending

if t.TYPE_CHECKING:
    from memory_schema.parse import ParsedNote


class NotCanonical(NoteError):
    """The entry was not written by this library, so it is never reworded."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        super().__init__(
            f"{entry.source}: the entry {entry.name!r} is not in the canonical form, "
            "so it is left as written"
        )


class Splice(t.NamedTuple):
    """Replace ``remove`` lines at ``at`` (an index of the original note's lines) by ``lines``."""

    at: int
    lines: list[str]
    remove: int = 0


def apply_splices(note: NoteText, splices: list[Splice]) -> str:
    """The note's text with every splice made; indices are those of the original lines.

    Of two splices at one index, the one listed first comes first. A note that
    ended without a newline still does, after whatever was added at its end.
    """
    lines = list(note.lines)
    for _, splice in sorted(enumerate(splices), key=lambda p: (p[1].at, p[0]), reverse=True):
        lines[splice.at : splice.at + splice.remove] = splice.lines
    if not note.ends_with_newline and lines:
        lines = [line if line.endswith("\n") else line + note.newline for line in lines]
        lines[-1] = strip_ending(lines[-1])
    return NoteText(lines=lines, bom=note.bom).text


def _splice(note: NoteText, index: int, new: list[str], remove: int = 0) -> str:
    """Replace ``remove`` lines at *index* by *new* lines; return the full text."""
    return apply_splices(note, [Splice(index, new, remove)])


def _last_content_line(note: NoteText, section: Section) -> int:
    """Index of the last non-blank line of *section* (its heading at least)."""
    for index in range(section.end - 1, section.start, -1):
        if note.bare(index).strip():
            return index
    return section.start


def section_insertion(note: NoteText, section: Section, block: list[str]) -> Splice:
    """Where and how *block* goes at the end of *section*'s content."""
    nl = note.newline
    last = _last_content_line(note, section)
    if last == section.start:
        after = section.start + 1
        if after < section.end and not note.bare(after).strip():
            after, block = after + 1, list(block)
        else:
            block = [nl, *block]
        if after < len(note.lines) and note.bare(after).strip():
            block = [*block, nl]  # the next heading starts right below: keep it apart
        return Splice(after, block)
    line = note.bare(last)
    in_list = bool(re.match(r"^(\s+\S|\s*([-*+]|\d+[.)])\s)", line))
    block = block if in_list else [nl, *block]
    if last + 1 < len(note.lines) and note.bare(last + 1).strip():
        block = [*block, nl]  # the next heading starts right below: keep it apart
    return Splice(last + 1, block)


def section_append(note: NoteText, lines: list[str]) -> Splice:
    """*lines* (a new section) at the end of the note, after a blank line."""
    block = list(lines)
    if note.lines and note.bare(len(note.lines) - 1).strip():
        block.insert(0, note.newline)
    return Splice(len(note.lines), block)


def _insert_in_section(note: NoteText, section: Section, block: list[str]) -> str:
    return apply_splices(note, [section_insertion(note, section, block)])


def _append_section(note: NoteText, lines: list[str]) -> str:
    return apply_splices(note, [section_append(note, lines)])


def set_status(parsed: ParsedNote, name: str, status: str, *, until: str | None = None) -> str:
    """Update the status word (and the pause end) of the last mention of *name*.

    Raises EntryNotFound when the note does not mention *name*, NotCanonical
    when that mention is not in the canonical form.
    """
    splice = status_splice(parsed, name, status, until=until)
    return parsed.text.text if splice is None else apply_splices(parsed.text, [splice])


def status_splice(
    parsed: ParsedNote, name: str, status: str, *, until: str | None = None
) -> Splice | None:
    """The one-line splice that sets *name*'s status; None when it already reads so.

    Raises as :func:`set_status` does.
    """
    entries = parsed.entries_named(name)
    if not entries:
        raise EntryNotFound(name, str(parsed.path))
    entry = entries[-1]
    if not entry.canonical:
        raise NotCanonical(entry)
    if status not in STATUS_WORDS:
        raise InvalidEntry(f"unknown status {status!r}; use one of {', '.join(STATUS_WORDS)}")
    index = entry.line - 1
    original = parsed.text.lines[index]
    bare = strip_ending(original)
    ending = original[len(bare) :]
    match = re.match(r"^(\s*- `[^`]+` — )(\w+)(.*)$", bare)
    if match is None:  # pragma: no cover - canonical entries always match
        raise NotCanonical(entry)
    fields = re.sub(r" · until [^·]*", "", match.group(3))
    if until:
        fields += f" · until {until}"
    new = f"{match.group(1)}{status}{fields}{ending}"
    return None if new == original else Splice(index, [new], remove=1)


def mark_removed(parsed: ParsedNote, name: str) -> str:
    """Add a struck-through ``- ~~`name`~~ — removed`` mention to the last Active section.

    The mention reads as inactive and overrides earlier mentions (in this or
    earlier notes) without rewording them. Creates the section when missing.
    """
    if not is_valid_name(name):
        raise InvalidEntry(f"session name {name!r} cannot be used")
    note = parsed.text
    block = [f"- ~~`{name}`~~ — removed{note.newline}"]
    sections = parsed.active_sections
    if sections:
        return _insert_in_section(note, sections[-1], block)
    return _append_section(note, render_section([block], note.newline))


def remove_entry(parsed: ParsedNote, name: str) -> str:
    """Delete every mention of *name* in the note (its whole item, sub-items too)."""
    entries = parsed.entries_named(name)
    if not entries:
        raise EntryNotFound(name, str(parsed.path))
    lines = list(parsed.text.lines)
    for entry in sorted(entries, key=lambda e: e.line, reverse=True):
        del lines[entry.line - 1 : entry.end_line]
    return NoteText(lines=lines, bom=parsed.text.bom).text


def append_log(parsed: ParsedNote, events: list[str]) -> str:
    """Append one ``- ...`` line per event under the note's ``## Heartbeat``.

    The section is created at the end of the note when missing. Returns the
    text unchanged when *events* is empty.
    """
    if not events:
        return parsed.text.text
    return apply_splices(parsed.text, [log_splice(parsed, events)])


def log_splice(parsed: ParsedNote, events: list[str]) -> Splice:
    """The splice that appends *events* as log lines (see :func:`append_log`)."""
    note, sections = parsed.text, parsed.log_sections
    for event in events:
        if "\n" in event or "\r" in event:
            raise NoteError("a log line cannot contain a line break")
    block = [f"- {event}{note.newline}" for event in events]
    if sections:
        return section_insertion(note, sections[-1], block)
    return section_append(note, [f"## {LOG_TITLE}{note.newline}", note.newline, *block])


def new_note_text(title: str) -> str:
    """The text of a new daily note: its ``# title`` line."""
    return f"# {title}\n"
