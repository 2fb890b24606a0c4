"""Logged ``tmux ... new-session ...`` command lines: the session they create, and how."""

from __future__ import annotations

import dataclasses
import re
import shlex

from memory_schema import shell

TMUX_NEW_RE = re.compile(r"^\s*(?:\S*/)?tmux\s(?:.*\s)?new(?:-session)?(?:\s|$)", re.S)
#: Global tmux options that take a value (``tmux -S SOCK new ...``).
_GLOBAL_VALUES = frozenset({"-S", "-L", "-f", "-T", "-c"})
#: new-session options that take a value (``-s NAME``, ``-c DIR``, ``-e VAR=x``, ...).
_NEW_VALUES = frozenset("censtxyFf")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclasses.dataclass(frozen=True)
class TmuxNew:
    """The parts of a logged ``tmux ... new-session ...`` command line.

    ``shell_command`` is the command tmux was given, exactly as the user's
    shell passed it (quotes and escapes resolved by POSIX rules); ``start_dir``
    is the ``-c`` folder, else the folder of a leading ``cd DIR &&``.
    """

    name: str
    shell_command: str
    start_dir: str | None
    environment: tuple[str, ...]
    #: The server it names: ``-L NAME`` (a socket name in tmux's folder) or ``-S PATH``;
    #: neither means tmux's default socket.
    socket_name: str | None = None
    socket_path: str | None = None


def parse_tmux_like(text: str) -> bool:
    """True when *text* starts as a ``tmux ... new[-session]`` command line."""
    return bool(TMUX_NEW_RE.match(text))


def parse_tmux_new(command: str) -> TmuxNew | None:
    """Parse a ``tmux [-S sock] new[-session] ... -s NAME CMD`` line.

    Returns None when *command* is not a tmux new-session command. Raises
    ValueError when it is one but cannot be read (unbalanced quotes, no -s).
    The tmux invocation ends at the first shell operator (``;``, ``&&``, ``|``
    ...) or at tmux's own command separator (an escaped ``\\;``).
    """
    words = shell.tokens(command)
    for before, inside, after in zip(words, words[1:], words[2:], strict=False):
        if before == ("<", True) and not inside.operator and after == (">", True):
            raise ValueError(
                f"the tmux command still holds the placeholder <{inside.text}>; "
                "replace it with the value it stands for"
            )
    index = 0
    while index < len(words) and not words[index].operator and _ASSIGNMENT.match(words[index].text):
        index += 1  # VAR=value before the command
    argv: list[str] = []
    for token in words[index:]:
        if token.operator:
            break
        argv.append(token.text)
    if not argv or argv[0].rsplit("/", 1)[-1] != "tmux":
        return None
    position = 1
    sockets: dict[str, str] = {}
    while position < len(argv) and argv[position].startswith("-"):
        flag = argv[position]
        if flag in {"-L", "-S"} and position + 1 < len(argv):
            sockets[flag] = argv[position + 1]
        elif flag[:2] in {"-L", "-S"} and len(flag) > 2:
            sockets[flag[:2]] = flag[2:]  # `-Lwork`: tmux's getopt takes the value attached
            position += 1
            continue
        position += 2 if flag in _GLOBAL_VALUES else 1
    if position >= len(argv) or argv[position] not in {"new", "new-session"}:
        return None
    name: str | None = None
    start_dir: str | None = None
    env: list[str] = []
    position += 1
    rest: list[str] = []
    while position < len(argv):
        arg = argv[position]
        if arg == "--":
            rest = argv[position + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            rest = argv[position:]
            break
        position += 1
        # Flags may be grouped (`-ds NAME`): the first that takes a value ends the group.
        for offset, letter in enumerate(arg[1:], start=1):
            if letter not in _NEW_VALUES:
                continue
            value = arg[offset + 1 :]
            if not value:
                value = argv[position] if position < len(argv) else ""
                position += 1
            if letter == "s":
                name = value
            elif letter == "c":
                start_dir = value
            elif letter == "e":
                env.append(value)
            break
    if not name:
        raise ValueError("the tmux command has no `-s NAME`: add the session name")
    if ";" in rest:
        rest = rest[: rest.index(";")]  # `\;` ends the new-session command for tmux
    shell_command = rest[0] if len(rest) == 1 else shlex.join(rest)
    if start_dir is None:
        start_dir = leading_cd(shell_command)
    return TmuxNew(name, shell_command, start_dir, tuple(env), sockets.get("-L"), sockets.get("-S"))


def leading_cd(command: str) -> str | None:
    """The folder of a leading ``cd DIR &&``, as the shell reads DIR; else None."""
    if not command.lstrip().startswith("cd"):
        return None
    try:
        words = shell.tokens(command)[:3]
    except ValueError:
        return None
    if (
        len(words) == 3
        and words[0] == ("cd", False)
        and not words[1].operator
        and words[2] == ("&&", True)
        and words[1].text
    ):
        return words[1].text
    return None
