"""CommonMark block structure with exact line ranges, from markdown-it-py, cheaply.

markdown-it-py is imported on first use only (a cached parse never needs it).
Its tokens become a small tree of slotted nodes instead of ``SyntaxTreeNode``
(whose generic build was a seventh of a long note's parse), and the garbage
collector is paused while the tokens live: they are freed by reference
counting, and a long note no longer pays for full collections mid-parse.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from markdown_it import MarkdownIt


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
    from markdown_it import MarkdownIt

    # Block structure only: entries are read from the raw inline text, so the
    # inline parse (a third of the time on long notes) is not run.
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("inline")


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a parse (re-entrant; restores what it found).

    A parse makes many short-lived objects that reference counting frees;
    without the pause, a 20,000-line note spent half its parse in collections.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_blocks(text: str) -> list[Node]:
    """The top-level blocks of *text*, each with its nested blocks and inline content."""
    with paused_gc():
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
