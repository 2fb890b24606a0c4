"""Shell words as POSIX ``sh`` reads them, in linear time.

A note logs the command the user typed; re-running it must give what their
shell gave. So quoting follows POSIX, not ``shlex``: inside double quotes a
backslash escapes only ``$``, `````, ``"``, ``\\`` and a newline (``"\\$PATH"``
is ``$PATH``, which ``shlex`` keeps as ``\\$PATH``); a backslash-newline joins
lines, outside single quotes; single quotes are literal; ``#`` at the start of
a word begins a comment; a newline, ``;``, ``&``, ``|``, ``<``, ``>``, ``(``
and ``)`` outside quotes are operators. Parameter expansions, command substitutions and
backticks are kept as written, for the shell that runs the command later.

Also logged ``tmux ... new-session ...`` command lines (``parse_tmux_new``): the
session they create, and how.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import typing as t

# -------------------------------------------------------------- shell words

#: Errors, in shlex's words where shlex has one (callers map them to advice).
UNCLOSED = "No closing quotation"
LONE_BACKSLASH = "No escaped character"

_BLANKS = " \t\r\n"
_OPERATORS = frozenset({"&&", "||", ";;", ">>", "<<", ">&", "<&", ">|", "<>"})
_PLAIN_RUN = re.compile(r"[^ \t\r\n'\"\\$`;&|<>()]+")
_QUOTED_RUN = re.compile(r'[^"\\$`]+')


class Token(t.NamedTuple):
    """A word (quotes removed) or a control/redirection operator.

    *start* and *end* are where a word stands in the command as written (its
    quotes included): a caller may replace it there and keep every other byte.
    """

    text: str
    operator: bool = False
    start: int = -1
    end: int = -1


def tokens(command: str) -> list[Token]:
    """Split *command* into words and operators as ``sh`` would, in linear time.

    Raises ValueError ("No closing quotation" for an open quote, backtick or
    substitution; "No escaped character" for a final lone backslash).
    """
    out: list[Token] = []
    word: list[str] = []
    in_word = False
    begun = 0
    index, size = 0, len(command)
    while index < size:
        char = command[index]
        if char == "\\" and command.startswith(("\\\n", "\\\r\n"), index):
            index += 2 if command[index + 1] == "\n" else 3  # a continuation joins lines
            continue
        if char == "\n":
            if in_word:
                out.append(Token("".join(word), False, begun, index))
                word, in_word = [], False
            out.append(Token("\n", operator=True))  # a newline ends a command
            index += 1
            continue
        if char in _BLANKS:
            if in_word:
                out.append(Token("".join(word), False, begun, index))
                word, in_word = [], False
            index += 1
            continue
        if char == "#" and not in_word:
            end = command.find("\n", index)
            index = size if end < 0 else end
            continue
        if char in ";&|<>()":
            if in_word:
                out.append(Token("".join(word), False, begun, index))
                word, in_word = [], False
            following = index + 1
            while command.startswith(("\\\n", "\\\r\n"), following):
                following += 2 if command[following + 1] == "\n" else 3
            if char + command[following : following + 1] in _OPERATORS:
                out.append(Token(char + command[following], operator=True))
                index = following + 1
            else:
                out.append(Token(char, operator=True))
                index += 1
            continue
        if not in_word:
            begun = index
        in_word = True
        if char == "'":
            end = command.find("'", index + 1)
            if end < 0:
                raise ValueError(UNCLOSED)
            word.append(command[index + 1 : end])
            index = end + 1
        elif char == '"':
            index = _double_quoted(command, index + 1, word)
        elif char == "\\":
            if index + 1 >= size:
                raise ValueError(LONE_BACKSLASH)
            word.append(command[index + 1])
            index += 2
        elif char in "$`":
            end = _expansion_end(command, index)
            word.append(command[index:end])
            index = end
        else:
            run = _PLAIN_RUN.match(command, index)
            assert run is not None
            word.append(run.group())
            index = run.end()
    if in_word:
        out.append(Token("".join(word), False, begun, size))
    return out


def split_shell(command: str) -> list[str]:
    """The words of *command* as ``sh`` reads them (operators are words of their own).

    Raises ValueError as :func:`tokens` does.
    """
    return [token.text for token in tokens(command)]


def _double_quoted(command: str, index: int, word: list[str]) -> int:
    """Read a double-quoted string's content into *word*; return the index after it."""
    size = len(command)
    while True:
        if index >= size:
            raise ValueError(UNCLOSED)
        char = command[index]
        if char == '"':
            return index + 1
        if char == "\\":
            if index + 1 >= size:
                raise ValueError(UNCLOSED)
            following = command[index + 1]
            if following == "\n":
                pass  # a continuation: both characters go
            elif following in '$`"\\':
                word.append(following)
            else:
                word.append(char + following)
            index += 2
        elif char in "$`":
            end = _expansion_end(command, index)
            word.append(command[index:end])
            index = end
        else:
            run = _QUOTED_RUN.match(command, index)
            assert run is not None
            word.append(run.group())
            index = run.end()


def _expansion_end(command: str, index: int) -> int:
    """The end of the ``$(...)``, ``${...}`` or backtick expansion at *index*.

    A ``$`` that opens neither is one character. Nested quotes, expansions and
    parentheses are followed with a stack of what is open, so the scan is
    linear. Raises ValueError when the expansion is never closed.
    """
    size = len(command)
    opener = command[index : index + 2]
    if opener in ("$(", "${"):
        stack, position = [opener[1]], index + 2
    elif opener[:1] == "`":
        stack, position = ["`"], index + 1
    else:
        return index + 1
    closers = {"(": ")", "{": "}", "`": "`", '"': '"'}
    while stack:
        if position >= size:
            raise ValueError(UNCLOSED)
        char = command[position]
        top = stack[-1]
        if char == "\\":
            position += 2
            continue
        if char == closers[top]:
            stack.pop()
        elif top == "`":
            pass
        elif char == "$" and command[position + 1 : position + 2] in ("(", "{"):
            stack.append(command[position + 1])
            position += 1
        elif char == "`" or (char == '"' and top != '"'):
            stack.append(char)
        elif top == '"':
            pass
        elif char == "'":
            end = command.find("'", position + 1)
            if end < 0:
                raise ValueError(UNCLOSED)
            position = end
        elif char == "(" and top == "(":
            stack.append("(")
        position += 1
    return position


_JOIN_MARKS = re.compile(r"\\\r?\n([ \t]*)|\\.|['\"#]", re.S)


def join_continuations(command: str) -> str:
    """Join backslash-newline continuations as ``sh`` does, and trim.

    Outside quotes a continuation and the blanks around it are one word break
    (or nothing, inside a word); inside double quotes only the backslash and
    the newline go, the next line's indentation stays. Inside single quotes
    and comments nothing is joined. Linear in the length of *command*.
    """
    out: list[str] = []
    start = index = 0
    state = ""  # "", "'", '"' or "#"
    escaped = -1
    while True:
        if state in ("'", "#"):
            end = command.find("'" if state == "'" else "\n", index)
            if end < 0:
                break
            index, state = end + 1, ""
            continue
        mark = _JOIN_MARKS.search(command, index)
        if mark is None:
            break
        text = mark.group()
        index = mark.end()
        if text[0] == "\\" and mark.group(1) is None:
            escaped = index  # the escaped character is no word boundary
        elif mark.group(1) is not None:
            out.append(command[start : mark.start()])
            start = index
            if state == '"':
                out.append(mark.group(1))
            elif mark.group(1):
                while out and not out[-1].rstrip(" \t"):
                    out.pop()
                if out:
                    out[-1] = _rstrip_blanks(out[-1])
                out.append(" ")
        elif text == "'" and state == "":
            state = "'"
        elif text == '"':
            state = "" if state == '"' else '"'
        elif text == "#" and state == "" and mark.start() != escaped:
            before = command[start : mark.start()] or next((p for p in reversed(out) if p), "")
            if not before or before[-1] in _BLANKS or before[-1] in ";&|<>()":
                state = "#"  # at the start of a word: a comment
    out.append(command[start:])
    return _rstrip_blanks("".join(out).lstrip(), " \t\r\n")


def _rstrip_blanks(text: str, blanks: str = " \t") -> str:
    """*text* without trailing blanks, but for one that a backslash escapes."""
    trimmed = text.rstrip(blanks)
    backslashes = len(trimmed) - len(trimmed.rstrip("\\"))
    if backslashes % 2 and text[len(trimmed) : len(trimmed) + 1] in (" ", "\t"):
        trimmed += text[len(trimmed)]  # an escaped blank is part of the last word
    return trimmed


def balanced(command: str) -> bool:
    """True when *command* reads as shell words (quotes and expansions closed)."""
    try:
        tokens(command)
    except ValueError:
        return False
    return True


# --------------------------------------------------- tmux new-session lines

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
    words = tokens(command)
    for before, inside, after in zip(words, words[1:], words[2:], strict=False):
        if before[:2] == ("<", True) and not inside.operator and after[:2] == (">", True):
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
        words = tokens(command)[:3]
    except ValueError:
        return None
    if (
        len(words) == 3
        and words[0][:2] == ("cd", False)
        and not words[1].operator
        and words[2][:2] == ("&&", True)
        and words[1].text
    ):
        return words[1].text
    return None
