"""What in an item's text is its command, and what is free text around it."""

from __future__ import annotations

import re

from memory_schema import shell
from memory_schema.inline import unspan
from memory_schema.patterns import (
    AUX_BEFORE_RE,
    BARE_PATH_RE,
    DIR_BEFORE_RE,
    DIR_PLAIN_RE,
    STARTED_RE,
)
from memory_schema.status import MARK_CHARS, MENTION_RE, STATUS_LEAD_RE
from memory_schema.tmuxline import parse_tmux_like


def pick_command(
    command: str, free: list[str], spanned: bool, fields: dict[str, str], fenced: str
) -> tuple[str, list[str]]:
    """Choose the command among the item's sources; return it and the free parts.

    An explicit ``command:`` wins, then a tmux new-session line (it names its
    session), then a code span in the item's first line, then a fence under
    it; plain text in the first line is the command only when nothing else
    is. Plain text that loses is a description: it is kept for its start time
    and folder, and for a status only when it starts with one (a task such as
    "remove the completed orders" does not end the entry).
    """
    explicit = fields.get("command", "")
    candidates = [
        explicit,
        next((c for c in (command, fenced) if c and parse_tmux_like(c)), ""),
        command if spanned else "",
        fenced,
        command,
    ]
    chosen = next((c for c in candidates if c), "")
    if command and not spanned and chosen != command:
        # The first line's text was a description, not the command.
        kept = [m.group(0) for m in (STARTED_RE.search(command), DIR_PLAIN_RE.search(command)) if m]
        if STATUS_LEAD_RE.match(command):
            kept.insert(0, command)
        free = [*kept, *free]
    return chosen, free


def command_from(
    rest: str, contents: list[str], name: str | None
) -> tuple[str, list[str], str | None, bool]:
    """Split what follows the name into (command, free parts, folder, from a code span).

    The command is the first code span that is not the name, not a folder
    (``in `~/x` ``) and not a log or hint; without code spans it is the text up
    to a status tail (`` — done``, ``(started 14:05)``, ✅). Text that starts
    with a status word is a status mention, never a command. The free parts
    are the text before the command and the text after it.
    """
    occurrences = list(re.finditer(r"\x00(\d+)\x00", rest))
    usable = []
    span_dir: str | None = None
    for match in occurrences:
        content = contents[int(match.group(1))]
        # The words right before the span say what it is; a short window keeps
        # a line of thousands of spans linear.
        before = rest[max(0, match.start() - 40) : match.start()]
        if name is not None and content.strip("*_ ") == name:
            continue
        if DIR_BEFORE_RE.search(before):
            span_dir = span_dir or content
            continue
        if AUX_BEFORE_RE.search(before) or not content.strip():
            continue
        usable.append(match)
    if usable:
        chosen = usable[0]
        if len(usable) > 1 and BARE_PATH_RE.match(contents[int(chosen.group(1))]):
            span_dir = span_dir or contents[int(chosen.group(1))]
            chosen = usable[1]
        before_text = unspan(rest[: chosen.start()], contents).strip()
        after_text = unspan(rest[chosen.end() :], contents).strip()
        return contents[int(chosen.group(1))], [before_text, after_text], span_dir, True
    text = unspan(rest, contents).strip()
    if not text:
        return "", [], span_dir, False
    if name is not None and STATUS_LEAD_RE.match(text):
        return "", [text], span_dir, False
    if name is None and not parse_tmux_like(text):
        return "", [text], span_dir, False
    if occurrences and name is not None:
        # Only the name, a folder or hints in code spans: no command here.
        return "", [text], span_dir, False
    command, tail = _split_status_tail(text)
    return command, [tail], span_dir, False


_TAIL_CUT_RE = re.compile(rf"\s+[—–]\s+|\s+[—–]$|\s*(?=[{MARK_CHARS}])")


def _split_status_tail(text: str) -> tuple[str, str]:
    """``codex exec x — done (started 14:05)`` → (``codex exec x``, ``done (started 14:05)``).

    Splits at an em or en dash, a status mark (✅, ⏸️, 🔴 …), or a final parenthesis
    about the status, but only where the command before it has balanced quotes.
    """
    for cut in _TAIL_CUT_RE.finditer(text):
        head = text[: cut.start()].rstrip()
        if head and shell.balanced(head):
            return head, text[cut.start() :].strip(" —–")
    tail = re.search(r"\s*\(([^()]*)\)\s*$", text)
    if tail and (STARTED_RE.search(tail.group(1)) or MENTION_RE.search(tail.group(1))):
        head = text[: tail.start()].rstrip()
        if shell.balanced(head):
            return head, tail.group(1)
    return text, ""
