"""Text inside a block: the patterns the reader recognises, code spans, fields.

The patterns (headings, names, separators, fields) come first; then code
spans, logical lines, leading marks and ``key: value`` pairs. Status words
have their own module (``memory_schema.status``): where they may stand
matters as much as what they say.
"""

from __future__ import annotations

import re
import unicodedata

from memory_schema.model import DASH, STATUS_WORDS
from memory_schema.shell import parse_tmux_like
from memory_schema.status import Said, mark_said

# ----------------------------------------------------------------- patterns

#: A paragraph line that is only the section title (bold or plain): a heading in all but syntax.
PSEUDO_HEADING_RE = re.compile(
    rf"^\W*(?:\*\*|__)?\s*active{DASH}long{DASH}running{DASH}processes\s*:?\s*(?:\*\*|__)?\s*:?\s*$",
    re.IGNORECASE,
)
CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
NONE_RE = re.compile(
    r"^\s*[(_*]*\s*(none|nothing|n/?a|no\s+(active\s+)?(sessions?|processes))(?![A-Za-z0-9])",
    re.IGNORECASE,
)
CHECKBOX_RE = re.compile(r"^\[( |x|X)\]\s+")
#: What separates a name from its command; "：" is the full-width colon of CJK text.
SEPARATOR_RE = re.compile(r"^\s*(?::|：|—|–|->|=>|→|-{1,2}(?=\s))\s*")
PLAIN_NAME_RE = re.compile(
    r"^((?:[^\s:：`*~()（）]|:(?!\s|$)){1,80}?)(?:\s*[(（]([^()（）\x00]*)[)）])?"
    r"\s*(?::(?=\s|$)|：|[—–→](?=\s|$)|->|=>|(?<=\s)-{1,2}(?=\s))\s*"
)
#: "Session `x`", "tmux session **x**": words before the name, dropped.
NAME_PREFIX_RE = re.compile(
    r"^(?:\*\*|__)?(?:tmux\s+)?session(?:\s+name)?\s*:?\s*(?:\*\*|__)?\s*:?\s*(?=\x00|\*\*|__)",
    re.IGNORECASE,
)
#: A time written before the entry: "14:32 — api: ...", "[14:32 UTC] api: ...".
LEADING_TIME_RE = re.compile(
    r"^\[?(\d{1,2}:\d{2}(?::\d{2})?(?:\s*[A-Z]{2,4})?)\]?\s*(?:[—–|:-]\s*)?(?=\S)"
)
#: A Markdown link as the name: "[api](https://github.com/...) — ...".
LINK_NAME_RE = re.compile(r"^\[([^\]]+)\]\([^)]*\)")
#: A plain name right before a parenthesised code span: "api (`codex exec x`)".
PLAIN_NAME_PAREN_RE = re.compile(r"^([^\s:：`*~()（）]{1,80})\s*(?=[(（]\s*\x00)")
EMPHASIS_NAME_RE = re.compile(r"^(\*\*|__|\*|_)(?!\s)(.+?)(?<!\s)\1(?![*_])")
PAREN_RE = re.compile(r"^\s*[(（]([^()（）\x00]*)[)）]")
CANONICAL_HEAD_RE = re.compile(
    r"^`(?P<name>[A-Za-z0-9_-]+)` — (?P<status>"
    + "|".join(STATUS_WORDS)
    + r")(?P<fields>(?: · [^·]+)*)$"
)
KEY_VALUE_RE = re.compile(
    r"^\s*(?:\*\*|__)?([A-Za-z][A-Za-z _-]{0,20}?)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.*)$",
    re.S,
)
STARTED_RE = re.compile(
    r"\bstarted(?::|\s+at|\s+on)?\s+"
    r"(\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[A-Z]{2,4})?"
    r"|\d{1,2}:\d{2}(?:\s*[A-Z]{2,4})?)",
    re.IGNORECASE,
)
DIR_PLAIN_RE = re.compile(
    r"\b(?:dir|cwd|folder|in)\s*:?\s+([~/][^\s,;)]*|\.{1,2}/[^\s,;)]*)", re.IGNORECASE
)
#: Words before a code span that make it the session's folder, not its command.
DIR_BEFORE_RE = re.compile(
    r"\b(?:in|dir|cwd|folder|directory|path|repo|workdir|under)\s*:?\s*$", re.IGNORECASE
)
#: Words before a code span that make it something else than the command (a log, a hint).
AUX_BEFORE_RE = re.compile(
    r"\b(?:log|logs|monitor|attach|branch|prd|file|output|see|check|watch|started)\s*:?\s*$",
    re.IGNORECASE,
)
BARE_PATH_RE = re.compile(r"^(?:~|\.{1,2})?/\S*$|^~$")

KEYS = {
    "command": "command",
    "cmd": "command",
    "tmux": "command",
    "dir": "dir",
    "directory": "dir",
    "cwd": "dir",
    "workdir": "dir",
    "working dir": "dir",
    "working directory": "dir",
    "folder": "dir",
    "path": "dir",
    "project": "dir",
    "repo": "dir",
    "started": "started",
    "started at": "started",
    "start": "started",
    "start time": "started",
    "since": "started",
    "status": "status",
    "state": "status",
    "session": "name",
    "session name": "name",
    "tmux session": "name",
    "name": "name",
    "until": "until",
}
#: Labels that open a remark, not a session: "- **Note:** the api is flaky".
LABEL_WORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as words
        "note notes nb fyi ps todo next update updated reminder warning context plan goal "
        "issue issues tip info why cause fix result results summary outcome progress eta pr "
        "branch log logs monitor output watch attach check"
    ).split()
)
FENCES = frozenset({"fence", "code_block"})
LISTS = frozenset({"bullet_list", "ordered_list"})
#: Table columns whose cell is free text that may start with a status ("finished 11:40, ...").
NOTE_COLUMNS = frozenset(
    (  # noqa: SIM905 - a word list reads better as words
        "note notes comment comments remark remarks result results outcome progress "
        "details info update updates summary"
    ).split()
)
#: An agent started by a command: what makes a line look like a session.
AGENT_CALL_RE = re.compile(
    r"(?<![\w/.-])(?:codex\s+(?:exec|e|resume)\b|codex\s+-{1,2}\w|ralphy(?:\s+-{1,2}\w|\s*$)"
    r"|claude\s+(?:-p|--print)\b|gemini(?:-cli)?\s+(?:-p|--prompt|-y|--yolo)\b|aider\s+-)",
    re.IGNORECASE | re.MULTILINE,
)

#: A list item that reads as a session: a name, a separator, then an agent's command.
SESSION_ITEM_RE = re.compile(
    r"^\W{0,4}(?:\*\*|__|`)?[A-Za-z0-9_.-]{1,80}(?:\*\*|__|`)?\s*(?:[:：—–→]|->|\s-)\s*`?"
    r"(?:cd\s+\S+\s*&&\s*)?(?:[A-Z_]+=\S+\s+)*(?:codex|ralphy|claude|gemini)\b",
    re.IGNORECASE,
)


# ----------------------------------------- code spans, lines, marks, fields

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
