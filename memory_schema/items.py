"""List items under the section: an entry each, a group of entries, or a remark.

An item's first line holds the name and usually the command; sub-items hold
``key: value`` fields; a fence under it may hold the command. Free text in
status positions (after the name, after the command) is kept apart, in
*parts*, so that only a status written where statuses go counts.

Here too what every reader shares: the state while one note is read
(:class:`Reader`), what in an item's text is its command (:func:`command_from`),
and the step from the parts a reader found to an Entry or a Problem
(:func:`build_entry`).
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from memory_schema import shell
from memory_schema.inline import (
    AUX_BEFORE_RE,
    BARE_PATH_RE,
    CANONICAL_HEAD_RE,
    CHECKBOX_RE,
    DIR_BEFORE_RE,
    DIR_PLAIN_RE,
    EMPHASIS_NAME_RE,
    FENCES,
    LABEL_WORDS,
    LEADING_TIME_RE,
    LINK_NAME_RE,
    LISTS,
    NAME_PREFIX_RE,
    NONE_RE,
    PAREN_RE,
    PLAIN_NAME_PAREN_RE,
    PLAIN_NAME_RE,
    SEPARATOR_RE,
    STARTED_RE,
    fence_command,
    fence_lines,
    key_value,
    logical_lines,
    spans,
    strip_marks,
    unspan,
)
from memory_schema.model import Entry, Problem, name_problem
from memory_schema.shell import TmuxNew, leading_cd, parse_tmux_like, parse_tmux_new
from memory_schema.status import (
    MARK_CHARS,
    MENTION_RE,
    STATUS_LEAD_RE,
    Said,
    checked,
    field,
    first_lead,
    lead,
)

if t.TYPE_CHECKING:
    import pathlib
    from collections.abc import Sequence

    from memory_schema.markdown import Node
    from memory_schema.model import NoteText


# --------------------------------------- the reader, and entries from parts


@dataclasses.dataclass
class Reader:
    """One note being read: where its blocks are, and the entries and problems found."""

    path: pathlib.Path
    note: NoteText
    #: The line index of the first line given to the Markdown parser (after frontmatter).
    offset: int
    entries: list[Entry] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)

    def keep(self, result: Entry | Problem | None) -> None:
        if isinstance(result, Entry):
            self.entries.append(result)
        elif isinstance(result, Problem):
            self.problems.append(result)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def line_of(self, node: Node) -> int:
        """The 1-based line a block starts on."""
        assert node.map is not None
        return node.map[0] + self.offset + 1

    def item_range(self, node: Node) -> tuple[int, int]:
        """The 1-based first and last line of a block, trailing blank lines left out."""
        assert node.map is not None
        start, end = node.map[0] + self.offset, node.map[1] + self.offset
        while end - 1 > start and not self.note.bare(end - 1).strip():
            end -= 1
        return start + 1, end


def build_entry(
    path: pathlib.Path,
    line: int,
    end: int,
    *,
    name: str | None,
    command: str,
    fields: dict[str, str] | None = None,
    parts: Sequence[str] = (),
    inactive: bool = False,
    canonical: bool = False,
    status_only: bool = False,
    mark: Said | None = None,
) -> Entry | Problem:
    """An entry from what a reader found, or the problem that keeps it from being one.

    The status comes from a Status field, else from the *mark* before the name
    (``⏸️``, ``🔴``; ``memory_schema.status.MARKS``), else from the first of
    *parts* (the free text in status positions: after the name, after the
    command) that starts with one; a ✅ in the parts, or *inactive* (a strike,
    a ticked box), ends the entry as done, and a mark or word that ends it
    (❌, killed) ends it with the status it says. Start time and folder may be
    anywhere in the parts.
    """
    fields = fields or {}
    command = shell.join_continuations(command)
    if not command.strip("` "):
        command = ""  # "``" is no code span: an empty command, not a backtick
    tmux: TmuxNew | None = None
    try:
        if parse_tmux_like(command):
            tmux = parse_tmux_new(command)
        elif command:
            shell.tokens(command)
    except ValueError as error:
        reason = str(error)
        if reason == shell.UNCLOSED:
            reason = (
                "unbalanced quotes in the command (or an unclosed `$(`, `${` or backtick); close it"
            )
        elif reason == shell.LONE_BACKSLASH:
            reason = "the command ends in a lone backslash; remove it or finish the line"
        return Problem(path, line, f"cannot read the command of {name or 'this entry'}: {reason}")
    if tmux is not None:
        name = tmux.name
    if not name:
        return Problem(path, line, "the entry has no session name; add one before the command")
    problem = name_problem(name)
    if problem:
        return Problem(path, line, problem)
    if not command and not status_only:
        return Problem(
            path, line, f"the entry {name!r} has an empty command; add the command it runs"
        )
    free_text = " ".join(part for part in parts if part).strip()
    if inactive or checked(free_text):
        said = Said("done", ends=True)
    else:
        said = (
            field(fields.get("status", ""))
            or mark
            or first_lead(parts)
            or Said("running", ends=False)
        )
    started = fields.get("started") or None
    if not started:
        found = STARTED_RE.search(free_text)
        started = found.group(1) if found else None
    directory = fields.get("dir") or (tmux.start_dir if tmux else None) or leading_cd(command)
    return Entry(
        name=name,
        command=command,
        file=path,
        line=line,
        end_line=end,
        dir=directory or None,
        started=started,
        status=said.status,
        active=not said.ends,
        canonical=canonical,
        until=fields.get("until") or None,
        tmux_command=tmux is not None,
    )


def canonical_entry(
    match: re.Match[str],
    fields: dict[str, str],
    path: pathlib.Path,
    line: int,
    end: int,
    *,
    done: bool = False,
) -> Entry | Problem:
    """An entry in the form this library writes (``CANONICAL_HEAD_RE`` matched its head)."""
    values: dict[str, str] = {}
    for part in match.group("fields").split(" · ")[1:]:
        key, _, value = part.partition(" ")
        raw, contents = spans(value)
        values[key] = contents[0] if raw.startswith("\x00") and contents else value
    return build_entry(
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
        canonical=True,
        inactive=done,
    )


# --------------------------------------------------- the command in an item


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


# --------------------------------------------------------------- list items

Result = Entry | Problem | None


@dataclasses.dataclass(frozen=True)
class Fence:
    """A code block under an item: the 1-based line of its first content line, and content."""

    line: int
    content: str


def paragraph(node: Node) -> str:
    """The text of the first paragraph of a list item ('' when a list or fence comes first)."""
    for child in node.children:
        if child.type == "paragraph":
            return child.children[0].content if child.children else ""
        if child.type in LISTS | FENCES:
            return ""
    return ""


def fence_of(reader: Reader, node: Node) -> Fence:
    return Fence(reader.line_of(node) + (1 if node.type == "fence" else 0), node.content)


def read_list_item(reader: Reader, item: Node, *, done: bool = False) -> list[Result]:
    """One list item: an entry, or a group ("- Codex sessions:") whose sub-items are entries.

    An item that is no entry with a command itself but holds sub-items that
    are entries is a group: its sub-items are read (inactive under a group
    that says done), and the group line itself is neither entry nor problem.
    Several ``tmux ... new`` lines in an item's fences are several entries.
    """
    result, fences = _read_item(reader, item, done=done)
    several = _several_tmux(reader, item, result, fences, done=done)
    if several:
        return several
    if isinstance(result, Entry) and result.command:
        return [result]
    first = logical_lines(paragraph(item))[0]
    raw, mark = strip_marks(first)
    said = mark or lead(raw)
    group_done = (
        done or (said is not None and said.ends) or checked(raw) or raw.lstrip("*_ ")[:2] == "~~"
    )
    inner: list[Result] = []
    for child in item.children:
        if child.type not in LISTS:
            continue
        for sub in child.children:
            if key_value(paragraph(sub)) is None:
                inner.extend(read_list_item(reader, sub, done=group_done))
    if any(isinstance(r, Entry) and r.command for r in inner):
        return inner
    return [result]


def _several_tmux(
    reader: Reader, item: Node, result: Result, fences: list[Fence], *, done: bool
) -> list[Result]:
    """Each ``tmux ... new`` line of the item's fences as an entry, when the item holds several.

    Every entry then spans only its own lines, so that removing one never
    removes another; an entry of the item's own head spans the head. Returns
    [] when the item holds one session at most.
    """
    found = [
        (fence.line + number, text)
        for fence in fences
        for number, text in fence_lines(fence.content)
        if parse_tmux_like(text)
    ]
    main = result.command if isinstance(result, Entry) else ""
    from_fence = any(shell.join_continuations(text) == main for _, text in found)
    head_tmux = bool(main) and parse_tmux_like(main) and not from_fence
    if len(found) < 2 and not (found and head_tmux):
        return []
    inactive = done or (isinstance(result, Entry) and not result.active)
    out: list[Result] = [
        build_entry(
            reader.path, line, line + text.count("\n"), name=None, command=text, inactive=inactive
        )
        for line, text in found
    ]
    if isinstance(result, Entry) and not from_fence:
        head_end = reader.line_of(item) + paragraph(item).count("\n")
        out.insert(0, dataclasses.replace(result, end_line=head_end))
    elif isinstance(result, Problem) and not any(
        isinstance(other, Problem) and other.message == result.message for other in out
    ):
        out.insert(0, result)
    return out


def _read_item(reader: Reader, item: Node, *, done: bool = False) -> tuple[Result, list[Fence]]:
    line, end = reader.item_range(item)
    head = paragraph(item)
    fields: dict[str, str] = {}
    fences: list[Fence] = []
    for child in item.children:
        if child.type in FENCES:
            fences.append(fence_of(reader, child))
        elif child.type in LISTS:
            for sub in child.children:
                pair = key_value(paragraph(sub))
                if pair:
                    fields.setdefault(*pair)
                fences.extend(fence_of(reader, c) for c in sub.children if c.type in FENCES)

    canonical = CANONICAL_HEAD_RE.match(head)
    if canonical and "command" in fields and not fences:
        return canonical_entry(canonical, fields, reader.path, line, end, done=done), fences

    # The first line is the entry; later lines of the paragraph are key: value
    # pairs ("command: ..." under "- **api**") or more free text.
    first, *more = logical_lines(head)
    extra = []
    for text in more:
        pair = key_value(text)
        if pair:
            fields.setdefault(*pair)
        else:
            extra.append(text.strip())
    pair = key_value(first)
    if pair and pair[0] == "name" and len(unspan(*spans(pair[1])).split()) == 1:
        fields.setdefault(*pair)  # "- Session: api" over its key/value sub-items
        first = ""
    elif pair and pair[0] == "command" and "command" not in fields:
        fields["command"] = pair[1]
        first = ""
    elif pair and not more and not fences and not item.children[1:]:
        return None, fences  # a stray "- started: 14:05" field, not an entry

    raw, contents = spans(" ".join(part for part in [first.strip(), *extra] if part))
    raw, mark = strip_marks(raw)
    ticked = False
    checkbox = CHECKBOX_RE.match(raw)
    if checkbox:
        # "- [x] api: …" is done; "- [ ] api: …" is an entry like any other
        ticked = checkbox.group(1) != " "
        raw, more_marks = strip_marks(raw[checkbox.end() :])
        mark = _stronger(mark, more_marks)
    struck = False
    strike = re.match(r"^(\*\*|__)?~~(.+?)~~", raw)
    if strike:
        struck = True
        raw = (strike.group(1) or "") + strike.group(2) + raw[strike.end() :]
        raw, more_marks = strip_marks(raw)
        mark = _stronger(mark, more_marks)
    elif re.search(r"~~[^~]*\x00\d+\x00[^~]*~~", raw):
        # "- `api` — ~~`codex exec x`~~": the command itself is crossed out.
        struck = True
        raw = raw.replace("~~", "")
    if not raw.strip() and not fields and not fences:
        return None, fences
    if NONE_RE.match(unspan(raw, contents)) and not fields and not fences:
        return None, fences

    parts: list[str] = []
    clock = LEADING_TIME_RE.match(raw)
    if clock:
        raw = raw[clock.end() :]
        parts.append(f"started {clock.group(1)}")
    name, rest = _name(raw, contents, parts, fields or fences or struck or mark or ticked)
    command, free, span_dir, spanned = command_from(rest, contents, name)
    if name is not None and name.lower() in LABEL_WORDS and not parse_tmux_like(command):
        return None, fences  # a remark ("Note: ...", "Monitor: `tmux attach ...`"), not a session
    if span_dir and "dir" not in fields:
        fields["dir"] = span_dir
    fenced = fence_command(fences[0].content) if fences else ""
    command, free = pick_command(command, free, spanned, fields, fenced)
    parts.extend(free)
    if "name" in fields and name is None:
        name = fields["name"]
    status_only = False
    if not command:
        status_only = name is not None and bool(
            struck
            or mark
            or ticked
            or any(STATUS_LEAD_RE.match(part) for part in parts)
            or fields.get("status")
        )
    if name is None and not command:
        message = "cannot read an entry from this item; write it as `- name: command`"
        return Problem(reader.path, line, message), fences
    if "dir" not in fields:
        plain_dir = DIR_PLAIN_RE.search(" ".join(parts))
        if plain_dir:
            fields["dir"] = plain_dir.group(1)
    result = build_entry(
        reader.path,
        line,
        end,
        name=name,
        command=command,
        fields=fields,
        parts=parts,
        inactive=done or struck or ticked,
        status_only=status_only,
        mark=mark,
    )
    return result, fences


def _stronger(first: Said | None, second: Said | None) -> Said | None:
    """Of two marks, the one that ends the entry, else the first."""
    if first is None or (second is not None and second.ends and not first.ends):
        return second
    return first


def _name(raw: str, contents: list[str], parts: list[str], alone: object) -> tuple[str | None, str]:
    """The session name at the start of *raw*, and the rest after its separator.

    A plain word alone is a name only when *alone* (the item has sub-items, a
    fence, a strike or a mark). Appends a parenthesis after the name to *parts*.
    """
    raw = LINK_NAME_RE.sub(r"\1", raw, count=1)
    raw = NAME_PREFIX_RE.sub("", raw, count=1)
    name: str | None = None
    rest = raw
    emphasis = EMPHASIS_NAME_RE.match(raw)
    plain = PLAIN_NAME_RE.match(raw)
    plain_paren = PLAIN_NAME_PAREN_RE.match(raw)
    if raw.startswith("\x00"):
        close = raw.index("\x00", 1)
        candidate = contents[int(raw[1:close])]
        if not parse_tmux_like(candidate):
            name = candidate
            rest = raw[close + 1 :]
    elif emphasis:
        inner = re.sub(
            r"^(?:tmux\s+)?session(?:\s+name)?\s*:?\s*", "", emphasis.group(2), flags=re.I
        )
        name = unspan(inner or emphasis.group(2), contents).strip("`~ ").rstrip(" :：—–-").strip()
        rest = raw[emphasis.end() :]
    elif plain_paren and not parse_tmux_like(unspan(raw, contents)):
        name = plain_paren.group(1)
        rest = raw[plain_paren.end() :]
    elif plain and not parse_tmux_like(unspan(raw, contents)):
        name = plain.group(1)
        if plain.group(2):
            parts.append(unspan(plain.group(2), contents))
        rest = raw[plain.end() :]
    elif re.fullmatch(r"[^\s:`*~()]{1,80}:?", raw.strip()) and alone:
        name = raw.strip().rstrip(":")  # "- api" over its sub-items or fence, "~~api~~"
        rest = ""
    if name is not None:
        paren = PAREN_RE.match(rest)
        if paren:
            parts.append(unspan(paren.group(1), contents))
            rest = rest[paren.end() :]
        separated = SEPARATOR_RE.match(rest)
        rest = rest[separated.end() :] if separated else rest
    return name, rest
