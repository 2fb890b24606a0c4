"""Parsing a changed note again only where it changed.

A top-level ATX heading closes every block before it, so a parse may start
at one: what was read above it stands. And when the lines below a change are
the same, and the first heading below it still reads as a top-level heading
that closes the same sections, what was read below stands too, moved by the
number of lines added. ``reparse`` uses both and equals a full parse
(property-tested against ``parse_note``).
"""

from __future__ import annotations

import dataclasses
import typing as t

from memory_schema.entry import Reader
from memory_schema.mdtree import parse_blocks, paused_gc
from memory_schema.model import SECTION_RE, Problem
from memory_schema.parse import (
    Heading,
    ParsedNote,
    _anchors,
    _headings,
    _read_sections,
    _sections,
    parse_note,
)
from memory_schema.text import NoteText

if t.TYPE_CHECKING:
    from memory_schema.mdtree import Node


def reparse(previous: ParsedNote, text: str, unchanged: int | None = None) -> ParsedNote:
    """*text* parsed, reusing *previous* wherever their lines are the same.

    With *unchanged*, only the first *unchanged* lines are known to be the
    same (``previous.text`` need not hold the old text). Without it, the
    lines are compared with ``previous.text``: the parse covers the changed
    lines from the last heading above them to the first unchanged heading
    below them. A note without an Active section is parsed whole.
    """
    note = NoteText.from_text(text)
    if note.bom != previous.text.bom or not previous.active_sections:
        return parse_note(text, previous.path)
    old, new = previous.text.lines, note.lines
    if unchanged is None:
        prefix = _common_prefix(old, new)
        suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    else:
        prefix, suffix = unchanged, 0
    above = [a for a in previous.anchors if a < prefix]
    if not above:
        return parse_note(text, previous.path)
    start = above[-1]
    if _open_block_above(note, start):
        return parse_note(text, previous.path)
    below = [b for b in previous.anchors if b > start and b >= len(old) - suffix] if suffix else []
    with paused_gc():
        if below:
            found = _window(previous, note, start, below[0], len(new) - len(old))
            if found is not None:
                return found
        return _from(previous, note, start)


def _open_block_above(note: NoteText, start: int) -> bool:
    """The note opens with a ``---`` line not closed above *start*.

    A ``---`` or ``...`` line added below would close it into frontmatter (or a
    block read as Markdown): what the note's top means changes, so it is read whole.
    """
    if not note.lines or note.bare(0).rstrip() != "---":
        return False
    return not any(
        note.bare(index).rstrip() in {"---", "..."}
        for index in range(1, min(start, len(note.lines)))
    )


def _from(previous: ParsedNote, note: NoteText, start: int) -> ParsedNote:
    """Parse from the heading at *start* to the end; keep what was read above it."""
    blocks = _blocks(note, start, len(note.lines))
    kept = [(s.start, s.level, s.title) for s in previous.sections if s.start < start]
    headings = kept + _headings(blocks, start)
    if not any(SECTION_RE.search(title) for _, _, title in headings):
        return parse_note(note.text, previous.path)
    problems = [p for p in previous.problems if p.line - 1 < start]
    reader = Reader(previous.path, note, start, problems=problems)
    _read_sections(reader, blocks, headings)
    return dataclasses.replace(
        previous,
        text=note,
        sections=_sections(headings, len(note.lines)),
        entries=[e for e in previous.entries if e.line - 1 < start] + reader.entries,
        problems=problems,
        anchors=[a for a in previous.anchors if a < start] + _anchors(blocks, start),
    )


def _window(
    previous: ParsedNote, note: NoteText, start: int, stop: int, moved: int
) -> ParsedNote | None:
    """Parse from the heading at *start* through the unchanged heading at *stop* (old line).

    None when that heading no longer reads as a top-level heading closing the
    same sections (a fence left open above it, a new enclosing heading).
    """
    end = stop + moved  # the heading's line in the new text
    blocks = _blocks(note, start, end + 1)
    last = blocks[-1] if blocks else None
    if last is None or last.type != "heading" or last.map != [end - start, end - start + 1]:
        return None
    inner = blocks[:-1]
    old = [(s.start, s.level, s.title) for s in previous.sections]
    headings = (
        [h for h in old if h[0] < start]
        + _headings(inner, start)
        + [(line + moved, level, title) for line, level, title in old if line >= stop]
    )
    if _open_at(headings, end) != _open_at(old, stop):
        return None
    if not any(SECTION_RE.search(title) for _, _, title in headings):
        return None
    problems = [p for p in previous.problems if p.line - 1 < start]
    reader = Reader(previous.path, note, start, problems=problems)
    _read_sections(reader, inner, headings)
    after = [e for e in previous.entries if e.line - 1 >= stop]
    problems += [
        Problem(p.file, p.line + moved, p.message) for p in previous.problems if p.line - 1 >= stop
    ]
    return dataclasses.replace(
        previous,
        text=note,
        sections=_sections(headings, len(note.lines)),
        entries=[e for e in previous.entries if e.line - 1 < start]
        + reader.entries
        + [dataclasses.replace(e, line=e.line + moved, end_line=e.end_line + moved) for e in after],
        problems=problems,
        anchors=[a for a in previous.anchors if a < start]
        + _anchors(inner, start)
        + [a + moved for a in previous.anchors if a >= stop],
    )


def _blocks(note: NoteText, start: int, stop: int) -> list[Node]:
    return parse_blocks("\n".join(note.bare(i).replace("\r", " ") for i in range(start, stop)))


def _open_at(headings: list[Heading], line: int) -> list[tuple[int, str]]:
    """The headings whose sections are open just before *line*, outermost first."""
    stack: list[tuple[int, str]] = []
    for start, level, title in headings:
        if start >= line:
            break
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
    return stack


def _common_prefix(old: list[str], new: list[str]) -> int:
    size = min(len(old), len(new))
    index = 0
    while index < size and old[index] == new[index]:
        index += 1
    return index


def _common_suffix(old: list[str], new: list[str], limit: int) -> int:
    count = 0
    while count < limit and old[-1 - count] == new[-1 - count]:
        count += 1
    return count
