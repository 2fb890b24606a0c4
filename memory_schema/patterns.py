"""The patterns the note reader recognises: headings, names, separators, fields.

Status words have their own module (``memory_schema.status``): where they may
stand matters as much as what they say.
"""

from __future__ import annotations

import re

from memory_schema.model import DASH, STATUS_WORDS

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
