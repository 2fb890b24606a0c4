"""Reading a shell command line: its simple commands, their program words, a folder's spellings."""

from __future__ import annotations

import functools
import os
import re
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Mapping

_SEPARATOR = re.compile(r"&&|\|\||[;|&()\n]")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
PREFIXES = frozenset(
    {"env", "exec", "nohup", "npx", "bunx", "command", "time", "nice", "caffeinate"}
)
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def resolve_folder(folder: str, env: Mapping[str, str]) -> str | None:
    """*folder* as one path however it is spelled: quotes, ``~``, ``$VAR``/``${VAR}``, symlinks.

    ``~`` and the variables come from *env* (HOME falling back to the user's); a variable
    *env* lacks stays as written. A single-quoted folder is taken literally, as the shell
    does. Returns None for an empty one.
    """
    literal = len(folder) >= 2 and folder[0] == folder[-1] == "'"
    folder = folder.strip("'\"")
    if not folder:
        return None
    if not literal:
        home = env.get("HOME") or os.path.expanduser("~")
        if folder == "~" or folder.startswith("~/"):
            folder = home + folder[1:]
        else:
            folder = os.path.expanduser(folder)
        values = {**env, "HOME": home}
        folder = _VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), m.group()), folder)
    return os.path.realpath(os.path.normpath(folder))


def command_words(command: str) -> list[str]:
    """The program name of each simple command in a shell command line (quotes respected)."""
    return list(_command_words(command))


@functools.lru_cache(maxsize=1024)
def _command_words(command: str) -> tuple[str, ...]:
    # a check asks for each session's command a few times (agent, account, codex log)
    return tuple(command[start:end].strip("'\"") for start, end in _programs(command))


def _programs(command: str) -> list[tuple[int, int]]:
    """The span of each simple command's program word (assignments and prefixes skipped)."""
    found = []
    for words in simple_commands(command):
        for start, end in words:
            token = command[start:end].strip("'\"")
            if ASSIGNMENT.match(token) or token in PREFIXES or token.startswith("-"):
                continue
            found.append((start, end))
            break
    return found


def simple_commands(command: str) -> list[list[tuple[int, int]]]:
    """*command*'s words as spans, grouped by simple command (cut at ``;``, ``&&``, ``|`` …)."""
    return [list(group) for group in _split(command)]


@functools.lru_cache(maxsize=1024)
def _split(command: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    groups: list[list[tuple[int, int]]] = [[]]
    quote = ""
    start: int | None = None
    index = 0
    while index < len(command):
        char = command[index]
        step = 2 if char == "\\" and quote != "'" else 1
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            start = index if start is None else start
        elif char.isspace() or _SEPARATOR.match(command, index):
            if start is not None:
                groups[-1].append((start, index))
                start = None
            separator = _SEPARATOR.match(command, index)
            if separator:
                groups.append([])
                index = separator.end()
                continue
        elif start is None:
            start = index
        index += step
    if start is not None:
        groups[-1].append((start, len(command)))
    return tuple(tuple(g) for g in groups if g)
