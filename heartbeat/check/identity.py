"""Identity and ownership (DESIGN §4): which server, which pane is the agent's, and whose it is.

A session is its server (the ``-L NAME`` / ``-S PATH`` of a logged ``tmux …
new`` line, tmux's default socket when that line names none, else the stable
socket), its name, and the ids a check saw last time (pane id, session id,
the pane's pid). The pane is the unit: a check acts on the agent's pane
only, and only when it can tie that pane to the logged agent.

Pure: reads a ``Probe`` (what ``list-panes`` listed) and the remembered state.
"""

from __future__ import annotations

import os
import pathlib
import re
import typing as t

import memory_schema as ms
from heartbeat.profiles import resolve_folder
from heartbeat.session import TAIL_PROGRAM, launch_stamp, shell_command, squash
from heartbeat.tmux import SHELLS

if t.TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from heartbeat.state import SessionState
    from heartbeat.tmux import Pane, Probe

#: Programs that are an agent (or the runtime an npm agent runs in) when a user
#: started them by hand in an interactive shell: running, not someone else's.
AGENT_PROGRAMS = frozenset({"codex", "claude", "gemini", "ralphy", "node", "bun", "npx"})


def server_of(entry: ms.Entry, stable: pathlib.Path, env: Mapping[str, str]) -> pathlib.Path:
    """The socket path of the server *entry* runs on.

    A logged ``tmux -S PATH new …`` line names its server; ``tmux -L NAME new …``
    names a socket in tmux's folder (``$TMUX_TMPDIR/tmux-UID/NAME``); a tmux
    line with neither runs on tmux's default socket. Any other entry runs on
    the stable socket (*stable*), where the heartbeat starts sessions.
    """
    if not entry.tmux_command:
        return stable
    try:
        parsed = ms.parse_tmux_new(entry.command)
    except ValueError:
        parsed = None
    if parsed is None:
        return stable
    if parsed.socket_path:
        # as the user's shell read it: `~`, `$HOME`, `${VAR}` (one folder however spelled)
        return pathlib.Path(resolve_folder(parsed.socket_path, env) or parsed.socket_path)
    return socket_folder(env) / (parsed.socket_name or "default")


def socket_folder(env: Mapping[str, str]) -> pathlib.Path:
    """tmux's own folder for named sockets: ``$TMUX_TMPDIR/tmux-UID`` (TMUX_TMPDIR: /tmp)."""
    base = env.get("TMUX_TMPDIR") or "/tmp"
    return pathlib.Path(base) / f"tmux-{os.geteuid()}"


class Found(t.NamedTuple):
    """The agent's pane of an entry as the probe shows it (pane None: none is tied to it)."""

    pane: Pane | None = None
    #: The session it lives in now, when that is not the logged name (renamed by the user).
    renamed: str | None = None
    #: How many other panes its session holds (0: nothing but the agent's pane).
    others: int = 0
    #: What runs there when the pane cannot be tied to the logged agent (None: it can).
    not_owned: str | None = None
    #: The session of the logged name, when it still holds the user's panes but the
    #: agent's own pane (seen there before) is gone: a restart adds a window to it.
    host: str | None = None


def find(
    entry: ms.Entry,
    probe: Probe,
    memory: SessionState,
    logged: Collection[str] = (),
    running: set[int] | None = None,
    claimed: Collection[str] = (),
    agent_of: t.Callable[[str], str | None] | None = None,
) -> Found:
    """The agent's pane of *entry*: by its remembered ids, its name, or its command.

    1. The remembered pane (same pane id; same pid where the session was renamed).
    2. The session of the logged name: its pane whose start command is the logged
       command, else its first pane.
    3. A session of another name (not itself logged) with the remembered session
       id, or a pane whose start command is the logged command: renamed, followed.
       A pane another entry has *claimed* (by its name or ids) is not followed.
    """
    if probe.server != "running":
        return Found()
    here = probe.session_panes(entry.name)
    pane = _remembered(probe, memory, entry.name)
    if pane is None and here:
        tied = next((p for p in here if ties(p, entry, memory)), None)
        if tied is None and _agent_pane_gone(here, memory):
            return Found(others=len(here), host=entry.name)
        pane = tied or here[0]
    if pane is None:
        pane = _renamed(probe, entry, memory, logged, claimed)
    if pane is None:
        return Found()
    siblings = probe.session_panes(pane.session)
    renamed = pane.session if pane.session != entry.name else None
    said = not_owned(pane, running, entry=entry, memory=memory, agent_of=agent_of)
    return Found(pane, renamed, len(siblings) - 1, said)


def _agent_pane_gone(here: list[Pane], memory: SessionState) -> bool:
    """The agent's pane was seen in this very session, and only other panes are left."""
    return bool(
        memory.pane_id
        and memory.session_id == here[0].session_id
        and memory.diagnosis != "not_owned"
        and all(p.pane_id != memory.pane_id for p in here)
    )


def _remembered(probe: Probe, memory: SessionState, name: str) -> Pane | None:
    if not memory.pane_id:
        return None
    pane = probe.pane(memory.pane_id)
    if pane is None or pane.session == name:
        return pane
    # pane ids start again at %0 when a server restarts: elsewhere, the pid must agree
    return pane if memory.pane_pid is not None and pane.pid == memory.pane_pid else None


def _renamed(
    probe: Probe,
    entry: ms.Entry,
    memory: SessionState,
    logged: Collection[str],
    claimed: Collection[str],
) -> Pane | None:
    candidates = [
        pane
        for session, panes in probe.panes.items()
        if session != entry.name and session not in logged
        for pane in panes
        if pane.pane_id not in claimed
    ]
    if memory.session_id:
        same = [p for p in candidates if p.session_id == memory.session_id]
        if same:
            return next((p for p in same if ties(p, entry, memory)), same[0])
    return next((p for p in candidates if ties(p, entry, memory)), None)


def ties(pane: Pane, entry: ms.Entry, memory: SessionState | None = None) -> bool:
    """Whether *pane* was started with the logged command, or with the last restart's.

    tmux reports a pane's start command quoted and escaped; both sides are
    compared without quotes, backslashes and white space. A restart may start
    another command line than the note's (a resume, the Ralph loop): its stamp
    (``launch_stamp``) is remembered.
    """
    if not pane.start_command:
        return False
    started = squash(pane.start_command)
    if memory is not None and memory.launched == launch_stamp(pane.start_command):
        return True
    wanted = squash(shell_command(entry))
    return len(wanted) >= 4 and wanted in started


def interactive(pane: Pane) -> bool:
    """Whether the pane was started as an interactive shell (no command, or a bare shell)."""
    start = pane.start_command.strip().strip('"').strip()
    if not start:
        return True
    words = start.split()
    return os.path.basename(words[0]).lstrip("-") in SHELLS and "-c" not in words[1:]


def not_owned(
    pane: Pane,
    running: set[int] | None = None,
    *,
    entry: ms.Entry | None = None,
    memory: SessionState | None = None,
    agent_of: t.Callable[[str], str | None] | None = None,
) -> str | None:
    """What runs in *pane* when it is not the agent's anatomy (None: it is, or it is dead).

    A pane started with the logged command (or the last restart's, or the same
    agent's) is the agent's, and so is the process a check already took for it.
    A pane started with another command — a session the user made again under
    the name, a pane respawned with something else — is not. A pane started
    as an interactive shell is the user's: at its prompt, or running anything
    but an agent, it is reported and never touched.
    """
    if pane.dead:
        return None
    if not interactive(pane):
        return _started_with(pane, entry, memory, agent_of)
    if pane.command in SHELLS:
        if running is not None and pane.pid in running:
            return None  # the shell still runs something in its own group: not at its prompt
        return f"an interactive shell ({pane.command}) at its prompt"
    if pane.command in AGENT_PROGRAMS:
        return None
    if pane.command == TAIL_PROGRAM:
        return f"`{pane.command}` started by hand in an interactive shell"
    return f"`{pane.command or 'an unknown program'}` in an interactive shell"


def _started_with(
    pane: Pane,
    entry: ms.Entry | None,
    memory: SessionState | None,
    agent_of: t.Callable[[str], str | None] | None,
) -> str | None:
    if entry is None:
        return None
    seen = (
        memory is not None
        and memory.pane_id == pane.pane_id
        and memory.pane_pid == pane.pid
        and memory.diagnosis not in (None, "not_owned")
    )
    if seen or ties(pane, entry, memory):
        return None
    started = start_text(pane.start_command)
    if agent_of is not None:
        agent = agent_of(started)
        if agent is not None and agent == agent_of(shell_command(entry)):
            return None  # the same agent, started with other words than the note's
    shown = started if len(started) <= 80 else started[:77] + "…"
    return f"`{pane.command or shown}` (started as `{shown}`, not the logged command)"


def unlogged(
    probe: Probe,
    logged: Collection[str],
    followed: Collection[str],
    recognise: t.Callable[[str], str | None],
) -> list[tuple[Pane, str]]:
    """Panes running an agent a profile recognises, in sessions no note lists.

    *recognise* names the agent of a command (None: not an agent).
    """
    found = []
    for session, panes in probe.panes.items():
        if session in logged or session in followed:
            continue
        for pane in panes:
            if pane.dead:
                continue
            agent = recognise(start_text(pane.start_command)) if pane.start_command else None
            if agent is None and pane.command in AGENT_PROGRAMS - {"node", "bun", "npx"}:
                agent = recognise(pane.command)
            if agent is not None:
                found.append((pane, agent))
                break
    return found


def start_text(start: str) -> str:
    """A pane's start command as the shell command it was (tmux quotes and escapes it)."""
    text = start.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
        text = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)
    return text
