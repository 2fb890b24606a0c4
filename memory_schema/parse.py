"""Reading notes: frontmatter, sections and entries, leniently, with line numbers.

Markdown structure comes from markdown-it-py's CommonMark tokens and their
line maps, so a ``#`` line inside a fenced block is never a heading and a
list item's extent is exactly what a Markdown renderer would show.

Reading is lenient but never guesses: what looks like an entry and cannot be
read becomes a Problem with its line, and what reads as a status ("done",
"killed", a struck-through name) is never taken for a command.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shlex
import typing as t
import unicodedata

from memory_schema.model import (
    INACTIVE_STATUSES,
    LOG_TITLE,
    STATUS_WORDS,
    Entry,
    Problem,
    Section,
    is_valid_name,
)
from memory_schema.text import NoteText

if t.TYPE_CHECKING:
    import pathlib

    from markdown_it import MarkdownIt
    from markdown_it.tree import SyntaxTreeNode

_DASH = r"[\s_\-‐‑‒–—]*"
SECTION_RE = re.compile(rf"active{_DASH}long{_DASH}running{_DASH}processes", re.IGNORECASE)
#: A paragraph line that is only the section title (bold or plain): a heading in all but syntax.
PSEUDO_HEADING_RE = re.compile(
    rf"^\W*(?:\*\*|__)?\s*active{_DASH}long{_DASH}running{_DASH}processes\s*:?\s*(?:\*\*|__)?\s*:?\s*$",
    re.IGNORECASE,
)
CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
#: Words (and marks) that end an entry: it is no longer watched.
DONE_WORDS = r"done|finished|completed?|killed|removed|stopped|cancell?ed|aborted"
DONE_MARKS = "✅✔☑✓"
DONE_RE = re.compile(
    rf"(?<!\bnot )(?<!n't )\b(?:{DONE_WORDS})\b|[{DONE_MARKS}]",
    re.IGNORECASE,
)
STATUS_RE = re.compile(r"(?<!\bnot )(?<!n't )\b(" + "|".join(STATUS_WORDS) + r")\b", re.IGNORECASE)
#: Text that starts with a status, not a command: "done", "(killed)", "✅", "— failed at 3".
STATUS_LEAD_RE = re.compile(
    rf"^[\s().,;:!·—–\-→>*_~\[\]]*(?:[{DONE_MARKS}❌]|\b(?:{DONE_WORDS}|"
    + "|".join(STATUS_WORDS)
    + r")\b)",
    re.IGNORECASE,
)
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
CD_RE = re.compile(r"^\s*cd\s+(\"[^\"]+\"|'[^']+'|[^\s;&|]+)\s*&&")
TMUX_NEW_RE = re.compile(r"^\s*(?:\S*/)?tmux\s(?:.*\s)?new(?:-session)?(?:\s|$)", re.S)

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


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Block structure only: entries are read from the raw inline text, so the
    # inline parse (a third of the time on long notes) is not run.
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("inline")


@dataclasses.dataclass
class ParsedNote:
    """A note read into lines, sections, entries and problems."""

    path: pathlib.Path
    text: NoteText
    sections: list[Section]
    entries: list[Entry]
    problems: list[Problem]
    metadata: dict[str, object]
    body_start: int

    @property
    def active_sections(self) -> list[Section]:
        return [s for s in self.sections if SECTION_RE.search(s.title)]

    @property
    def log_sections(self) -> list[Section]:
        return [s for s in self.sections if s.level == 2 and s.title.strip() == LOG_TITLE]

    def entries_named(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.name == name]


@dataclasses.dataclass(frozen=True)
class TmuxNew:
    """The parts of a logged ``tmux ... new-session ...`` command line."""

    name: str
    shell_command: str
    start_dir: str | None
    environment: tuple[str, ...]


# --------------------------------------------------------------------------- text helpers


def normalize_command(command: str) -> str:
    """Join backslash-newline continuations and trim, as the shell would read it."""
    return re.sub(r"\\\r?\n[ \t]*", "", command).strip()


def code_span_content(raw: str) -> str:
    """CommonMark code span content: newlines to spaces, one padding space stripped."""
    text = raw.replace("\r\n", " ").replace("\n", " ")
    if len(text) >= 2 and text[0] == " " and text[-1] == " " and text.strip(" "):
        text = text[1:-1]
    return text


def _spans(text: str) -> tuple[str, list[str]]:
    """Replace code spans by ``\\x00N\\x00`` placeholders; return text and contents."""
    contents: list[str] = []

    def keep(match: re.Match[str]) -> str:
        contents.append(code_span_content(match.group(2)))
        return f"\x00{len(contents) - 1}\x00"

    return CODE_SPAN_RE.sub(keep, text), contents


def _unspan(text: str, contents: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: contents[int(m.group(1))], text)


def _logical_lines(text: str) -> list[str]:
    """Split on line breaks, keeping backslash-continued lines together."""
    return re.split(r"(?<!\\)\r?\n", text)


def _strip_marks(raw: str) -> tuple[str, bool]:
    """Drop leading symbols (✅, 🟢, ⏸️, bullets); True when one of them means done."""
    done = False
    index = 0
    while index < len(raw):
        char = raw[index]
        if char.isspace() or unicodedata.category(char) in {"So", "Sk", "Mn", "Cf"} or char in "•·":
            done = done or char in DONE_MARKS
            index += 1
        else:
            break
    return raw[index:], done


_PLAIN_RUN = re.compile(r"[^ \t\r\n'\"\\]+")
_QUOTED_RUN = re.compile(r'[^"\\]+')


def split_shell(command: str) -> list[str]:
    """Split *command* into words as ``shlex.split`` does, in linear time.

    shlex builds each word one character at a time, which is quadratic: a
    4 MB command in a note took minutes. Raises ValueError with shlex's
    messages ("No closing quotation", "No escaped character").
    """
    words: list[str] = []
    word: list[str] = []
    in_word = False
    index, size = 0, len(command)
    while index < size:
        char = command[index]
        if char in " \t\r\n":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            index += 1
            continue
        in_word = True
        if char == "'":
            end = command.find("'", index + 1)
            if end < 0:
                raise ValueError("No closing quotation")
            word.append(command[index + 1 : end])
            index = end + 1
        elif char == '"':
            index += 1
            while True:
                if index >= size:
                    raise ValueError("No closing quotation")
                char = command[index]
                if char == '"':
                    index += 1
                    break
                if char == "\\":
                    if index + 1 >= size:
                        raise ValueError("No escaped character")
                    following = command[index + 1]
                    # Inside double quotes only the quote and the backslash are escaped.
                    word.append(following if following in '"\\' else char + following)
                    index += 2
                    continue
                run = _QUOTED_RUN.match(command, index)
                assert run is not None
                word.append(run.group())
                index = run.end()
        elif char == "\\":
            if index + 1 >= size:
                raise ValueError("No escaped character")
            word.append(command[index + 1])
            index += 2
        else:
            run = _PLAIN_RUN.match(command, index)
            assert run is not None
            word.append(run.group())
            index = run.end()
    if in_word:
        words.append("".join(word))
    return words


def parse_tmux_like(text: str) -> bool:
    """True when *text* starts as a ``tmux ... new[-session]`` command line."""
    return bool(TMUX_NEW_RE.match(text))


def parse_tmux_new(command: str) -> TmuxNew | None:
    """Parse a ``tmux [-S sock] new[-session] ... -s NAME CMD`` line.

    Returns None when *command* is not a tmux new-session command. Raises
    ValueError when it is one but cannot be read (unbalanced quotes, no -s).
    """
    argv = split_shell(normalize_command(command))
    if not argv or argv[0].rsplit("/", 1)[-1] != "tmux":
        return None
    index = 1
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in {"-S", "-L", "-f", "-T"} else 1
    if index >= len(argv) or argv[index] not in {"new", "new-session"}:
        return None
    takes_value = set("sScnxyeFtf")
    name: str | None = None
    start_dir: str | None = None
    env: list[str] = []
    index += 1
    rest: list[str] = []
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest = argv[index + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            rest = argv[index:]
            break
        index += 1
        # Flags may be grouped (`-ds NAME`): the first that takes a value ends the group.
        for position, letter in enumerate(arg[1:], start=1):
            if letter not in takes_value:
                continue
            value = arg[position + 1 :]
            if not value:
                value = argv[index] if index < len(argv) else ""
                index += 1
            if letter == "s":
                name = value
            elif letter == "c":
                start_dir = value
            elif letter == "e":
                env.append(value)
            break
    if not name:
        raise ValueError("the tmux command has no `-s NAME`: add the session name")
    shell_command = rest[0] if len(rest) == 1 else shlex.join(rest)
    if start_dir is None:
        match = CD_RE.match(shell_command)
        if match:
            start_dir = match.group(1).strip("\"'")
    return TmuxNew(name, shell_command, start_dir, tuple(env))


# --------------------------------------------------------------------------- notes


def parse_note(text: str, path: pathlib.Path) -> ParsedNote:
    """Parse a note's text (already decoded) into sections, entries and problems."""
    note = NoteText.from_text(text)
    problems: list[Problem] = []
    body_start, metadata = _frontmatter(note, path, problems)
    lines = [note.bare(i).replace("\r", " ") for i in range(body_start, len(note.lines))]
    from markdown_it.tree import SyntaxTreeNode

    tree = SyntaxTreeNode(_markdown().parse("\n".join(lines)))
    # (line, level, title); a paragraph line that is only the section's title is a
    # heading below every level, so that it runs to the next heading of any level.
    headings: list[tuple[int, int, str]] = []
    for node in tree.children:
        if not node.map:
            continue
        if node.type == "heading":
            level = int(node.tag[1])
            title = node.children[0].content if node.children else ""
            headings.append((node.map[0] + body_start, level, title))
        elif node.type == "paragraph" and node.children:
            for number, text_line in enumerate(node.children[0].content.split("\n")):
                if PSEUDO_HEADING_RE.match(text_line):
                    headings.append((node.map[0] + body_start + number, 7, text_line.strip()))
    headings.sort()
    # Each section runs to the next heading of the same or a higher level: one sweep
    # with a stack of open headings (linear, whatever the number of sections).
    total = len(note.lines)
    ends = [total] * len(headings)
    open_headings: list[int] = []
    for position, (start, level, _title) in enumerate(headings):
        while open_headings and headings[open_headings[-1]][1] >= level:
            ends[open_headings.pop()] = start
        open_headings.append(position)
    sections = [
        Section(title=title, level=level, start=start, end=ends[position])
        for position, (start, level, title) in enumerate(headings)
    ]

    entries: list[Entry] = []
    parsed = ParsedNote(path, note, sections, entries, problems, metadata, body_start)
    is_active = [bool(SECTION_RE.search(section.title)) for section in sections]
    # Sweep blocks and headings together: the stack holds the sections open at a
    # line, so the enclosing Active section and the nearest heading above a block
    # are found without scanning every heading (linear in the note).
    stack: list[int] = []
    next_heading = 0
    for node in tree.children:
        if not node.map or node.type == "heading":
            continue
        first = node.map[0] + body_start
        while next_heading < len(headings) and headings[next_heading][0] < first:
            level = headings[next_heading][1]
            while stack and headings[stack[-1]][1] >= level:
                stack.pop()
            stack.append(next_heading)
            next_heading += 1
        enclosing = next((i for i in reversed(stack) if is_active[i]), None)
        if enclosing is None:
            continue
        # The nearest heading above the block, when it is a sub-heading of the section.
        nearest = next_heading - 1
        inner = [headings[nearest]] if nearest > enclosing else []
        sub_title = inner[-1][2] if inner else ""
        if sub_title.strip() == LOG_TITLE:
            continue  # the heartbeat's own log, nested in a level-1 section
        done = bool(sub_title and DONE_RE.search(sub_title))
        if inner and node.type in LISTS:
            # "### api" over "- command: ..." / "- dir: ...": one entry per sub-heading.
            found = _read_kv_list(node, inner[-1][0], sub_title, body_start, path, note)
            if found is not None:
                result, used = found
                _keep(result, entries, problems)
                for item in node.children[used:]:  # e.g. an entry added below later
                    for other in _read_list_item(item, body_start, path, note, done=done):
                        _keep(other, entries, problems)
                continue
        _read_block(node, body_start, path, note, entries, problems, done=done)
    return parsed


def _frontmatter(
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


def _keep(result: Entry | Problem | None, entries: list[Entry], problems: list[Problem]) -> None:
    if isinstance(result, Entry):
        entries.append(result)
    elif isinstance(result, Problem):
        problems.append(result)


def _read_block(
    node: SyntaxTreeNode,
    offset: int,
    path: pathlib.Path,
    note: NoteText,
    entries: list[Entry],
    problems: list[Problem],
    *,
    done: bool = False,
) -> None:
    if node.type in LISTS:
        for item in node.children:
            for result in _read_list_item(item, offset, path, note, done=done):
                _keep(result, entries, problems)
    elif node.type == "table":
        _read_table(node, offset, path, entries, problems, done=done)
    elif node.type in FENCES and node.map:
        # A fence holds a command per logical line; each tmux new-session is an entry.
        body = node.map[0] + offset + (2 if node.type == "fence" else 1)
        for number, command in _fence_lines(node.content):
            if parse_tmux_like(command):
                line = body + number
                height = command.count("\n")
                result = _entry_from_parts(
                    path,
                    line,
                    line + height,
                    name=None,
                    command=command,
                    fields={},
                    free_text="",
                    inactive=done,
                )
                _keep(result, entries, problems)
    elif node.type == "paragraph" and node.map and node.children:
        # Prose is prose, except a full tmux new-session line: that names its session.
        for number, text_line in _numbered_logical_lines(node.children[0].content):
            command = text_line.strip().removeprefix("$ ").strip()
            raw, spans = _spans(command)
            if raw.startswith("\x00") and raw.rstrip().endswith("\x00") and raw.count("\x00") == 2:
                command = spans[0]
            if parse_tmux_like(command):
                line = node.map[0] + offset + 1 + number
                result = _entry_from_parts(
                    path,
                    line,
                    line + text_line.count("\n"),
                    name=None,
                    command=command,
                    fields={},
                    free_text="",
                    inactive=done,
                )
                _keep(result, entries, problems)


def _read_kv_list(
    node: SyntaxTreeNode,
    heading: int,
    title: str,
    offset: int,
    path: pathlib.Path,
    note: NoteText,
) -> tuple[Entry | Problem, int] | None:
    """A list of ``key: value`` items under a sub-heading that names the session.

    Returns the entry and how many leading items it took (the items after
    them, such as an entry added below later, are read one by one), or None
    when the list does not start with such items. The entry spans from the
    sub-heading to its last ``key: value`` item.
    """
    fields: dict[str, str] = {}
    used = 0
    last: SyntaxTreeNode | None = None
    for item in node.children:
        if any(child.type != "paragraph" for child in item.children):
            break
        pairs = [_key_value(text) for text in _logical_lines(_paragraph(item))]
        if not all(pairs):
            break
        for pair in pairs:
            if pair is not None:
                fields.setdefault(*pair)
        used += 1
        last = item
    if last is None or ("command" not in fields and "status" not in fields):
        return None
    raw, spans = _spans(title.strip())
    raw, marked = _strip_marks(raw)
    raw = LINK_NAME_RE.sub(r"\1", raw, count=1)
    raw = re.sub(r"^(?:tmux\s+)?session(?:\s+name)?\s*:?\s*", "", raw, flags=re.IGNORECASE)
    struck = raw.startswith("~~")
    raw = raw.replace("~~", "")
    emphasis = EMPHASIS_NAME_RE.match(raw)
    if raw.startswith("\x00"):
        close = raw.index("\x00", 1)
        name, rest = spans[int(raw[1:close])], raw[close + 1 :]
    elif emphasis:
        name, rest = emphasis.group(2), raw[emphasis.end() :]
    else:
        name, _, rest = raw.partition(" ")
    name = _unspan(name, spans).strip("`*_ ").rstrip(":：—–-")
    if not name or name.lower() in LABEL_WORDS:
        return None
    free = _unspan(rest, spans).strip(" :：—–-")
    command = fields.get("command", "")
    _, end = _item_range(last, offset, note)
    result = _entry_from_parts(
        path,
        heading + 1,
        end,
        name=name,
        command=command,
        fields=fields,
        free_text=free,
        inactive=struck or marked or bool(DONE_RE.search(free + " " + fields.get("status", ""))),
        status_only=not command,
    )
    return result, used


def _numbered_logical_lines(text: str) -> list[tuple[int, str]]:
    """Logical lines with the 0-based number of the physical line each starts on."""
    numbered = []
    number = 0
    for logical in _logical_lines(text):
        numbered.append((number, logical))
        number += logical.count("\n") + 1
    return numbered


def _fence_lines(content: str) -> list[tuple[int, str]]:
    """The commands of a fence: logical lines without blanks, comments and ``$ `` prompts."""
    found = []
    for number, logical in _numbered_logical_lines(content):
        text = logical.strip()
        if text.startswith("$ "):
            text = text[2:].strip()
        if text and not text.startswith("#"):
            found.append((number, text))
    return found


def _fence_command(content: str) -> str:
    """The command held by a fence under an item.

    A tmux new-session line wins (other lines are often the monitoring
    commands); otherwise the lines run one after the other, each only when the
    one before succeeded (``cd DIR`` then the agent).
    """
    lines = [text for _, text in _fence_lines(content)]
    for text in lines:
        if parse_tmux_like(text):
            return text
    return " && ".join(lines)


def _item_range(node: SyntaxTreeNode, offset: int, note: NoteText) -> tuple[int, int]:
    assert node.map is not None
    start, end = node.map[0] + offset, node.map[1] + offset
    while end - 1 > start and not note.bare(end - 1).strip():
        end -= 1
    return start + 1, end


def _paragraph(node: SyntaxTreeNode) -> str:
    for child in node.children:
        if child.type == "paragraph":
            return child.children[0].content if child.children else ""
        if child.type in LISTS | FENCES:
            return ""
    return ""


def _key_value(text: str) -> tuple[str, str] | None:
    """``command: `x` `` → ("command", "x") for the keys this reader knows."""
    match = KEY_VALUE_RE.match(text)
    if not match:
        return None
    written = re.sub(r"\s+", " ", match.group(1).strip().lower())
    key = KEYS.get(written)
    if key is None:
        return None
    if written == "tmux" and not parse_tmux_like(_unspan(*_spans(match.group(2)))):
        return None  # "- tmux: `tmux attach -t api`": a hint, not the command
    raw, spans = _spans(match.group(2).strip())
    if raw.startswith("\x00") and spans:
        value = spans[int(raw.split("\x00")[1])]
    else:
        value = _unspan(raw, spans).strip().strip("*_").strip()
        if key == "dir" and value[:1] in {"~", "/", "."}:
            value = value.split()[0] if value.split() else value
    return key, value


def _read_list_item(
    item: SyntaxTreeNode,
    offset: int,
    path: pathlib.Path,
    note: NoteText,
    *,
    done: bool = False,
) -> list[Entry | Problem | None]:
    """One list item: an entry, or a group ("- Codex sessions:") whose sub-items are entries.

    An item that is no entry with a command itself but holds sub-items that
    are entries is a group: its sub-items are read (inactive under a group
    that says done), and the group line itself is neither entry nor problem.
    """
    result = _read_item(item, offset, path, note, done=done)
    if isinstance(result, Entry) and result.command:
        return [result]
    group_done = done or bool(DONE_RE.search(_logical_lines(_paragraph(item))[0]))
    inner: list[Entry | Problem | None] = []
    for child in item.children:
        if child.type not in LISTS:
            continue
        for sub in child.children:
            if _key_value(_paragraph(sub)) is None:
                inner.extend(_read_list_item(sub, offset, path, note, done=group_done))
    if any(isinstance(r, Entry) and r.command for r in inner):
        return inner
    return [result]


def _read_item(
    item: SyntaxTreeNode,
    offset: int,
    path: pathlib.Path,
    note: NoteText,
    *,
    done: bool = False,
) -> Entry | Problem | None:
    line, end = _item_range(item, offset, note)
    head = _paragraph(item)
    fields: dict[str, str] = {}
    fences: list[str] = []
    for child in item.children:
        if child.type in FENCES:
            fences.append(child.content)
        elif child.type in LISTS:
            for sub in child.children:
                pair = _key_value(_paragraph(sub))
                if pair:
                    fields.setdefault(*pair)
                fences.extend(c.content for c in sub.children if c.type in FENCES)

    canonical = CANONICAL_HEAD_RE.match(head)
    if canonical and "command" in fields and not fences:
        return _canonical_entry(canonical, fields, path, line, end, done=done)

    # The first line is the entry; later lines of the paragraph are key: value
    # pairs ("command: ..." under "- **api**") or more free text.
    first, *more = _logical_lines(head)
    extra = []
    for text in more:
        pair = _key_value(text)
        if pair:
            fields.setdefault(*pair)
        else:
            extra.append(text.strip())
    pair = _key_value(first)
    if pair and pair[0] == "name" and len(_unspan(*_spans(pair[1])).split()) == 1:
        fields.setdefault(*pair)  # "- Session: api" over its key/value sub-items
        first = ""
    elif pair and pair[0] == "command" and "command" not in fields:
        fields["command"] = pair[1]
        first = ""
    elif pair and not more and not fences and not item.children[1:]:
        return None  # a stray "- started: 14:05" field, not an entry

    raw, spans = _spans(" ".join(part for part in [first.strip(), *extra] if part))
    raw, marked = _strip_marks(raw)
    checked = False
    checkbox = CHECKBOX_RE.match(raw)
    if checkbox:
        checked = checkbox.group(1) != " "
        raw, more_marks = _strip_marks(raw[checkbox.end() :])
        marked = marked or more_marks
    struck = False
    strike = re.match(r"^(\*\*|__)?~~(.+?)~~", raw)
    if strike:
        struck = True
        raw = (strike.group(1) or "") + strike.group(2) + raw[strike.end() :]
        raw, more_marks = _strip_marks(raw)
        marked = marked or more_marks
    elif re.search(r"~~[^~]*\x00\d+\x00[^~]*~~", raw):
        # "- `api` — ~~`codex exec x`~~": the command itself is crossed out.
        struck = True
        raw = raw.replace("~~", "")
    if not raw.strip() and not fields and not fences:
        return None
    if NONE_RE.match(_unspan(raw, spans)) and not fields and not fences:
        return None

    free_parts: list[str] = []
    clock = LEADING_TIME_RE.match(raw)
    if clock:
        raw = raw[clock.end() :]
        free_parts.append(f"started {clock.group(1)}")
    raw = LINK_NAME_RE.sub(r"\1", raw, count=1)
    raw = NAME_PREFIX_RE.sub("", raw, count=1)
    name: str | None = None
    rest = raw
    emphasis = EMPHASIS_NAME_RE.match(raw)
    plain = PLAIN_NAME_RE.match(raw)
    plain_paren = PLAIN_NAME_PAREN_RE.match(raw)
    if raw.startswith("\x00"):
        close = raw.index("\x00", 1)
        candidate = spans[int(raw[1:close])]
        if not parse_tmux_like(candidate):
            name = candidate
            rest = raw[close + 1 :]
    elif emphasis:
        inner = re.sub(
            r"^(?:tmux\s+)?session(?:\s+name)?\s*:?\s*", "", emphasis.group(2), flags=re.I
        )
        name = _unspan(inner or emphasis.group(2), spans).strip("`~ ").rstrip(" :：—–-").strip()
        rest = raw[emphasis.end() :]
    elif plain_paren and not parse_tmux_like(_unspan(raw, spans)):
        name = plain_paren.group(1)
        rest = raw[plain_paren.end() :]
    elif plain and not parse_tmux_like(_unspan(raw, spans)):
        name = plain.group(1)
        if plain.group(2):
            free_parts.append(_unspan(plain.group(2), spans))
        rest = raw[plain.end() :]
    elif re.fullmatch(r"[^\s:`*~()]{1,80}:?", raw.strip()) and (
        fields or fences or struck or marked or checked
    ):
        name = raw.strip().rstrip(":")  # "- api" over its sub-items or fence, "~~api~~"
        rest = ""
    if name is not None:
        paren = PAREN_RE.match(rest)
        if paren:
            free_parts.append(_unspan(paren.group(1), spans))
            rest = rest[paren.end() :]
        separated = SEPARATOR_RE.match(rest)
        rest = rest[separated.end() :] if separated else rest

    command, free, span_dir, spanned = _command_from(rest, spans, name)
    if name is not None and name.lower() in LABEL_WORDS and not parse_tmux_like(command):
        return None  # a remark ("Note: ...", "Monitor: `tmux attach ...`"), not a session
    if span_dir and "dir" not in fields:
        fields["dir"] = span_dir
    command, free = _pick_command(command, free, spanned, fields, fences)
    free_parts.append(free)
    status_only = False
    if "name" in fields and name is None:
        name = fields["name"]
    free_text = " ".join(part for part in free_parts if part).strip()
    if not command:
        status_only = name is not None and bool(
            struck or marked or checked or STATUS_LEAD_RE.match(free_text) or fields.get("status")
        )
    if name is None and not command:
        return Problem(
            path,
            line,
            "cannot read an entry from this item; write it as "
            "`- name: command` (or run `heartbeat notes add NAME --command CMD`)",
        )
    if "dir" not in fields:
        plain_dir = DIR_PLAIN_RE.search(free_text)
        if plain_dir:
            fields["dir"] = plain_dir.group(1)
    inactive = (
        done
        or struck
        or checked
        or marked
        or bool(DONE_RE.search(free_text + " " + fields.get("status", "")))
    )
    return _entry_from_parts(
        path,
        line,
        end,
        name=name,
        command=command,
        fields=fields,
        free_text=free_text,
        inactive=inactive,
        status_only=status_only,
    )


def _pick_command(
    command: str, free: str, spanned: bool, fields: dict[str, str], fences: list[str]
) -> tuple[str, str]:
    """Choose the command among the item's sources; return it and the free text.

    An explicit ``command:`` wins, then a tmux new-session line (it names its
    session), then a code span in the item's first line, then a fence under
    it; plain text in the first line is the command only when nothing else
    is. Plain text that loses is a description: it is kept for its start time
    and folder, and for a status only when it starts with one (a task such as
    "remove the completed orders" does not end the entry).
    """
    fenced = _fence_command(fences[0]) if fences else ""
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
        free = " ".join([*kept, free]).strip()
    return chosen, free


def _command_from(
    rest: str, spans: list[str], name: str | None
) -> tuple[str, str, str | None, bool]:
    """Split what follows the name into (command, free text, folder, from a code span).

    The command is the first code span that is not the name, not a folder
    (``in `~/x` ``) and not a log or hint; without code spans it is the text up
    to a status tail (`` — done``, ``(started 14:05)``, ✅). Text that starts
    with a status word is a status mention, never a command.
    """
    occurrences = list(re.finditer(r"\x00(\d+)\x00", rest))
    usable = []
    span_dir: str | None = None
    for match in occurrences:
        content = spans[int(match.group(1))]
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
        if len(usable) > 1 and BARE_PATH_RE.match(spans[int(chosen.group(1))]):
            span_dir = span_dir or spans[int(chosen.group(1))]
            chosen = usable[1]
        free = rest[: chosen.start()] + " " + rest[chosen.end() :]
        return spans[int(chosen.group(1))], _unspan(free, spans).strip(), span_dir, True
    text = _unspan(rest, spans).strip()
    if not text:
        return "", "", span_dir, False
    if name is not None and STATUS_LEAD_RE.match(text):
        return "", text, span_dir, False
    if name is None and not parse_tmux_like(text):
        return "", text, span_dir, False
    if occurrences and name is not None:
        # Only the name, a folder or hints in code spans: no command here.
        return "", text, span_dir, False
    return (*_split_status_tail(text), span_dir, False)


def _split_status_tail(text: str) -> tuple[str, str]:
    """``codex exec x — done (started 14:05)`` → (``codex exec x``, ``done (started 14:05)``).

    Splits at an em or en dash, a ✅, or a final parenthesis about the status,
    but only where the command before it has balanced quotes.
    """
    for cut in re.finditer(rf"\s+[—–]\s+|\s+[—–]$|\s*(?=[{DONE_MARKS}])", text):
        head = text[: cut.start()].rstrip()
        if head and _balanced(head):
            return head, text[cut.start() :].strip(" —–")
    tail = re.search(r"\s*\(([^()]*)\)\s*$", text)
    if tail and (
        STARTED_RE.search(tail.group(1))
        or STATUS_RE.search(tail.group(1))
        or DONE_RE.search(tail.group(1))
    ):
        head = text[: tail.start()].rstrip()
        if _balanced(head):
            return head, tail.group(1)
    return text, ""


def _balanced(command: str) -> bool:
    try:
        split_shell(command)
    except ValueError:
        return False
    return True


def _canonical_entry(
    match: re.Match[str],
    fields: dict[str, str],
    path: pathlib.Path,
    line: int,
    end: int,
    *,
    done: bool = False,
) -> Entry | Problem:
    values: dict[str, str] = {}
    for part in match.group("fields").split(" · ")[1:]:
        key, _, value = part.partition(" ")
        raw, spans = _spans(value)
        values[key] = spans[0] if raw.startswith("\x00") and spans else value
    return _entry_from_parts(
        path,
        line,
        end,
        name=match.group("name"),
        command=fields["command"],
        fields={
            "dir": values.get("dir", ""),
            "started": values.get("started", ""),
            "until": values.get("until", ""),
            "status": match.group("status"),
        },
        free_text="",
        canonical=True,
        inactive=done,
    )


def _entry_from_parts(
    path: pathlib.Path,
    line: int,
    end: int,
    *,
    name: str | None,
    command: str,
    fields: dict[str, str],
    free_text: str,
    inactive: bool = False,
    canonical: bool = False,
    status_only: bool = False,
) -> Entry | Problem:
    command = normalize_command(command)
    if not command.strip("` "):
        command = ""  # "``" is no code span: an empty command, not a backtick
    tmux: TmuxNew | None = None
    try:
        if parse_tmux_like(command):
            tmux = parse_tmux_new(command)
        elif command:
            split_shell(command)
    except ValueError as error:
        reason = str(error)
        if "quotation" in reason:
            reason = "unbalanced quotes in the command; close the quote"
        elif "escaped" in reason:
            reason = "the command ends in a lone backslash; remove it or finish the line"
        return Problem(path, line, f"cannot read the command of {name or 'this entry'}: {reason}")
    if tmux is not None:
        name = tmux.name
    if not name:
        return Problem(path, line, "the entry has no session name; add one before the command")
    if not is_valid_name(name):
        return Problem(
            path,
            line,
            f"session name {name!r} cannot be used: use only ASCII letters, digits, '_' "
            "and '-' (tmux rewrites '.' and ':' and expands '#{' in names)",
        )
    if not command and not status_only:
        return Problem(
            path, line, f"the entry {name!r} has an empty command; add the command it runs"
        )
    status_text = fields.get("status", "") or free_text
    status_match = STATUS_RE.search(status_text)
    status = status_match.group(1).lower() if status_match else "running"
    if inactive:
        status = "done"
    started = fields.get("started") or None
    if not started:
        found = STARTED_RE.search(free_text)
        started = found.group(1) if found else None
    directory = fields.get("dir") or (tmux.start_dir if tmux else None)
    if not directory:
        cd = CD_RE.match(command)
        directory = cd.group(1).strip("\"'") if cd else None
    return Entry(
        name=name,
        command=command,
        file=path,
        line=line,
        end_line=end,
        dir=directory or None,
        started=started,
        status=status,
        active=status not in INACTIVE_STATUSES,
        canonical=canonical,
        until=fields.get("until") or None,
        tmux_command=tmux is not None,
    )


def _read_table(
    node: SyntaxTreeNode,
    offset: int,
    path: pathlib.Path,
    entries: list[Entry],
    problems: list[Problem],
    *,
    done: bool = False,
) -> None:
    rows = [row for part in node.children for row in part.children if row.type == "tr"]
    if not rows:
        return
    header = [_cell(c).lower().strip().strip("*_ ") for c in rows[0].children]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = KEYS.get(title) or KEYS.get(title.split()[0] if title else "")
        if key and key not in columns:
            columns[key] = index
    if "name" not in columns or "command" not in columns:
        return
    for row in rows[1:]:
        cells = [_cell(c) for c in row.children]
        values = {k: (cells[i] if i < len(cells) else "") for k, i in columns.items()}
        line = (row.map[0] + offset + 1) if row.map else offset + 1
        name_cell, marked = _strip_marks(values.pop("name"))
        command = values.pop("command")
        if not name_cell.strip() and not command.strip():
            continue
        struck = name_cell.startswith("~~") or command.startswith("~~")
        name = name_cell.strip("~`* ")
        marked = marked or any(mark in cell for cell in cells for mark in DONE_MARKS)
        status = values.get("status", "")
        result = _entry_from_parts(
            path,
            line,
            line,
            name=name,
            command=command.strip("~").strip(),
            fields=values,
            free_text=status,
            inactive=done or struck or marked or bool(DONE_RE.search(status)),
        )
        _keep(result, entries, problems)


def _cell(node: SyntaxTreeNode) -> str:
    content = node.children[0].content if node.children else ""
    raw, spans = _spans(content.strip())
    if raw.startswith("\x00") and raw.endswith("\x00") and raw.count("\x00") == 2 and spans:
        return spans[0]
    return _unspan(raw, spans).strip()
