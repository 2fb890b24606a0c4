"""Reading notes: frontmatter, sections and entries, leniently, with line numbers.

Markdown structure comes from markdown-it-py's CommonMark tokens and their
line maps, so a ``#`` line inside a fenced block is never a heading and a
list item's extent is exactly what a Markdown renderer would show.

Reading is lenient but never guesses: what looks like an entry and cannot be
read becomes a Problem with its line, and what reads as a status ("done",
"killed", a struck-through name) is never taken for a command. A note that
starts sessions but has no Active Long-Running Processes heading is a problem
too, not a note without sessions.

``reparse`` reads a changed note again only where it changed. A top-level
ATX heading closes every block before it, so a parse may start at one: what
was read above it stands. And when the lines below a change are the same, and
the first heading below it still reads as a top-level heading that closes the
same sections, what was read below stands too, moved by the number of lines
added. ``reparse`` uses both and equals a full parse (property-tested against
``parse_note``).
"""

from __future__ import annotations

import bisect
import dataclasses
import typing as t

from memory_schema.blocks import read_block, read_kv_list, sub_heading_done
from memory_schema.inline import (
    AGENT_CALL_RE,
    FENCES,
    LISTS,
    PSEUDO_HEADING_RE,
    SESSION_ITEM_RE,
    code_span_content,
    fence_lines,
    logical_lines,
    numbered_logical_lines,
    only_span,
    spans,
)
from memory_schema.items import Reader, paragraph, read_list_item
from memory_schema.markdown import Node, frontmatter, parse_blocks
from memory_schema.model import LOG_TITLE, SECTION_RE, NoteText, ParsedNote, Problem, Section
from memory_schema.shell import (
    TmuxNew,
    join_continuations,
    parse_tmux_like,
    parse_tmux_new,
    split_shell,
)

if t.TYPE_CHECKING:
    import pathlib


# ------------------------------------------------------------- a whole note

#: Kept for callers of the names this module used to define.
normalize_command = join_continuations
__all__ = [
    "SECTION_RE",
    "ParsedNote",
    "TmuxNew",
    "code_span_content",
    "normalize_command",
    "parse_note",
    "parse_tmux_like",
    "parse_tmux_new",
    "split_shell",
]

#: A heading: (0-based line, level, title). Level 7 is a paragraph line that
#: is only the section's title, a heading below every level.
Heading = tuple[int, int, str]


def parse_note(text: str, path: pathlib.Path) -> ParsedNote:
    """Parse a note's text (already decoded) into sections, entries and problems."""
    note = NoteText.from_text(text)
    problems: list[Problem] = []
    body_start, metadata = frontmatter(note, path, problems)
    lines = [note.bare(i).replace("\r", " ") for i in range(body_start, len(note.lines))]
    blocks = parse_blocks("\n".join(lines))
    headings = _headings(blocks, body_start)
    sections = _sections(headings, len(note.lines))
    reader = Reader(path, note, body_start, problems=problems)
    if any(SECTION_RE.search(section.title) for section in sections):
        _read_sections(reader, blocks, headings)
    else:
        _sessions_without_heading(reader, text, blocks, headings)
    anchors = _anchors(blocks, body_start)
    return ParsedNote(path, note, sections, reader.entries, problems, body_start, anchors, metadata)


def _anchors(blocks: list[Node], offset: int) -> list[int]:
    """The lines of top-level ATX headings (one line each; a setext heading has two)."""
    return [
        node.map[0] + offset
        for node in blocks
        if node.type == "heading" and node.map and node.map[1] - node.map[0] == 1
    ]


def _headings(blocks: list[Node], offset: int) -> list[Heading]:
    headings: list[Heading] = []
    for node in blocks:
        if not node.map:
            continue
        if node.type == "heading":
            title = node.children[0].content if node.children else ""
            headings.append((node.map[0] + offset, int(node.tag[1]), title))
        elif node.type == "paragraph" and node.children:
            for number, text_line in enumerate(node.children[0].content.split("\n")):
                if PSEUDO_HEADING_RE.match(text_line):
                    headings.append((node.map[0] + offset + number, 7, text_line.strip()))
    headings.sort()
    return headings


def _sections(headings: list[Heading], total: int) -> list[Section]:
    """Each section runs to the next heading of the same or a higher level.

    One sweep with a stack of open headings: linear, whatever the number of sections.
    """
    ends = [total] * len(headings)
    open_headings: list[int] = []
    for position, (start, level, _title) in enumerate(headings):
        while open_headings and headings[open_headings[-1]][1] >= level:
            ends[open_headings.pop()] = start
        open_headings.append(position)
    return [
        Section(title=title, level=level, start=start, end=ends[position])
        for position, (start, level, title) in enumerate(headings)
    ]


def _read_sections(reader: Reader, blocks: list[Node], headings: list[Heading]) -> None:
    """Read every block inside an Active section, in order.

    Blocks and headings are swept together: the stack holds the sections open
    at a line, so the enclosing Active section and the nearest heading above a
    block are found without scanning every heading (linear in the note).
    """
    is_active = [bool(SECTION_RE.search(title)) for _, _, title in headings]
    stack: list[int] = []
    next_heading = 0
    for node in blocks:
        if not node.map or node.type == "heading":
            continue
        first = node.map[0] + reader.offset
        while next_heading < len(headings) and headings[next_heading][0] < first:
            level = headings[next_heading][1]
            while stack and headings[stack[-1]][1] >= level:
                stack.pop()
            stack.append(next_heading)
            next_heading += 1
        enclosing = next((i for i in reversed(stack) if is_active[i]), None)
        if enclosing is None:
            continue
        # The nearest heading above the block, when it is a sub-heading of the section.
        nearest = next_heading - 1
        sub = headings[nearest] if nearest > enclosing else None
        sub_title = sub[2] if sub else ""
        if sub_title.strip() == LOG_TITLE:
            continue  # the log section (LOG_TITLE), nested in a level-1 section
        done = bool(sub_title) and sub_heading_done(sub_title)
        if sub is not None and node.type in LISTS:
            # "### api" over "- command: ..." / "- dir: ...": one entry per sub-heading.
            found = read_kv_list(reader, node, sub[0], sub_title)
            if found is not None:
                result, used = found
                reader.keep(result)
                for item in node.children[used:]:  # e.g. an entry added below later
                    for other in read_list_item(reader, item, done=done):
                        reader.keep(other)
                continue
        read_block(reader, node, done=done)


def _sessions_without_heading(
    reader: Reader, text: str, blocks: list[Node], headings: list[Heading]
) -> None:
    """A problem when a note with no Active section starts sessions all the same.

    Looks for ``tmux ... new`` lines (in fences, code spans or prose) and list
    items that read as ``name: agent command``; reports the first, naming the
    heading above it, which may be the section's title in another language.
    """
    if "tmux" not in text and not AGENT_CALL_RE.search(text):
        return
    line = _first_session_line(reader, blocks)
    if line is None:
        return
    above = bisect.bisect_left(headings, (line - 1, -1, "")) - 1
    hint = ""
    if above >= 0:
        start, level, title = headings[above]
        hashes = "#" * min(level, 6)
        hint = (
            f" (the heading above it, `{hashes} {title.strip()}` on line {start + 1}, is not "
            "that heading: rename it if it lists the running sessions)"
        )
    reader.problem(
        line,
        "this note starts sessions but has no `Active Long-Running Processes` heading, "
        "so none of them is read; list the running sessions under a heading "
        f"`## Active Long-Running Processes` (in English, at any level){hint}",
    )


def _first_session_line(reader: Reader, blocks: list[Node]) -> int | None:
    """The 1-based line of the first thing that looks like a session, anywhere."""
    pending = list(reversed(blocks))
    while pending:
        node = pending.pop()
        if not node.map:
            continue
        if node.type in FENCES:
            body = reader.line_of(node) + (1 if node.type == "fence" else 0)
            for number, command in fence_lines(node.content):
                if parse_tmux_like(command):
                    return body + number
        elif node.type == "paragraph" and node.children:
            for number, text_line in numbered_logical_lines(node.children[0].content):
                command = text_line.strip().removeprefix("$ ")
                if parse_tmux_like(only_span(command) or command):
                    return reader.line_of(node) + number
        elif node.type == "list_item":
            first = logical_lines(paragraph(node))[0]
            if SESSION_ITEM_RE.search(first) or ("tmux" in first and _has_tmux_new(first)):
                return reader.line_of(node)
        pending.extend(reversed(node.children))
    return None


def _has_tmux_new(text: str) -> bool:
    _, contents = spans(text)
    return any(parse_tmux_like(content) for content in contents) or parse_tmux_like(
        text.lstrip("-*+ ")
    )


# -------------------------------------------------- again, where it changed


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
