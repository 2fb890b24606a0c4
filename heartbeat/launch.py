"""`heartbeat launch`: start an agent in tmux with the seed's anatomy, and log it.

The session is started with the very command a restart would use
(``heartbeat.session.build_launch`` over the entry that goes into the note), so
that a session the heartbeat restarts is the session the user launched: stable
socket, the name, the PATH fix, the agent, the completion hook (``EXITED:`` and
the notification) and the sleep tail.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import shlex
import typing as t
import uuid

import memory_schema as ms
from heartbeat import notes, profiles
from heartbeat.config import expand
from heartbeat.errors import HeartbeatError, TmuxError, UsageError
from heartbeat.installed import installed
from heartbeat.session import account_environment, build_launch, client_environment
from heartbeat.tmux import Tmux

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.profiles import Profile

#: The PRD ralphy works from when --prd is not given (the seed's).
DEFAULT_PRD = "PRD.md"


@dataclasses.dataclass(frozen=True)
class LaunchResult:
    """What `launch` started and where it logged it."""

    name: str
    command: str
    dir: str
    socket: pathlib.Path
    shell_command: str
    note: pathlib.Path
    started: str
    #: What was changed so that the installed agent accepts the command, or will not work.
    warnings: tuple[str, ...] = ()

    @property
    def attach(self) -> str:
        """The command that shows the session (exact target: ``=NAME``)."""
        return f"tmux -S {shlex.quote(str(self.socket))} attach -t ={self.name}"

    @property
    def peek(self) -> str:
        """The command that prints the session's last lines without attaching."""
        socket = shlex.quote(str(self.socket))
        return f"tmux -S {socket} capture-pane -p -t ={self.name}: | tail -20"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "command": self.command,
            "dir": self.dir,
            "socket": str(self.socket),
            "shell_command": self.shell_command,
            "note": str(self.note),
            "started": self.started,
            "warnings": list(self.warnings),
            "attach": self.attach,
            "peek": self.peek,
        }


def agent_command(
    task: Sequence[str],
    directory: pathlib.Path,
    *,
    command: str | None = None,
    ralph: bool = False,
    parallel: bool = False,
    prd: str | None = None,
) -> str:
    """The command line the session runs, from the launch options.

    - ``command``: run as given (no task words, no Ralph options with it);
    - ``ralph`` (or ``parallel``/``prd``, which only Ralph has):
      ``ralphy --codex [--parallel] --prd PRD.md``; the tasks are the PRD's
      ``- [ ]`` lines, so task words are refused, and so is a missing PRD;
    - otherwise ``codex exec -s workspace-write 'TASK'``, the task words joined by
      spaces (``--full-auto``, the seed's, was removed in codex 0.147).

    Raises UsageError saying which option to change.
    """
    words = " ".join(task).strip()
    if command is not None:
        if words or ralph or parallel or prd is not None:
            raise UsageError(
                "--command runs CMD as given: drop the task words and --ralph/--parallel/--prd, "
                "or drop --command"
            )
        return _one_line(command.strip(), "--command", shell=True)
    if ralph or parallel or prd is not None:
        if words:
            raise UsageError(
                "the Ralph loop works through the `- [ ]` tasks of its PRD, not task words: "
                f"write the task in {prd or DEFAULT_PRD} (`- [ ] {words[:40]}`), "
                "or drop --ralph/--parallel/--prd to run it with `codex exec`"
            )
        prd_name = prd or DEFAULT_PRD
        prd_path = directory / os.path.expanduser(prd_name)
        if not prd_path.is_file():
            raise UsageError(
                f"no PRD at {prd_path}: write the tasks there as `- [ ] task` lines "
                "(the seed's PRD format), or name another file with --prd FILE"
            )
        argv = ["ralphy", "--codex", *(["--parallel"] if parallel else []), "--prd", prd_name]
        return shlex.join(argv)
    if not words:
        raise UsageError(
            "no task given: put it after `--`, e.g. "
            "`heartbeat launch NAME --dir DIR -- 'Fix the login redirect'` "
            "(or use --ralph with a PRD, or --command CMD)"
        )
    task_text = _one_line(words, "the task", shell=False)
    return f"codex exec -s workspace-write {shlex.quote(task_text)}"


def _one_line(text: str, what: str, *, shell: bool) -> str:
    """*text* when it is one line (and, for a shell command, one the shell can read)."""
    if not text:
        raise UsageError(f"{what} is empty: give the command the session should run")
    if any(c in text for c in "\r\n\0"):
        raise UsageError(
            f"{what} spans several lines; the daily note keeps one line per command: "
            "put it on one line (or in a script the session runs)"
        )
    try:
        if shell:
            ms.split_shell(text)
    except ValueError as error:
        raise UsageError(f"{what} cannot be read by a shell ({error}): fix its quotes") from None
    return text


def launch(
    settings: Settings,
    now: pendulum.DateTime,
    name: str,
    directory: str | os.PathLike[str],
    command: str,
    *,
    date: datetime.date | None = None,
    tmux: Tmux | None = None,
) -> LaunchResult:
    """Start *command* in a new tmux session *name* and add it to the note of *date*.

    Refuses (UsageError, exit 2), before starting anything: a name tmux cannot
    hold, a folder that does not exist, a name already active in the notes, a
    session of that exact name on the socket (``=NAME``: ``auth`` is free while
    ``auth-fix`` runs), a notes folder writable by others. Creates the socket's
    folder (mode 700) when missing. Gives the tmux client the configured PATH
    prefix first (tmux gives the pane the client's PATH), and the session the
    agents' account variables of this environment (``account_environment``: a
    pane gets the server's environment, not the client's). When the note
    cannot be written after the session started, the session is killed again
    and the error raised: a session runs only if the heartbeat can see it.
    """
    problem = ms.name_problem(name)
    if problem:
        raise UsageError(problem)
    folder = project_folder(directory)
    day = date or datetime.date(now.year, now.month, now.day)

    listed = notes.list_entries(settings, day)
    loose = notes.permission_problems(settings, listed.notes)
    if loose:
        raise UsageError(f"{loose[0].file}: {loose[0].message}; the check would refuse it")
    existing = next((e for e in listed.entries if e.name == name and e.active), None)
    if existing is not None:
        raise UsageError(
            f"{name!r} is already listed as active at {existing.source}; pick another name, "
            f"or `heartbeat notes done {name}` (or `remove`) first"
        )

    tmux = tmux or Tmux(settings.socket)
    _ensure_socket_folder(tmux.socket)
    if tmux.has_session(name):
        raise UsageError(
            f"a tmux session named {name!r} already exists on {tmux.socket}; pick another name, "
            f"or look at it: tmux -S {shlex.quote(str(tmux.socket))} attach -t ={name}"
        )

    command, warnings = fit_command(command, settings)
    note = ms.note_path(settings.notes_dir, day)
    entry = ms.Entry(name=name, command=command, file=note, line=0, end_line=0, dir=str(folder))
    launch = build_launch(entry, settings)
    shell = launch.shell_command
    agents = profiles.load(settings.profiles, settings.signatures).agents
    accounts = account_environment(agents, os.environ, launch.environment)
    started = tmux.new_session(
        name,
        shell,
        launch.start_dir,
        (*launch.environment, *accounts),
        client_env=client_environment(settings, os.environ),
    )
    if started.returncode != 0:
        message = started.stderr.strip() or f"exit status {started.returncode}"
        if "duplicate session" in message:
            raise UsageError(f"a tmux session named {name!r} was started meanwhile: {message}")
        raise TmuxError(
            f"tmux could not start {name!r} on {tmux.socket}: {message}; "
            f"check the server with `tmux -S {shlex.quote(str(tmux.socket))} list-sessions`"
        )
    try:
        notes.add(settings, day, now, name, command, str(folder))
    except (HeartbeatError, ms.NoteError):
        tmux.kill_session(name)
        raise
    return LaunchResult(
        name=name,
        command=command,
        dir=str(folder),
        socket=tmux.socket,
        shell_command=shell,
        note=note,
        started=now.format("YYYY-MM-DD HH:mm"),
        warnings=tuple(warnings),
    )


def fit_command(command: str, settings: Settings) -> tuple[str, list[str]]:
    """*command* as the installed agent accepts it, and what was changed or will not work.

    A flag the installed agent rejects (asked of the binary, cached by
    version) is replaced by its profile's rewrite. An agent that takes its
    session id at start (Claude Code's ``--session-id``) is given one, so a
    restart can resume that conversation. A Ralph loop whose engine rejects
    the flags ralphy passes it is reported, not changed.
    """
    loaded = profiles.load(settings.profiles, settings.signatures)
    profile = loaded.recognise(command)
    if profile is None:
        return command, []
    path = client_environment(settings, os.environ)["PATH"]
    warnings = []
    agent = installed(profile, path, settings.state_dir)
    for change in profile.rewrites:
        if change.flag in agent.rejects:
            command = change.apply(command)
            warnings.append(
                f"{profile.name} {agent.version or ''} rejects `{change.flag}`: "
                f"launched with `{change.replacement}` instead".replace("  ", " ")
            )
    command = with_session_id(command, profile)
    engine = loaded.engine(profile, command)
    if engine is not None and engine.rewrites:
        inner = installed(engine, path, settings.state_dir)
        for change in engine.rewrites:
            if change.flag in inner.rejects:
                warnings.append(
                    f"{profile.name} {agent.version or ''} may pass `{change.flag}` to "
                    f"{engine.name} {inner.version or ''}, which rejects it: its tasks can fail "
                    "at once (watch the first task; upgrade it if they do)"
                )
    return command, warnings


def with_session_id(command: str, profile: Profile, session_id: str | None = None) -> str:
    """*command* with ``FLAG UUID`` after the agent's name, where its profile takes one at
    start and the command gives none (Claude Code: ``claude --session-id UUID -p …``)."""
    flag = profile.session_flag
    words = profiles.agent_words(command, profile)
    if not flag or not words or any(command[a:b].startswith(flag) for a, b in words):
        return command
    end = words[0][1]
    return f"{command[:end]} {flag} {session_id or uuid.uuid4()}{command[end:]}"


def project_folder(directory: str | os.PathLike[str]) -> pathlib.Path:
    """The session's folder, absolute (``~`` expanded); UsageError when it is no folder."""
    folder = pathlib.Path(os.path.normpath(expand(directory).absolute()))
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"--dir {directory}: {folder} {what}; create it or fix the path")
    return folder


def _ensure_socket_folder(socket: pathlib.Path) -> None:
    """Create the socket's folder, private (700), when it does not exist yet."""
    folder = socket.parent
    if folder.is_dir():
        return
    try:
        folder.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not folder.is_dir():
            raise UsageError(
                f"{folder} is not a folder, so the tmux socket {socket} cannot live there; "
                "move that file or set HEARTBEAT_SOCKET"
            ) from None
    except OSError as error:
        raise UsageError(
            f"cannot create the socket's folder {folder} ({error.strerror}); "
            "create it (mkdir -m 700) or set HEARTBEAT_SOCKET"
        ) from None
    folder.chmod(0o700)
