"""From the parts a reader found (name, command, fields, free text) to an Entry or a Problem.

Also the reader's shared state while one note is read (:class:`Reader`).
"""

from __future__ import annotations

import dataclasses
import typing as t

from memory_schema import shell
from memory_schema.inline import spans
from memory_schema.model import Entry, Problem, name_problem
from memory_schema.patterns import STARTED_RE
from memory_schema.status import Said, checked, field, first_lead
from memory_schema.tmuxline import TmuxNew, leading_cd, parse_tmux_like, parse_tmux_new

if t.TYPE_CHECKING:
    import pathlib
    import re
    from collections.abc import Sequence

    from memory_schema.mdtree import Node
    from memory_schema.text import NoteText


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
