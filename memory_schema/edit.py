"""Edits of a note as text splices: each changes only the lines it means to.

Every function here takes a parsed note and returns the new full text; none
touches the disk (``memory_schema.files.edit_note`` does, atomically). The
frontmatter, other sections, line endings, the trailing newline and a BOM are
kept byte for byte.
"""

from __future__ import annotations

import re
import typing as t

from memory_schema.errors import EntryNotFound, NoteError
from memory_schema.model import LOG_TITLE, Entry, Section, is_valid_name
from memory_schema.render import InvalidEntry, render_entry, render_section
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


def _splice(note: NoteText, index: int, new: list[str], remove: int = 0) -> str:
    """Replace ``remove`` lines at *index* by *new* lines; return the full text."""
    lines = list(note.lines)
    new = list(new)
    if new and index >= len(lines) and lines and not lines[-1].endswith("\n"):
        # The note ends without a newline: keep it so, after the new lines.
        lines[-1] += note.newline
        new[-1] = strip_ending(new[-1])
    lines[index : index + remove] = new
    return NoteText(lines=lines, bom=note.bom).text


def _last_content_line(note: NoteText, section: Section) -> int:
    """Index of the last non-blank line of *section* (its heading at least)."""
    for index in range(section.end - 1, section.start, -1):
        if note.bare(index).strip():
            return index
    return section.start


def _insert_in_section(note: NoteText, section: Section, block: list[str]) -> str:
    nl = note.newline
    last = _last_content_line(note, section)
    if last == section.start:
        after = section.start + 1
        if after < section.end and not note.bare(after).strip():
            return _splice(note, after + 1, block)
        return _splice(note, after, [nl, *block])
    line = note.bare(last)
    in_list = bool(re.match(r"^(\s+\S|\s*([-*+]|\d+[.)])\s)", line))
    block = block if in_list else [nl, *block]
    if last + 1 < len(note.lines) and note.bare(last + 1).strip():
        block = [*block, nl]  # the next heading starts right below: keep it apart
    return _splice(note, last + 1, block)


def _append_section(note: NoteText, lines: list[str]) -> str:
    nl = note.newline
    block = list(lines)
    if note.lines and note.bare(len(note.lines) - 1).strip():
        block.insert(0, nl)
    return _splice(note, len(note.lines), block)


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

    Creates the section at the end of the note when there is none. Does not
    check for an existing entry of the same name: a later mention overrides.
    """
    note = parsed.text
    block = render_entry(
        name, command, status, started=started, dir=dir, until=until, newline=note.newline
    )
    sections = parsed.active_sections
    new_section = render_section([block], note.newline)
    if sections:
        text = _insert_in_section(note, sections[-1], block)
        if _reads_back(text, parsed, name, command, status):
            return text
    text = _append_section(note, new_section)
    if _reads_back(text, parsed, name, command, status):
        return text
    raise NoteError(
        f"{parsed.path}: an entry added at the end of the note would not be read back "
        "(the note ends inside an unclosed code block, HTML block or comment); "
        "close it, then add the entry again"
    )


def _reads_back(text: str, parsed: ParsedNote, name: str, command: str, status: str) -> bool:
    """True when *text* reads with *name*'s last mention the canonical entry just added."""
    from memory_schema.parse import parse_note

    mentions = parse_note(text, parsed.path).entries_named(name)
    return bool(mentions) and (
        mentions[-1].canonical,
        mentions[-1].command,
        mentions[-1].status,
    ) == (True, command, status)


def set_status(parsed: ParsedNote, name: str, status: str, *, until: str | None = None) -> str:
    """Update the status word (and the pause end) of the last mention of *name*.

    Raises EntryNotFound when the note does not mention *name*, NotCanonical
    when that mention is not in the canonical form.
    """
    entries = parsed.entries_named(name)
    if not entries:
        raise EntryNotFound(name, str(parsed.path))
    entry = entries[-1]
    if not entry.canonical:
        raise NotCanonical(entry)
    note = parsed.text
    index = entry.line - 1
    original = note.lines[index]
    bare = strip_ending(original)
    ending = original[len(bare) :]
    match = re.match(r"^(\s*- `[^`]+` — )(\w+)(.*)$", bare)
    if match is None:  # pragma: no cover - canonical entries always match
        raise NotCanonical(entry)
    fields = re.sub(r" · until [^·]*", "", match.group(3))
    if until:
        fields += f" · until {until}"
    new = f"{match.group(1)}{status}{fields}{ending}"
    if new == original:
        return note.text
    return _splice(note, index, [new], remove=1)


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
    note = parsed.text
    if not events:
        return note.text
    for event in events:
        if "\n" in event or "\r" in event:
            raise NoteError("a log line cannot contain a line break")
    block = [f"- {event}{note.newline}" for event in events]
    sections = parsed.log_sections
    if sections:
        return _insert_in_section(note, sections[-1], block)
    return _append_section(note, [f"## {LOG_TITLE}{note.newline}", note.newline, *block])


def new_note_text(title: str) -> str:
    """The text of a new daily note: its ``# title`` line."""
    return f"# {title}\n"
