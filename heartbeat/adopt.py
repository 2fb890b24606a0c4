"""`heartbeat notes adopt NAME`: log an agent session that no note lists (DESIGN §4).

The session is read from tmux — the command its pane was started with (the
seed's anatomy, a plain command, or what runs in an interactive shell), its
folder and its start — and logged in today's note in the canonical form, so
the next check watches it like any other.
"""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import typing as t

import memory_schema as ms
from heartbeat import notes, proc
from heartbeat.check.identity import interactive, socket_folder, start_text
from heartbeat.errors import UsageError
from heartbeat.tmux import Tmux

if t.TYPE_CHECKING:
    import datetime

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.tmux import Pane

_PATH_FIX = re.compile(r"^PATH=\S+\s+")


def adopt(
    settings: Settings,
    date: datetime.date,
    now: pendulum.DateTime,
    name: str,
    socket: pathlib.Path | None = None,
) -> notes.NotesResult:
    """Log session *name* (on *socket*, else the stable socket, else tmux's default one).

    Raises UsageError when no watched server has that session, or when it is
    already listed (notes.add's errors).
    """
    sockets = [socket] if socket else [settings.socket, socket_folder(os.environ) / "default"]
    for path in sockets:
        probe = Tmux(path).list_panes()
        panes = probe.session_panes(name)
        if panes:
            pane = panes[0]
            command, folder = agent_command(pane)
            if path != settings.socket:
                command = (
                    f"tmux -S {shlex.quote(str(path))} new -d -s {name} {shlex.quote(command)}"
                )
            started = now.subtract(seconds=max(0.0, now.timestamp() - pane.created))
            return notes.add(settings, date, started, name, command, folder)
    where = " or ".join(str(p) for p in sockets)
    raise UsageError(
        f"no tmux session {name!r} on {where}; `tmux -S SOCKET list-sessions` lists them, "
        "and --socket names another server"
    )


def agent_command(pane: Pane) -> tuple[str, str | None]:
    """The command to log for *pane*, and its folder.

    The seed's anatomy gives its agent line (without ``cd DIR &&``, the PATH fix
    and the hook); another start command is logged as it is; an interactive
    shell gives what runs in it. The folder is the anatomy's ``cd``, else the
    pane's current one.
    """
    folder: str | None = pane.path or None
    if not interactive(pane):
        text = start_text(pane.start_command)
        first = text.split("\n", 1)[0] if "\nEXIT_CODE=" in text else text
        cd = re.match(r"^\s*cd\s+(\S+)\s*&&\s*", first)
        if cd:
            try:
                folder = ms.split_shell(cd.group(1))[0]
            except ValueError:
                folder = cd.group(1)
            first = first[cd.end() :]
        return _PATH_FIX.sub("", first.strip()), folder
    child = _foreground(pane.pid)
    if child is None:
        raise UsageError(
            f"session {pane.session!r} is an interactive shell with nothing running in it: "
            "there is no agent to adopt"
        )
    return child, folder


def _foreground(pid: int | None) -> str | None:
    """The command line of the first process the shell *pid* runs."""
    if pid is None:
        return None
    listing = proc.run(["ps", "-A", "-o", "pid=,ppid=,args="], timeout=10.0)
    if not listing.ok:
        return None
    for line in listing.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] == str(pid):
            return parts[2].strip()
    return None
