"""A note's Markdown structure: its frontmatter, and its blocks with exact line ranges.

Blocks come from markdown-it-py's CommonMark tokens: only a parse imports this
module (``memory_schema.parse``), a cached parse never does. The tokens become
a small tree of slotted nodes instead of ``SyntaxTreeNode``, whose generic
build was a seventh of a long note's parse. The frontmatter is read, never rewritten.
"""

from __future__ import annotations

import functools
import typing as t

from markdown_it import MarkdownIt

from memory_schema.model import Problem

if t.TYPE_CHECKING:
    import pathlib

    from memory_schema.model import NoteText


# ------------------------------------------------------------------- blocks


class Node:
    """A block: its token type without ``_open``, tag, 0-based [start, end) lines, content."""

    __slots__ = ("children", "content", "map", "tag", "type")

    def __init__(self, type_: str, tag: str, map_: list[int] | None, content: str) -> None:
        self.type = type_
        self.tag = tag
        self.map = map_
        self.content = content
        self.children: list[Node] = []

    def __repr__(self) -> str:
        return f"Node({self.type!r}, {self.map!r})"


@functools.cache
def _markdown() -> MarkdownIt:
    # Block structure only: entries are read from the raw inline text, so the
    # inline parse (a third of the time on long notes) is not run.
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("inline")


def parse_blocks(text: str) -> list[Node]:
    """The top-level blocks of *text*, each with its nested blocks and inline content."""
    root = Node("root", "", None, "")
    stack = [root]
    for token in _markdown().parse(text):
        if token.nesting == 1:
            node = Node(token.type[:-5], token.tag, token.map, "")
            stack[-1].children.append(node)
            stack.append(node)
        elif token.nesting == -1:
            stack.pop()
        else:
            stack[-1].children.append(Node(token.type, token.tag, token.map, token.content))
    return root.children


# -------------------------------------------------------------- frontmatter


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
        # off the parse path: only a note with frontmatter needs YAML (25 ms to import)
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
