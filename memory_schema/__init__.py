"""memory_schema: read and safely edit OpenClaw daily notes (``memory/YYYY-MM-DD.md``).

A library that stands alone: it knows the notes and nothing of tmux.

Reading: ``collect`` (several days, merged; ``cache_dir=`` keeps parses),
``read_note``/``parse_note`` (one note), ``parse_tmux_new`` and ``split_shell``
(a logged command, as POSIX sh reads it). Editing: ``edit_note`` (atomic,
under a folder lock, re-applied when the assistant wrote meanwhile) with a
transform such as ``NoteEdits.apply_parsed`` (several edits from one parse)
or the single edits ``add_entry``, ``set_status``, ``append_log``,
``mark_removed``, ``remove_entry``.
"""

from __future__ import annotations

import importlib
import typing as t

#: The package version (pyproject.toml's); the parse cache keys on it.
__version__ = "0.1.0"

if t.TYPE_CHECKING:
    from memory_schema.collection import Collection, NotesFolderError, collect
    from memory_schema.edit import (
        InvalidEntry,
        NotCanonical,
        NoteEdits,
        add_entry,
        append_log,
        code_span,
        edit_note,
        mark_removed,
        new_note_text,
        remove_entry,
        render_entry,
        set_status,
    )
    from memory_schema.files import (
        atomic_write,
        daily_notes,
        loose_permissions,
        note_date,
        note_path,
        read_note,
        today,
    )
    from memory_schema.model import (
        SECTION_TITLE,
        STATUS_WORDS,
        ConcurrentEditError,
        Entry,
        EntryNotFound,
        NoteError,
        NoteReadError,
        ParsedNote,
        Problem,
        Section,
        is_valid_name,
        name_problem,
    )
    from memory_schema.parse import parse_note
    from memory_schema.shell import TmuxNew, leading_cd, parse_tmux_new, split_shell

#: Where each public name lives. A name's module is imported at its first use
#: (PEP 562): reading a note the parse cache knows does not import the parser,
#: the editors or markdown-it.
_HOMES = {
    "Collection": "collection",
    "NotesFolderError": "collection",
    "collect": "collection",
    "InvalidEntry": "edit",
    "NotCanonical": "edit",
    "NoteEdits": "edit",
    "add_entry": "edit",
    "append_log": "edit",
    "code_span": "edit",
    "edit_note": "edit",
    "mark_removed": "edit",
    "new_note_text": "edit",
    "remove_entry": "edit",
    "render_entry": "edit",
    "set_status": "edit",
    "atomic_write": "files",
    "daily_notes": "files",
    "loose_permissions": "files",
    "note_date": "files",
    "note_path": "files",
    "read_note": "files",
    "today": "files",
    "ConcurrentEditError": "model",
    "Entry": "model",
    "EntryNotFound": "model",
    "NoteError": "model",
    "NoteReadError": "model",
    "ParsedNote": "model",
    "Problem": "model",
    "SECTION_TITLE": "model",
    "STATUS_WORDS": "model",
    "Section": "model",
    "is_valid_name": "model",
    "name_problem": "model",
    "parse_note": "parse",
    "TmuxNew": "shell",
    "leading_cd": "shell",
    "parse_tmux_new": "shell",
    "split_shell": "shell",
}


def __getattr__(name: str) -> t.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "SECTION_TITLE",
    "STATUS_WORDS",
    "Collection",
    "ConcurrentEditError",
    "Entry",
    "EntryNotFound",
    "InvalidEntry",
    "NotCanonical",
    "NoteEdits",
    "NoteError",
    "NoteReadError",
    "NotesFolderError",
    "ParsedNote",
    "Problem",
    "Section",
    "TmuxNew",
    "add_entry",
    "append_log",
    "atomic_write",
    "code_span",
    "collect",
    "daily_notes",
    "edit_note",
    "is_valid_name",
    "leading_cd",
    "loose_permissions",
    "mark_removed",
    "name_problem",
    "new_note_text",
    "note_date",
    "note_path",
    "parse_note",
    "parse_tmux_new",
    "read_note",
    "remove_entry",
    "render_entry",
    "set_status",
    "split_shell",
    "today",
]
