"""The canonical form of an entry, which the reader round-trips exactly."""

from __future__ import annotations

import re

from memory_schema import shell
from memory_schema.errors import NoteError
from memory_schema.model import SECTION_TITLE, STATUS_WORDS, name_problem
from memory_schema.tmuxline import parse_tmux_like, parse_tmux_new


class InvalidEntry(NoteError):
    """An entry that cannot be written in the canonical form."""


def code_span(text: str) -> str:
    """Render *text* as a CommonMark code span that reads back as *text*.

    Uses a backtick run longer than any inside the text, padded with a space
    where the text starts or ends with a backtick or is wrapped in spaces.
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = (
        text.startswith("`")
        or text.endswith("`")
        or (text.startswith(" ") and text.endswith(" ") and text.strip(" ") != "")
    )
    space = " " if pad else ""
    return f"{fence}{space}{text}{space}{fence}"


def _check_text(label: str, value: str) -> None:
    if any(char in value for char in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        raise InvalidEntry(f"the {label} contains a line break; put it on one line")
    if "\x00" in value:
        raise InvalidEntry(f"the {label} contains a NUL byte; remove it")
    if value.strip() != value:
        raise InvalidEntry(f"the {label} starts or ends with spaces; remove them")


def _check_field(label: str, value: str, *, spanned: bool = False) -> None:
    _check_text(label, value)
    if "·" in value:
        raise InvalidEntry(f"the {label} contains '·', which separates fields; remove it")
    if not spanned and "`" in value:
        raise InvalidEntry(f"the {label} contains a backtick; remove it")


def render_head(
    name: str,
    status: str = "running",
    *,
    started: str | None = None,
    dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
    until: str | None = None,
) -> str:
    """The first line of a canonical entry, without its line ending."""
    problem = name_problem(name)
    if problem:
        raise InvalidEntry(problem)
    if status not in STATUS_WORDS:
        raise InvalidEntry(f"unknown status {status!r}; use one of {', '.join(STATUS_WORDS)}")
    head = f"- `{name}` — {status}"
    if started:
        _check_field("start time", started)
        head += f" · started {started}"
    if dir:
        _check_field("folder", dir, spanned=True)
        head += f" · dir {code_span(dir)}"
    if until:
        _check_field("pause end", until)
        head += f" · until {until}"
    return head


def render_entry(
    name: str,
    command: str,
    status: str = "running",
    *,
    started: str | None = None,
    dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
    until: str | None = None,
    newline: str = "\n",
) -> list[str]:
    """The canonical entry's lines, each ending in *newline*.

    Raises InvalidEntry for what the canonical form cannot hold: a bad name,
    an unknown status, an empty command or one with a line break.
    """
    if not command.strip():
        raise InvalidEntry("the command is empty; give the command the session runs")
    _check_text("command", command)
    _check_shell(name, command)
    head = render_head(name, status, started=started, dir=dir, until=until)
    return [head + newline, f"  - command: {code_span(command)}" + newline]


def _check_shell(name: str, command: str) -> None:
    """Refuse a command the reader would report as a problem (it must read back)."""
    try:
        shell.tokens(command)
        tmux = parse_tmux_new(command) if parse_tmux_like(command) else None
    except ValueError as error:
        raise InvalidEntry(
            f"the command cannot be read as a shell command ({error}); check its quotes"
        ) from None
    if tmux is not None and tmux.name != name:
        raise InvalidEntry(
            f"the tmux command creates the session {tmux.name!r}, not {name!r}; "
            "use the same name in both"
        )


def render_section(entries: list[list[str]], newline: str = "\n") -> list[str]:
    """A new Active Long-Running Processes section holding *entries*."""
    lines = [f"## {SECTION_TITLE}{newline}", newline]
    for entry in entries:
        lines.extend(entry)
    return lines
