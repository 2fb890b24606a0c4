"""Blocks under the section: lists, tables, fences, prose, and a sub-heading per session.

A table has a row per session, its columns named in the header. Nothing that
looks like a session is skipped in silence: a prose line, a table or a fence
that starts an agent but cannot be read as an entry is a problem.
"""

from __future__ import annotations

import re
import typing as t

from memory_schema.inline import (
    AGENT_CALL_RE,
    EMPHASIS_NAME_RE,
    FENCES,
    KEYS,
    LABEL_WORDS,
    LINK_NAME_RE,
    LISTS,
    NOTE_COLUMNS,
    fence_lines,
    key_value,
    logical_lines,
    numbered_logical_lines,
    only_span,
    spans,
    strip_marks,
    unspan,
)
from memory_schema.items import build_entry, paragraph, read_list_item
from memory_schema.model import Entry, Problem
from memory_schema.shell import parse_tmux_like
from memory_schema.status import checked, lead

if t.TYPE_CHECKING:
    from memory_schema.items import Reader
    from memory_schema.markdown import Node


# ------------------------------------------------------------------- tables


def read_table(reader: Reader, node: Node, *, done: bool = False) -> None:
    """Read a table with Session and Command columns, one entry (or problem) per row.

    A Status (or State) column says the row's status; a Notes-like column only
    by its first word (``finished 11:40, PR #42 merged``); a ✅ in any cell
    but the command ends the row. A table that names one of the two columns,
    or holds agent commands, without being readable is a problem.
    """
    rows = [row for part in node.children for row in part.children if row.type == "tr"]
    if not rows:
        return
    header = [_cell(c).lower().strip().strip("*_ ") for c in rows[0].children]
    columns: dict[str, int] = {}
    notes: list[int] = []
    for index, title in enumerate(header):
        key = KEYS.get(title) or KEYS.get(title.split()[0] if title else "")
        if key and key not in columns:
            columns[key] = index
        elif title.rstrip(":") in NOTE_COLUMNS:
            notes.append(index)
    if "name" not in columns or "command" not in columns:
        _unreadable_table(reader, node, rows, columns)
        return
    for row in rows[1:]:
        cells = [_cell(c) for c in row.children]
        values = {k: (cells[i] if i < len(cells) else "") for k, i in columns.items()}
        line = reader.line_of(row)
        name_cell, mark = strip_marks(values.pop("name"))
        command = values.pop("command")
        if not name_cell.strip() and not command.strip():
            continue
        struck = name_cell.startswith("~~") or command.startswith("~~")
        name = name_cell.strip("~`* ")
        others = [cell for index, cell in enumerate(cells) if index != columns["command"]]
        result = build_entry(
            reader.path,
            line,
            line,
            name=name,
            command=command.strip("~").strip(),
            fields=values,
            parts=[cells[i] for i in notes if i < len(cells)],
            inactive=done or struck or any(checked(cell) for cell in others),
            mark=mark,
        )
        reader.keep(result)


def _unreadable_table(
    reader: Reader, node: Node, rows: list[Node], columns: dict[str, int]
) -> None:
    """A problem for a table that looks like sessions but lacks a Session or Command column."""
    cells = [_cell(c) for row in rows[1:] for c in row.children]
    commands = any(AGENT_CALL_RE.search(cell) or parse_tmux_like(cell) for cell in cells)
    if not (columns.keys() & {"name", "command"}) and not commands:
        return  # a table of something else
    missing = "Command" if "name" in columns else "Session"
    reader.problem(
        reader.line_of(node),
        f"this table lists sessions but has no {missing} column; "
        "give it a header with Session and Command columns (`| Session | Command |`)",
    )


def _cell(node: Node) -> str:
    content = node.children[0].content if node.children else ""
    whole = only_span(content)
    if whole is not None:
        return whole
    raw, contents = spans(content.strip())
    return unspan(raw, contents).strip()


# ------------------------------------------------------------------- blocks

#: "Started auth-fix in tmux: ...": a name told in prose, offered back in the advice.
_PROSE_NAME_RE = re.compile(
    r"\b(?:started|launched|kicked off|running|restarted|session)\s+`?([A-Za-z0-9_-]{2,40})`?",
    re.IGNORECASE,
)

_AGENTS = frozenset({"codex", "ralphy", "claude", "gemini", "aider", "tmux", "a", "the", "in"})


def sub_heading_done(title: str) -> bool:
    """A sub-heading that ends what is under it: ``### Done``, ``### Completed ✅``, ``~~…~~``."""
    raw, mark = strip_marks(title)
    said = mark or lead(raw)
    return (said is not None and said.ends) or checked(raw) or raw.startswith("~~")


def read_block(reader: Reader, node: Node, *, done: bool = False) -> None:
    """Read one block of the section into the reader's entries and problems."""
    if node.type in LISTS:
        for item in node.children:
            for result in read_list_item(reader, item, done=done):
                reader.keep(result)
    elif node.type == "table":
        read_table(reader, node, done=done)
    elif node.type in FENCES and node.map:
        # A fence holds a command per logical line; each tmux new-session is an entry.
        body = reader.line_of(node) + (1 if node.type == "fence" else 0)
        commands = fence_lines(node.content)
        tmux = [(number, text) for number, text in commands if parse_tmux_like(text)]
        for number, command in tmux:
            line = body + number
            result = build_entry(
                reader.path,
                line,
                line + command.count("\n"),
                name=None,
                command=command,
                inactive=done,
            )
            reader.keep(result)
        agent = next(((n, c) for n, c in commands if AGENT_CALL_RE.search(c)), None)
        if agent and not tmux:
            reader.problem(
                body + agent[0],
                "this code block starts an agent but names no session; put it under "
                "a list item that names it (`- name:` above the block) or log the full "
                '`tmux new -d -s NAME "..."` command',
            )
    elif node.type == "paragraph" and node.map and node.children:
        _read_prose(reader, node, done=done)


def _read_prose(reader: Reader, node: Node, *, done: bool) -> None:
    """Prose is prose, except a full tmux new-session line (it names its session).

    A line that starts an agent otherwise is a session logged in prose: a
    problem, with the list item that would read as an entry.
    """
    for number, text_line in numbered_logical_lines(node.children[0].content):
        command = text_line.strip().removeprefix("$ ").strip()
        whole = only_span(command)
        if whole is not None:
            command = whole
        line = reader.line_of(node) + number
        if parse_tmux_like(command):
            result = build_entry(
                reader.path,
                line,
                line + text_line.count("\n"),
                name=None,
                command=command,
                inactive=done,
            )
            reader.keep(result)
            continue
        plain = unspan(*spans(text_line))
        agent = AGENT_CALL_RE.search(plain)
        if agent is None:
            continue
        _, contents = spans(text_line)
        call = next((c for c in contents if AGENT_CALL_RE.search(c)), plain[agent.start() :])
        named = _PROSE_NAME_RE.search(plain)
        told = named.group(1) if named else ""
        name = told if told and told.lower() not in LABEL_WORDS | _AGENTS else "NAME"
        reader.problem(
            line,
            "a session seems to be logged in prose here, which is not read as an entry; "
            f"write it as a list item: `- {name}: {call.strip()}`",
        )


def read_kv_list(
    reader: Reader, node: Node, heading: int, title: str
) -> tuple[Entry | Problem, int] | None:
    """A list of ``key: value`` items under a sub-heading that names the session.

    Returns the entry (or problem) and how many leading items it took (the
    items after them, such as an entry added below later, are read one by
    one), or None when the list does not start with such items. The entry
    spans from the sub-heading (0-based line *heading*) to its last item.
    """
    fields: dict[str, str] = {}
    used = 0
    last: Node | None = None
    for item in node.children:
        if any(child.type != "paragraph" for child in item.children):
            break
        pairs = [key_value(text) for text in logical_lines(paragraph(item))]
        if not all(pairs):
            break
        for pair in pairs:
            if pair is not None:
                fields.setdefault(*pair)
        used += 1
        last = item
    if last is None or ("command" not in fields and "status" not in fields):
        return None
    raw, contents = spans(title.strip())
    raw, mark = strip_marks(raw)
    raw = LINK_NAME_RE.sub(r"\1", raw, count=1)
    raw = re.sub(r"^(?:tmux\s+)?session(?:\s+name)?\s*:?\s*", "", raw, flags=re.IGNORECASE)
    struck = raw.startswith("~~")
    raw = raw.replace("~~", "")
    emphasis = EMPHASIS_NAME_RE.match(raw)
    if raw.startswith("\x00"):
        close = raw.index("\x00", 1)
        name, rest = contents[int(raw[1:close])], raw[close + 1 :]
    elif emphasis:
        name, rest = emphasis.group(2), raw[emphasis.end() :]
    else:
        name, _, rest = raw.partition(" ")
    name = unspan(name, contents).strip("`*_ ").rstrip(":：—–-")
    if not name or name.lower() in LABEL_WORDS:
        return None
    free = unspan(rest, contents).strip(" :：—–-")
    command = fields.get("command", "")
    _, end = reader.item_range(last)
    result = build_entry(
        reader.path,
        heading + 1,
        end,
        name=name,
        command=command,
        fields=fields,
        parts=[free],
        inactive=struck,
        mark=mark,
        status_only=not command,
    )
    return result, used
