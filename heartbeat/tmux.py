"""tmux, asked in a constant number of client calls whatever the number of sessions.

One ``list-panes -a -F`` gives the state of every pane; one chained
``display-message ; capture-pane ; …`` gives the output of all of them, with
a per-pane fallback only when the chain breaks (tmux drops the rest of a chain
when one target fails). Sessions are addressed exactly: ``=NAME`` and pane ids.

This is a thin runner over the tmux binary rather than libtmux's object
queries: every call has a timeout (a hung server must not hang cron), the
calls are counted, and nothing else is imported at start-up.
"""

from __future__ import annotations

import collections
import os
import pathlib
import typing as t

from heartbeat import proc
from heartbeat.errors import TmuxError

if t.TYPE_CHECKING:
    from collections.abc import Collection

SEP = "\x1f"
FIELDS = (
    "session_name",
    "session_id",
    "pane_id",
    "pane_dead",
    "pane_dead_status",
    "pane_current_command",
    "window_activity",
    "pane_pid",
    "session_created",
    "pane_current_path",
    # last: tmux escapes it (quotes, `\n`), so it holds no separator of its own
    "pane_start_command",
)
FORMAT = SEP.join("#{" + f + "}" for f in FIELDS)
MARK = "HEARTBEAT-CAPTURE-MARK"
TIMEOUT = 15.0

ServerState = t.Literal["running", "no_server", "no_socket", "no_tmux", "error"]


class Pane(t.NamedTuple):
    session: str
    session_id: str
    pane_id: str
    dead: bool
    dead_status: int | None
    command: str
    activity: float
    pid: int | None
    created: float
    path: str = ""
    #: The command the pane was started with, as tmux quotes it ("": an interactive shell).
    start_command: str = ""


class Probe:
    """What one probe saw: the server's state, the panes per session, their output.

    (Plain classes here and in ``Tmux``: a dataclass costs every check its build at import.)
    """

    def __init__(
        self,
        server: ServerState,
        message: str = "",
        panes: dict[str, list[Pane]] | None = None,
        output: dict[str, str] | None = None,
    ) -> None:
        self.server = server
        self.message = message
        self.panes = {} if panes is None else panes
        self.output = {} if output is None else output
        self._by_id: dict[str, Pane] | None = None

    def __repr__(self) -> str:
        return f"Probe({self.server!r}, {self.message!r}, {len(self.panes)} sessions)"

    def session_panes(self, name: str) -> list[Pane]:
        return self.panes.get(name, [])

    def pane(self, pane_id: str) -> Pane | None:
        """The pane of this id, in whatever session it is now."""
        if self._by_id is None or len(self._by_id) != sum(map(len, self.panes.values())):
            self._by_id = {p.pane_id: p for panes in self.panes.values() for p in panes}
        return self._by_id.get(pane_id)


class Tmux:
    """The tmux server on one socket path; counts the client processes it starts."""

    def __init__(
        self,
        socket: pathlib.Path,
        binary: str | None = None,
        calls: int = 0,
        timeout: float = TIMEOUT,
    ) -> None:
        self.socket = socket
        self.binary = binary
        self.calls = calls
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Tmux({str(self.socket)!r})"

    def _binary(self) -> str:
        if self.binary is None:
            found = proc.which("tmux")
            if not found:
                raise TmuxError(
                    "tmux is not on PATH; install it (apt-get install tmux / brew install tmux) "
                    "or add its folder to path_prefix in the config"
                )
            self.binary = found
        return self.binary

    def run(
        self,
        *args: str,
        env: t.Mapping[str, str] | None = None,
        wrap: t.Callable[[list[str]], list[str]] | None = None,
    ) -> proc.Result:
        """Run ``tmux -S SOCKET ARGS``; raises TmuxError when tmux cannot be run or hangs.

        *env* is the client's environment: a new pane gets the client's PATH.
        """
        argv = [self._binary(), "-S", str(self.socket), *args]
        if wrap is not None:
            argv = wrap(argv)
        self.calls += 1
        result = proc.run(argv, timeout=self.timeout, env=env, errors="backslashreplace")
        if result.returncode is None:
            if result.error and result.error.startswith("timed out"):
                raise TmuxError(
                    f"tmux on {self.socket} did not answer in {self.timeout:.0f} s; "
                    "the server may be stuck: check it with `tmux -S SOCKET list-sessions`"
                )
            raise TmuxError(f"tmux could not be run: {result.error}")
        return result

    def server_state(self, stderr: str) -> tuple[ServerState, str]:
        if not self.socket.parent.exists():
            return "no_socket", f"the socket's folder {self.socket.parent} does not exist"
        if not os.path.lexists(self.socket):
            return "no_socket", f"no tmux socket at {self.socket}"
        if (
            "no server running" in stderr
            or "error connecting" in stderr
            or "Connection refused" in stderr
        ):
            return "no_server", f"no tmux server is running on {self.socket}"
        return "error", stderr.strip() or "tmux failed"

    def probe(self, names: t.Collection[str] | None = None, lines: int = 200) -> Probe:
        """List every pane (one call), then capture the panes of *names* (one chained call).

        Never raises for a missing server, socket or tmux binary: those are
        the probe's ``server`` state. *names* None captures every session.
        """
        probe = self.list_panes()
        wanted = [
            pane
            for name, panes in probe.panes.items()
            if names is None or name in names
            for pane in panes
        ]
        probe.output = self.capture([p.pane_id for p in wanted], lines)
        return probe

    def list_panes(self) -> Probe:
        """Every pane of the server, in one call, without output; never raises."""
        try:
            listing = self.run("list-panes", "-a", "-F", FORMAT)
        except TmuxError as error:
            kind: ServerState = "no_tmux" if "not on PATH" in str(error) else "error"
            return Probe(kind, str(error))
        if listing.returncode != 0:
            state, message = self.server_state(listing.stderr)
            return Probe(state, message)
        probe = Probe("running")
        for line in listing.stdout.splitlines():
            pane = _parse_pane(line)
            if pane is not None:
                probe.panes.setdefault(pane.session, []).append(pane)
        return probe

    def capture(self, pane_ids: list[str], lines: int = 200) -> dict[str, str]:
        """Output of each pane (joined wrapped lines, last *lines* of history)."""
        if not pane_ids:
            return {}
        args: list[str] = []
        for index, pane_id in enumerate(pane_ids):
            if args:
                args.append(";")
            args += ["display-message", "-p", "-t", pane_id, f"{MARK}:{index}", ";"]
            args += ["capture-pane", "-p", "-J", "-t", pane_id, "-S", f"-{lines}"]
        try:
            result = self.run(*args)
        except TmuxError:
            return {}
        output: dict[str, str] = {}
        current: int | None = None
        chunks: dict[int, list[str]] = {}
        for line in result.stdout.split("\n"):
            if line.startswith(MARK + ":"):
                try:
                    current = int(line.split(":", 1)[1])
                except ValueError:
                    current = None
                chunks[current if current is not None else -1] = []
            elif current is not None:
                chunks[current].append(line)
        complete = set(chunks)
        if result.returncode != 0 and chunks:
            complete.discard(max(chunks))  # the chain broke at or after the last mark seen
        for index, pane_id in enumerate(pane_ids):
            if index in complete:
                output[pane_id] = "\n".join(chunks[index]).rstrip("\n")
        missing = [p for i, p in enumerate(pane_ids) if i not in complete]
        if result.returncode != 0:
            for pane_id in missing:
                single = self.run("capture-pane", "-p", "-J", "-t", pane_id, "-S", f"-{lines}")
                if single.returncode == 0:
                    output[pane_id] = single.stdout.rstrip("\n")
        return output

    def new_session(
        self,
        name: str,
        shell_command: str,
        start_dir: str | None = None,
        environment: t.Sequence[str] = (),
        *,
        replace: bool | str = False,
        client_env: t.Mapping[str, str] | None = None,
        wrap: t.Callable[[list[str]], list[str]] | None = None,
    ) -> proc.Result:
        """Create session *name*; with *replace*, kill the old one first in the same call.

        *replace* True kills the session of that name; a string is the exact
        target to kill (a session id, ``$3``). One chained call: killing the
        server's last session and creating the new one in two calls races the
        server's exit (the second client may reach a server that is shutting
        down). *wrap* turns the client's argv into the one run (a systemd scope,
        when this call may start the server).
        """
        target = replace if isinstance(replace, str) else f"={name}"
        args = ["kill-session", "-t", target, ";"] if replace else []
        args += ["new-session", "-d", "-s", name, "-x", "200", "-y", "50"]
        args += _spawn(shell_command, start_dir, environment)
        return self.run(*args, env=client_env, wrap=wrap)

    def new_window(
        self,
        session: str,
        shell_command: str,
        start_dir: str | None = None,
        environment: t.Sequence[str] = (),
        *,
        client_env: t.Mapping[str, str] | None = None,
    ) -> proc.Result:
        """A new window in session *session* (exactly that name) running *shell_command*."""
        args = ["new-window", "-d", "-t", f"={session}:"]
        args += _spawn(shell_command, start_dir, environment)
        return self.run(*args, env=client_env)

    def respawn_pane(
        self,
        pane_id: str,
        shell_command: str,
        start_dir: str | None = None,
        environment: t.Sequence[str] = (),
        *,
        client_env: t.Mapping[str, str] | None = None,
    ) -> proc.Result:
        """Run *shell_command* afresh in pane *pane_id* (``respawn-pane -k``), nothing else.

        The session's other windows and panes — what the user opened — are left
        as they are; only the process in this pane is replaced.
        """
        # the old run's lines must not be read as the new one's: its history goes first
        args = ["clear-history", "-t", pane_id, ";", "respawn-pane", "-k", "-t", pane_id]
        args += _spawn(shell_command, start_dir, environment)
        return self.run(*args, env=client_env)

    def kill_session(self, name: str) -> proc.Result:
        return self.run("kill-session", "-t", f"={name}")

    def has_session(self, name: str) -> bool:
        return self.run("has-session", "-t", f"={name}").returncode == 0


def _parse_pane(line: str) -> Pane | None:
    parts = line.split(SEP)
    if len(parts) != len(FIELDS):
        return None
    values = dict(zip(FIELDS, parts, strict=True))

    def number(key: str) -> float:
        try:
            return float(values[key])
        except ValueError:
            return 0.0

    status = values["pane_dead_status"]
    pid = values["pane_pid"]
    return Pane(
        session=values["session_name"],
        session_id=values["session_id"],
        pane_id=values["pane_id"],
        dead=values["pane_dead"] == "1",
        dead_status=int(status) if status.lstrip("-").isdigit() else None,
        command=values["pane_current_command"],
        activity=number("window_activity"),
        pid=int(pid) if pid.isdigit() else None,
        created=number("session_created"),
        path=values["pane_current_path"],
        start_command=values["pane_start_command"],
    )


# ---------------------------------------------------------- which panes still run something
#
# A pane's ``pane_current_command`` names its process group's leader. Under a
# non-interactive shell (tmux runs the session's command with ``sh -c``) the agent
# runs in the shell's own group, so the pane says ``sh``/``bash`` whether the agent
# is still working or the shell has reached the anatomy's tail. The process tree
# says which: one ``ps`` for all the panes, as one ``list-panes`` is for their state.

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "fish", "ash", "mksh"})
#: Seconds ``ps`` may take.
PS_TIMEOUT = 10.0


def busy(pids: Collection[int], tail: str) -> set[int] | None:
    """The pids among *pids* with a descendant other than *tail*; None when ps fails.

    ``ps -A -o pid=,ppid=,comm=`` is the same on Linux and macOS.
    """
    if not pids:
        return set()
    env = {**os.environ, "LC_ALL": "C"}
    listing = proc.run(["ps", "-A", "-o", "pid=,ppid=,comm="], timeout=PS_TIMEOUT, env=env)
    if not listing.ok:
        return None
    children: dict[int, list[tuple[int, str]]] = collections.defaultdict(list)
    for line in listing.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            name = os.path.basename(parts[2].strip())
            children[int(parts[1])].append((int(parts[0]), name))
    found = set()
    for pid in pids:
        stack = list(children.get(pid, ()))
        while stack:
            child, name = stack.pop()
            if name != tail:
                found.add(pid)
                break
            stack.extend(children.get(child, ()))
    return found


def _spawn(shell_command: str, start_dir: str | None, environment: t.Sequence[str]) -> list[str]:
    """The arguments every command that starts a process takes: its folder, its
    ``-e`` pairs and the shell command (new-session, new-window, respawn-pane)."""
    args = ["-c", start_dir] if start_dir else []
    for pair in environment:
        args += ["-e", pair]
    return [*args, shell_command]
