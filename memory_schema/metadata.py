"""Frontmatter: where a note's body starts, and its metadata (read-only, never rewritten)."""

from __future__ import annotations

import typing as t

from memory_schema.model import Problem

if t.TYPE_CHECKING:
    import pathlib

    from memory_schema.text import NoteText


def frontmatter(
    note: NoteText, path: pathlib.Path, problems: list[Problem]
) -> tuple[int, dict[str, object]]:
    """Where the body starts, and the metadata (read-only, never rewritten).

    A ``---`` block whose YAML is not a mapping is no frontmatter: two thematic
    breaks around text, read as Markdown. Invalid YAML is a problem, and the
    block is read as Markdown too, so that nothing in it is lost.
    """
    if not note.lines or note.bare(0).rstrip() != "---":
        return 0, {}
    for index in range(1, len(note.lines)):
        if note.bare(index).rstrip() in {"---", "..."}:
            break
    else:
        return 0, {}
    inner = "".join(note.lines[1:index])
    try:
        from frontmatter.default_handlers import YAMLHandler

        metadata = YAMLHandler().load(inner)
    except Exception as error:
        problems.append(
            Problem(
                path,
                1,
                f"the frontmatter is not valid YAML ({type(error).__name__}); "
                "fix it or remove the --- block",
            )
        )
        return 0, {}
    if metadata is None:
        return index + 1, {}
    if not isinstance(metadata, dict):
        return 0, {}
    return index + 1, {str(key): value for key, value in metadata.items()}
