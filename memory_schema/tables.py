"""Markdown tables under the section: a row per session, columns named in the header."""

from __future__ import annotations

import typing as t

from memory_schema.entry import build_entry
from memory_schema.inline import only_span, spans, strip_marks, unspan
from memory_schema.patterns import AGENT_CALL_RE, KEYS, NOTE_COLUMNS
from memory_schema.status import checked
from memory_schema.tmuxline import parse_tmux_like

if t.TYPE_CHECKING:
    from memory_schema.entry import Reader
    from memory_schema.mdtree import Node


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
