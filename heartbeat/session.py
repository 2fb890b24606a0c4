"""A session's anatomy (DESIGN §4, the seed's): how one is started, restarted and dated.

One owner for: the shell command a new session runs (cd, PATH fix, the agent,
the completion hook, the sleep tail), the re-run of a logged ``tmux … new``
line, the Ralph rewrite, the folder a restart may use, the PATH a new pane
gets (given to the tmux client as its environment — tmux hands the client's
PATH to a new pane and ignores ``-e PATH=``), and a note's start time.
"""

from __future__ import annotations

import datetime
import os
import re
import shlex
import typing as t
import zlib

import memory_schema as ms

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from heartbeat.config import Settings
    from heartbeat.profiles import Profile

#: The last command of the anatomy: it keeps the pane (and its output) alive.
TAIL = "sleep 999999"
TAIL_PROGRAM = "sleep"


class Launch(t.NamedTuple):
    """What tmux is asked to start: a session's name, shell command, folder and -e pairs."""

    name: str
    shell_command: str
    start_dir: str | None = None
    environment: tuple[str, ...] = ()


def shell_command(entry: ms.Entry) -> str:
    """The command the session's shell runs: a logged tmux line's own, else the entry's."""
    if entry.tmux_command:
        parsed = ms.parse_tmux_new(entry.command)
        if parsed is not None:
            return parsed.shell_command
    return entry.command


def build_launch(
    entry: ms.Entry,
    settings: Settings,
    known_dir: str | None = None,
    resumed: Callable[[str], str | None] | None = None,
) -> Launch:
    """The launch of *entry* per the seed's anatomy; *known_dir* is the pane's last folder.

    A logged full ``tmux … new …`` line is re-created as the user's shell ran it
    (its shell command, ``-c`` folder and ``-e`` pairs) on the configured socket.
    *resumed* turns the session's shell command into one that resumes the
    agent's conversation (its result None: start afresh).
    The folder is the note's, else the logged line's, else *known_dir*; never
    the check's own working folder. Raises ValueError saying what is missing.
    """
    if entry.tmux_command:
        parsed = ms.parse_tmux_new(entry.command)
        if parsed is None:
            raise ValueError("the logged tmux command is not a new-session command")
        if parsed.name != entry.name:
            raise ValueError(f"the logged tmux command names {parsed.name!r}, not {entry.name!r}")
        start = parsed.start_dir or folder(entry, known_dir)
        if start is None:
            raise ValueError(_NO_FOLDER)
        environment = tuple(parsed.environment)
        shell = (resumed(parsed.shell_command) if resumed else None) or parsed.shell_command
        return Launch(entry.name, shell, _expand(start), environment)
    where = entry.dir or known_dir
    if folder(entry, known_dir) is None:
        raise ValueError(_NO_FOLDER)
    command = (resumed(entry.command) if resumed else None) or entry.command
    return Launch(entry.name, anatomy(entry.name, command, where, settings))


def folder(entry: ms.Entry, known_dir: str | None = None) -> str | None:
    """The folder a session works in: the one rule restarts and verification follow.

    The note's ``dir``, else the logged line's own (``tmux new -c DIR``, or a
    leading ``cd DIR &&``), else *known_dir* — the folder its pane was last
    seen in. Never the check's own working folder: None when none is known.
    """
    if entry.dir:
        return entry.dir
    if entry.tmux_command:
        try:
            parsed = ms.parse_tmux_new(entry.command)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.start_dir:
            return parsed.start_dir
    else:
        cd = ms.leading_cd(entry.command)
        if cd:
            return cd
    return known_dir


_NO_FOLDER = (
    "no folder is known for it (the note gives none and the pane is gone), and it is not "
    "restarted in an unrelated one: add `dir: ~/path` to the entry"
)


def _expand(folder: str) -> str:
    """A logged folder as the user's shell read it (``~``, ``$HOME``, ``${VAR}``): tmux's
    ``-c`` and the anatomy's quoted ``cd`` expand nothing themselves."""
    return os.path.expanduser(os.path.expandvars(folder))


def resume_command(command: str, profile: Profile, session_id: str, prompt: str) -> str | None:
    """*command* with its agent's task replaced by a resume of *session_id* (None: cannot).

    The agent's last word is its task; it becomes the profile's resume words
    (codex: ``resume ID PROMPT`` after the exec options; Claude Code:
    ``--resume ID PROMPT``). The rest of the command line — ``cd``, the PATH
    fix, assignments, the hook — is kept byte for byte. A ``--session-id``
    given at start is dropped (the resumed session keeps its own).
    """
    from heartbeat.profiles import agent_words

    words = agent_words(command, profile)
    if not profile.resume or not words or len(words) < 2:
        return None
    task_start, task_end = words[-1]
    if command[task_start] == "-":
        return None  # no task word: the agent reads its task from stdin
    filled = [w.replace("{id}", session_id).replace("{prompt}", prompt) for w in profile.resume]
    text = command[:task_start] + shlex.join(filled) + command[task_end:]
    if profile.session_flag:
        flag = re.escape(profile.session_flag)
        text = re.sub(rf"\s{flag}(?:=|\s+)\S+", "", text, count=1)
    return text


def anatomy(name: str, command: str, directory: str | None, settings: Settings) -> str:
    """The seed's command: cd, PATH fix, the agent, the completion hook, the sleep tail."""
    parts = []
    where = ""
    if directory:
        parts.append(f"cd {shlex.quote(_expand(directory))} && ")
        where = f" in {directory}"
    prefix = settings.path_prefix.strip(":")
    path_fix = f"PATH={shlex.quote(prefix)}:$PATH " if prefix else ""
    # the hook on a line of its own: a `#` word in the command (`fix #42`) comments out
    # the rest of its line, and must not take the hook with it
    parts.append(f"{path_fix}{command}\n")
    parts.append("EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; ")
    if settings.notify:
        message = shlex.quote(f"{name} finished (exit ") + '"$EXIT_CODE"' + shlex.quote(f"){where}")
        argv = [shlex.quote(a) for a in settings.notify]
        if any("{message}" in a for a in settings.notify):
            argv = [
                message if a == "{message}" else shlex.quote(a.replace("{message}", name))
                for a in settings.notify
            ]
        else:
            argv.append(message)
        tool = shlex.quote(settings.notify[0])
        parts.append(f"command -v {tool} >/dev/null 2>&1 && {' '.join(argv)}; ")
    parts.append(TAIL)
    return "".join(parts)


def ralph_command(entry: ms.Entry) -> str | None:
    """``codex exec … 'TASK'`` as ``ralphy --codex 'TASK'`` (the seed's Ralph rule)."""
    if entry.tmux_command:
        return None
    try:
        argv = ms.split_shell(entry.command)
    except ValueError:
        return None
    if len(argv) < 3 or os.path.basename(argv[0]) != "codex" or argv[1] != "exec":
        return None
    task = next((a for a in reversed(argv[2:]) if not a.startswith("-")), None)
    return None if task is None else f"ralphy --codex {shlex.quote(task)}"


_NOISE = re.compile(r"""[\s'"\\]+""")


def squash(command: str) -> str:
    """*command* without quotes, backslashes and white space (tmux's ``\\n`` included).

    tmux reports a pane's start command quoted and escaped: squashed, it equals
    the command it was given, squashed.
    """
    return _NOISE.sub("", command.replace("\\n", " "))


def launch_stamp(command: str) -> str:
    """What is remembered of a command a restart started, to know its pane again."""
    squashed = squash(command)
    return f"{zlib.crc32(squashed.encode()):08x}:{len(squashed)}"


def account_environment(
    agents: Sequence[Profile], env: Mapping[str, str], given: Sequence[str] = ()
) -> tuple[str, ...]:
    """``VAR=value`` for each agent's account variable set (non-empty) in *env*.

    The variables are the profiles' ``account_env`` (``CODEX_HOME``,
    ``CLAUDE_CONFIG_DIR``, ``GEMINI_CLI_HOME``), for every agent, not only the
    one started: a Ralph loop runs codex. A new pane gets the tmux *server's*
    environment (as it was when the server started) plus its ``-e`` pairs, never
    the starting client's; these pairs make the agent use the account the check
    reads for it from its own environment. A variable *given* already (a logged
    ``-e VAR=…``) is left to it.
    """
    taken = {pair.split("=", 1)[0] for pair in given}
    names = sorted({p.account_env for p in agents if p.account_env} - taken)
    return tuple(f"{name}={env[name]}" for name in names if env.get(name))


def client_environment(settings: Settings, env: Mapping[str, str]) -> dict[str, str]:
    """The tmux client's environment: PATH with the configured prefix first (cron's is bare)."""
    current = env.get("PATH", "/usr/bin:/bin")
    missing = [p for p in settings.path_prefix.split(":") if p and p not in current.split(":")]
    return {**env, "PATH": ":".join([*missing, current])} if missing else dict(env)


DATE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def parse_started(
    text: str | None,
    now: datetime.datetime,
    day: datetime.date | None = None,
    *,
    past: bool = True,
) -> float | None:
    """The epoch time of a note's ``started``/``until`` text; None when it is not a time.

    A bare time ("23:58", "14:05 UTC", "2:30 PM") is on *day* (the date of the
    note it was written in; default *now*'s), never on the machine's date; with
    *past*, one that would be later than *now* is the day before's.
    """
    if not text:
        return None
    import pendulum

    from heartbeat.clock import as_pendulum

    here = as_pendulum(now)
    try:
        parsed = pendulum.parse(text, tz=here.timezone, strict=False, exact=True)
    except (ValueError, TypeError, OverflowError, pendulum.parsing.exceptions.ParserError):
        return None
    if isinstance(parsed, pendulum.DateTime) and DATE_RE.search(text):
        return parsed.timestamp()
    if not isinstance(parsed, pendulum.DateTime | pendulum.Time):
        return None
    zone = (parsed.tzinfo if isinstance(parsed, pendulum.DateTime) else None) or here.tzinfo
    base = day or here.date()
    moment = pendulum.datetime(
        base.year, base.month, base.day, parsed.hour, parsed.minute, parsed.second, tz=zone
    )
    if past and moment > here:
        moment = moment.subtract(days=1)
    return moment.timestamp()


def dated_start(text: str | None, day: datetime.date) -> str | None:
    """A bare start time ("08:18") with its note's date, for an entry carried to a new day."""
    if text and not DATE_RE.search(text) and re.match(r"\s*\d{1,2}:\d{2}", text):
        return f"{day.isoformat()} {text.strip()}"
    return text
