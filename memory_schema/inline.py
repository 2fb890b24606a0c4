"""Text inside a block: code spans, logical lines, leading marks, ``key: value`` pairs."""

from __future__ import annotations

import re
import unicodedata

from memory_schema.patterns import CODE_SPAN_RE, KEY_VALUE_RE, KEYS
from memory_schema.status import Said, mark_said
from memory_schema.tmuxline import parse_tmux_like

_PLACEHOLDER_RE = re.compile(r"\x00(\d+)\x00")


def code_span_content(raw: str) -> str:
    """CommonMark code span content: newlines to spaces, one padding space stripped."""
    text = raw.replace("\r\n", " ").replace("\n", " ")
    if len(text) >= 2 and text[0] == " " and text[-1] == " " and text.strip(" "):
        text = text[1:-1]
    return text


def spans(text: str) -> tuple[str, list[str]]:
    """Replace code spans by ``\\x00N\\x00`` placeholders; return text and contents."""
    contents: list[str] = []

    def keep(match: re.Match[str]) -> str:
        contents.append(code_span_content(match.group(2)))
        return f"\x00{len(contents) - 1}\x00"

    return CODE_SPAN_RE.sub(keep, text), contents


def unspan(text: str, contents: list[str]) -> str:
    """Put the code spans' contents back in place of their placeholders."""
    return _PLACEHOLDER_RE.sub(lambda m: contents[int(m.group(1))], text)


def only_span(text: str) -> str | None:
    """The content when *text* is one code span and nothing else (blanks aside)."""
    raw, contents = spans(text.strip())
    if raw.startswith("\x00") and raw.endswith("\x00") and raw.count("\x00") == 2 and contents:
        return contents[0]
    return None


def logical_lines(text: str) -> list[str]:
    """Split on line breaks, keeping backslash-continued lines together."""
    return re.split(r"(?<!\\)\r?\n", text)


def numbered_logical_lines(text: str) -> list[tuple[int, str]]:
    """Logical lines with the 0-based number of the physical line each starts on."""
    numbered = []
    number = 0
    for logical in logical_lines(text):
        numbered.append((number, logical))
        number += logical.count("\n") + 1
    return numbered


def strip_marks(raw: str) -> tuple[str, Said | None]:
    """Drop leading symbols (✅, 🟢, ⏸️, bullets), and say what their status marks say.

    A mark that ends the entry (✅, ❌) wins over one that keeps it watched;
    otherwise the first mark counts. None when no leading symbol is a status mark.
    """
    said: Said | None = None
    index = 0
    while index < len(raw):
        char = raw[index]
        if char.isspace() or unicodedata.category(char) in {"So", "Sk", "Mn", "Cf"} or char in "•·":
            mark = mark_said(char)
            if mark is not None and (said is None or (mark.ends and not said.ends)):
                said = mark
            index += 1
        else:
            break
    return raw[index:], said


def fence_lines(content: str) -> list[tuple[int, str]]:
    """The commands of a fence: logical lines without blanks, comments and ``$ `` prompts."""
    found = []
    for number, logical in numbered_logical_lines(content):
        text = logical.strip()
        if text.startswith("$ "):
            text = text[2:].strip()
        if text and not text.startswith("#"):
            found.append((number, text))
    return found


def fence_command(content: str) -> str:
    """The command held by a fence under an item.

    A tmux new-session line wins (other lines are often the monitoring
    commands); otherwise the lines run one after the other, each only when the
    one before succeeded (``cd DIR`` then the agent).
    """
    lines = [text for _, text in fence_lines(content)]
    for text in lines:
        if parse_tmux_like(text):
            return text
    return " && ".join(lines)


def key_value(text: str) -> tuple[str, str] | None:
    """``command: `x` `` → ("command", "x") for the keys this reader knows."""
    match = KEY_VALUE_RE.match(text)
    if not match:
        return None
    written = re.sub(r"\s+", " ", match.group(1).strip().lower())
    key = KEYS.get(written)
    if key is None:
        return None
    if written == "tmux" and not parse_tmux_like(unspan(*spans(match.group(2)))):
        return None  # "- tmux: `tmux attach -t api`": a hint, not the command
    raw, contents = spans(match.group(2).strip())
    if raw.startswith("\x00") and contents:
        value = contents[int(raw.split("\x00")[1])]
    else:
        value = unspan(raw, contents).strip().strip("*_").strip()
        if key == "dir" and value[:1] in {"~", "/", "."}:
            value = value.split()[0] if value.split() else value
    return key, value
