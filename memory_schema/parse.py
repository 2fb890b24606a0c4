"""Reading notes: frontmatter, sections and entries, leniently, with line numbers.

Markdown structure comes from markdown-it-py's CommonMark tokens and their
line maps, so a ``#`` line inside a fenced block is never a heading and a
list item's extent is exactly what a Markdown renderer would show.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shlex
import typing as t

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

SECTION_RE = re.compile(r"active\s+long[\s_-]*running\s+processes", re.IGNORECASE)
LOG_RE = re.compile(rf"{LOG_TITLE}", re.IGNORECASE)
CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
DONE_RE = re.compile(
    r"\b(done|finished|completed?|killed|removed)\b|✅|✔|☑",
    re.IGNORECASE,
)
STATUS_ONLY_RE = re.compile(
    r"^(?:[\s().,;!·—–-]|✅|✔|☑|\b(?:done|finished|completed?|killed|removed|"
    + "|".join(STATUS_WORDS)
    + r")\b)+$",
    re.IGNORECASE,
)
STATUS_RE = re.compile(r"\b(" + "|".join(STATUS_WORDS) + r")\b", re.IGNORECASE)
NONE_RE = re.compile(
    r"^\s*[(_*]*\s*(none|nothing|n/?a|no\s+(active\s+)?(sessions?|processes))\b",
    re.IGNORECASE,
)
CHECKBOX_RE = re.compile(r"^\[( |x|X)\]\s+")
SEPARATOR_RE = re.compile(r"^\s*(?::|—|–|->|→|-{1,2}(?=\s))\s*")
PLAIN_NAME_RE = re.compile(r"^([^\s:`*]{1,80}?)\s*(?::\s|:$|\s[—–]\s|\s-{1,2}\s|\s→\s)")
CANONICAL_HEAD_RE = re.compile(
    r"^`(?P<name>[A-Za-z0-9_-]+)` — (?P<status>"
    + "|".join(STATUS_WORDS)
    + r")(?P<fields>(?: · [^·]+)*)$"
)
KEY_VALUE_RE = re.compile(r"^\s*(?:\*\*|__)?([A-Za-z][A-Za-z _-]{0,20}?)(?:\*\*|__)?\s*:\s*(.*)$", re.S)
STARTED_RE = re.compile(
    r"\bstarted(?::|\s+at)?\s+(\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[A-Z]{2,4})?"
    r"|\d{1,2}:\d{2}(?:\s*[A-Z]{2,4})?)",
    re.IGNORECASE,
)
DIR_RE = re.compile(r"\b(?:dir|cwd|in)\s*:?\s+\x00(\d+)\x00", re.IGNORECASE)
DIR_PLAIN_RE = re.compile(r"\b(?:dir|cwd)\s*:?\s+([~/.][^\s,;)]*)", re.IGNORECASE)
CD_RE = re.compile(r"^\s*cd\s+(\"[^\"]+\"|'[^']+'|[^\s;&|]+)\s*&&")

KEYS = {
    "command": "command",
    "cmd": "command",
    "dir": "dir",
    "directory": "dir",
    "cwd": "dir",
    "workdir": "dir",
    "path": "dir",
    "project": "dir",
    "started": "started",
    "start": "started",
    "since": "started",
    "status": "status",
    "state": "status",
    "session": "name",
    "name": "name",
    "until": "until",
}


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


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


def _strip_emphasis(text: str) -> str:
    text = text.strip()
    for mark in ("**", "__", "*", "_"):
        if len(text) > 2 * len(mark) and text.startswith(mark) and text.endswith(mark):
            return text[len(mark) : -len(mark)].strip()
    return text


def parse_tmux_new(command: str) -> TmuxNew | None:
    """Parse a ``tmux [-S sock] new[-session] ... -s NAME CMD`` line.

    Returns None when *command* is not a tmux new-session command. Raises
    ValueError when it is one but cannot be read (unbalanced quotes, no -s).
    """
    argv = shlex.split(normalize_command(command))
    if not argv or argv[0].rsplit("/", 1)[-1] != "tmux":
        return None
    takes_value = {"-S", "-L", "-f", "-s", "-c", "-n", "-x", "-y", "-e", "-F", "-t"}
    index = 1
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in {"-S", "-L", "-f", "-T"} else 1
    if index >= len(argv) or argv[index] not in {"new", "new-session"}:
        return None
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
        flag, attached = arg[:2], arg[2:]
        if flag in takes_value:
            value = attached or (argv[index + 1] if index + 1 < len(argv) else "")
            index += 1 if attached else 2
            if flag == "-s":
                name = value
            elif flag == "-c":
                start_dir = value
            elif flag == "-e":
                env.append(value)
            continue
        index += 1
    if not name:
        raise ValueError("the tmux command has no `-s NAME`: add the session name")
    shell_command = " ".join(rest)
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
    headings: list[tuple[int, int, str]] = []
    for node in tree.children:
        if node.type == "heading" and node.map:
            level = int(node.tag[1])
            title = node.children[0].content if node.children else ""
            headings.append((node.map[0] + body_start, level, title))
    sections: list[Section] = []
    total = len(note.lines)
    for position, (start, level, title) in enumerate(headings):
        end = next((s for s, lvl, _ in headings[position + 1 :] if lvl <= level), total)
        sections.append(Section(title=title, level=level, start=start, end=end))

    entries: list[Entry] = []
    parsed = ParsedNote(path, note, sections, entries, problems, metadata, body_start)
    active = parsed.active_sections
    for node in tree.children:
        if not node.map:
            continue
        first = node.map[0] + body_start
        if any(section.start < first < section.end for section in active):
            _read_block(node, body_start, path, note, entries, problems)
    return parsed


def _frontmatter(
    note: NoteText, path: pathlib.Path, problems: list[Problem]
) -> tuple[int, dict[str, object]]:
    if not note.lines or note.bare(0).rstrip() != "---":
        return 0, {}
    for index in range(1, len(note.lines)):
        if note.bare(index).rstrip() in {"---", "..."}:
            break
    else:
        return 0, {}
    block = "".join(note.lines[: index + 1])
    try:
        import frontmatter

        metadata = frontmatter.loads(block).metadata
    except Exception as error:
        problems.append(
            Problem(
                path,
                1,
                f"the frontmatter is not valid YAML ({type(error).__name__}); "
                "fix it or remove the --- block",
            )
        )
        return index + 1, {}
    return index + 1, dict(metadata)


def _read_block(
    node: SyntaxTreeNode,
    offset: int,
    path: pathlib.Path,
    note: NoteText,
    entries: list[Entry],
    problems: list[Problem],
) -> None:
    if node.type in {"bullet_list", "ordered_list"}:
        for item in node.children:
            result = _read_item(item, offset, path, note)
            if isinstance(result, Entry):
                entries.append(result)
            elif isinstance(result, Problem):
                problems.append(result)
    elif node.type == "table":
        _read_table(node, offset, path, entries, problems)
    elif node.type in {"fence", "code_block"} and node.map:
        content = node.content
        if re.search(r"\btmux\b.*\bnew(-session)?\b", content, re.S):
            line, end = node.map[0] + offset + 1, node.map[1] + offset
            result = _entry_from_parts(
                path, line, end, name=None, command=content, fields={}, free_text=""
            )
            if isinstance(result, Entry):
                entries.append(result)
            else:
                problems.append(result)


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
        if child.type in {"bullet_list", "ordered_list", "fence", "code_block"}:
            return ""
    return ""


def _read_item(
    item: SyntaxTreeNode, offset: int, path: pathlib.Path, note: NoteText
) -> Entry | Problem | None:
    line, end = _item_range(item, offset, note)
    head = _paragraph(item)
    fields: dict[str, str] = {}
    fences: list[str] = []
    subs: list[str] = []
    for child in item.children:
        if child.type in {"fence", "code_block"}:
            fences.append(child.content)
        elif child.type in {"bullet_list", "ordered_list"}:
            for sub in child.children:
                subs.append(_paragraph(sub))
                fences.extend(
                    c.content for c in sub.children if c.type in {"fence", "code_block"}
                )
    for sub in subs:
        match = KEY_VALUE_RE.match(sub)
        if match and match.group(1).strip().lower() in KEYS:
            key = KEYS[match.group(1).strip().lower()]
            raw, spans = _spans(match.group(2).strip())
            if raw.startswith("\x00") and spans:
                value = spans[int(raw.split("\x00")[1])]
            else:
                value = _unspan(raw, spans).strip()
            fields.setdefault(key, value)

    canonical = CANONICAL_HEAD_RE.match(head)
    if canonical and "command" in fields and not fences:
        return _canonical_entry(canonical, fields, path, line, end)

    text = head.strip()
    struck = False
    if text.startswith("~~"):
        struck = True
        text = re.sub(r"~~", "", text).strip()
    checkbox = CHECKBOX_RE.match(text)
    checked = False
    if checkbox:
        checked = checkbox.group(1) != " "
        text = text[checkbox.end() :]
    if not text and not fields and not fences:
        return None
    if NONE_RE.match(text) and not fields and not fences:
        return None

    raw, spans = _spans(text)
    name: str | None = None
    rest = raw
    bold = re.match(r"^(\*\*|__)(.+?)\1", raw)
    if raw.startswith("\x00"):
        index = int(raw.split("\x00")[1])
        candidate = spans[index]
        rest = raw[raw.index("\x00", 1) + 1 :]
        separated = SEPARATOR_RE.match(rest)
        if separated or not rest.strip() or not parse_tmux_like(candidate):
            name = candidate
            rest = rest[separated.end() :] if separated else rest
        else:
            rest = raw
    elif bold:
        name = _strip_emphasis(_unspan(bold.group(2), spans)).strip("`")
        rest = raw[bold.end() :]
        separated = SEPARATOR_RE.match(rest)
        rest = rest[separated.end() :] if separated else rest
    else:
        plain = PLAIN_NAME_RE.match(raw)
        if plain and not parse_tmux_like(_unspan(raw, spans)):
            name = plain.group(1)
            rest = raw[plain.end() :]

    command = ""
    free = rest
    rest_spans = [int(m) for m in re.findall(r"\x00(\d+)\x00", rest)]
    if rest_spans:
        command = spans[rest_spans[0]]
        free = rest.replace(f"\x00{rest_spans[0]}\x00", " ", 1)
    elif name is not None and STATUS_ONLY_RE.match(_unspan(rest, spans)):
        free = rest  # "- api — done": a status-only mention of an earlier entry
    elif name is not None and rest.strip():
        command = _unspan(rest, spans).strip()
        tail = re.search(r"\s*\(([^()]*)\)\s*$", command)
        if tail and (STARTED_RE.search(tail.group(1)) or STATUS_RE.search(tail.group(1))):
            command = command[: tail.start()].rstrip()
            free = tail.group(1)
        else:
            free = ""
        command = command.rstrip(" —–-").strip()
    elif name is None and parse_tmux_like(_unspan(raw, spans)):
        command = _unspan(raw, spans)
        free = ""
    if not command and "command" in fields:
        command = fields["command"]
    if not command and fences:
        command = fences[0]
    if "name" in fields and name is None:
        name = fields["name"]
    if name is None and not command:
        return Problem(
            path,
            line,
            "cannot read an entry from this item; write it as "
            "`- name: command` (or run `heartbeat notes add NAME --command CMD`)",
        )
    free_text = _unspan(free, spans) if free else ""
    if "dir" not in fields:
        match = DIR_RE.search(free) or None
        if match:
            fields["dir"] = spans[int(match.group(1))]
        else:
            plain_dir = DIR_PLAIN_RE.search(free_text)
            if plain_dir:
                fields["dir"] = plain_dir.group(1)
    inactive = struck or checked or bool(DONE_RE.search(free_text + " " + fields.get("status", "")))
    return _entry_from_parts(
        path,
        line,
        end,
        name=name,
        command=command,
        fields=fields,
        free_text=free_text,
        inactive=inactive,
    )


def parse_tmux_like(text: str) -> bool:
    return bool(re.match(r"^\s*(\S*/)?tmux\s.*\bnew(-session)?\b", text, re.S))


def _canonical_entry(
    match: re.Match[str], fields: dict[str, str], path: pathlib.Path, line: int, end: int
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
) -> Entry | Problem:
    command = normalize_command(command)
    tmux: TmuxNew | None = None
    try:
        if parse_tmux_like(command):
            tmux = parse_tmux_new(command)
        elif command:
            shlex.split(command)
    except ValueError as error:
        reason = str(error)
        if "quotation" in reason:
            reason = "unbalanced quotes in the command; close the quote"
        return Problem(path, line, f"cannot read the command of {name or 'this entry'}: {reason}")
    if tmux is not None:
        if name is not None and name != tmux.name and name.strip("`*") != tmux.name:
            name = tmux.name if not is_valid_name(name) else name
        name = tmux.name
    if not name:
        return Problem(path, line, "the entry has no session name; add one before the command")
    if not is_valid_name(name):
        return Problem(
            path,
            line,
            f"session name {name!r} cannot be used: tmux rewrites '.' and ':' and expands '#{{'; "
            "use only letters, digits, '_' and '-'",
        )
    if not command and not (free_text and STATUS_ONLY_RE.match(free_text)):
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
) -> None:
    rows = [row for part in node.children for row in part.children if row.type == "tr"]
    if not rows:
        return
    header = [_cell(c).lower().strip() for c in rows[0].children]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = KEYS.get(title) or KEYS.get(title.split()[0] if title else "")
        if title in {"session", "session name", "name", "tmux session"}:
            key = "name"
        if key and key not in columns:
            columns[key] = index
    if "name" not in columns or "command" not in columns:
        return
    for row in rows[1:]:
        cells = [_cell(c) for c in row.children]
        values = {k: (cells[i] if i < len(cells) else "") for k, i in columns.items()}
        line = (row.map[0] + offset + 1) if row.map else offset + 1
        name = values.pop("name").strip("`* ")
        command = values.pop("command")
        if not name and not command:
            continue
        struck = name.startswith("~~") or command.startswith("~~")
        name = name.strip("~")
        result = _entry_from_parts(
            path,
            line,
            line,
            name=name,
            command=command.strip("~"),
            fields=values,
            free_text=" ".join(values.values()),
            inactive=struck or bool(DONE_RE.search(values.get("status", ""))),
        )
        if isinstance(result, Entry):
            entries.append(result)
        else:
            problems.append(result)


def _cell(node: SyntaxTreeNode) -> str:
    content = node.children[0].content if node.children else ""
    raw, spans = _spans(content.strip())
    if raw.startswith("\x00") and raw.endswith("\x00") and raw.count("\x00") == 2 and spans:
        return spans[0]
    return _unspan(raw, spans).strip()
