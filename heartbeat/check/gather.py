"""Gather: the notes, the remembered state, one tmux probe and the logs → Observations.

The first stage of the pipeline: everything a check reads, read once, in a
constant number of tmux calls (one ``list-panes``, one chained capture).
"""

from __future__ import annotations

import os
import pathlib
import typing as t

import memory_schema as ms
from heartbeat import notes
from heartbeat.check import identity
from heartbeat.check.observe import foreground_busy, observe, reads_codex_log, started_at
from heartbeat.check.result import CheckResult
from heartbeat.notes import permission_problems
from heartbeat.signatures import may_match
from heartbeat.state import LogEvent, State, load_state
from heartbeat.timefmt import format_duration
from heartbeat.tmux import Probe, Tmux

if t.TYPE_CHECKING:
    import datetime

    from heartbeat.check.observe import Observation
    from heartbeat.config import Settings
    from heartbeat.profiles import Profiles
    from heartbeat.state import SessionState
    from heartbeat.tmux import Pane

#: More active entries than this is a mistake in the notes, not a workload (bounded time).
MAX_SESSIONS = 200
#: tmux refuses a client command over ~16 KiB ("command too long"); the anatomy adds ~300 bytes.
MAX_COMMAND_BYTES = 15_000


class Seen:
    """What one check read: the result so far, the observations and what they need."""

    def __init__(self, result: CheckResult, tmux: Tmux) -> None:
        self.result = result
        #: The stable socket's server; ``servers`` holds it and every other one watched.
        self.tmux = tmux
        self.servers: dict[str, Tmux] = {str(tmux.socket): tmux}
        self.state = State()
        self.profiles: Profiles | None = None
        self.observations: list[Observation] = []
        self.memories: list[SessionState] = []
        self.carry: list[ms.Entry] = []
        self.server_down = False
        self.server_message = ""
        #: Nothing to decide: the notes folder is refused, too many sessions, or no tmux.
        self.stop = False
        #: Agent panes in sessions no note lists: (socket, pane, agent), and whether new.
        self.unlogged: list[tuple[str, Pane, str, bool]] = []

    def server(self, socket: str) -> Tmux:
        """The server on *socket* (one client per socket, its calls counted)."""
        if socket not in self.servers:
            self.servers[socket] = Tmux(pathlib.Path(socket), binary=self.tmux.binary)
        return self.servers[socket]

    @property
    def tmux_calls(self) -> int:
        return sum(tmux.calls for tmux in self.servers.values())


def gather(
    settings: Settings,
    now: datetime.datetime,
    day: datetime.date,
    tmux: Tmux | None,
    *,
    dry_run: bool,
    read_only: bool = False,
) -> Seen:
    """Read the notes, the state, tmux and the logs.

    Raises UsageError when the notes folder is missing.
    """
    # a writing check keeps the notes' parse in the state folder: unchanged notes are
    # not parsed again (read-only runs write nothing there)
    cache = None if dry_run or read_only else settings.state_dir
    collection = notes.collect(settings, day, cache_dir=cache)
    loose = permission_problems(settings, collection.notes)
    refused = {p.file for p in loose}
    result = CheckResult(
        checked_at=now.isoformat(),
        notes=[str(p) for p in collection.notes],
        sessions=[],
        problems=[*collection.problems, *loose],
        dry_run=dry_run,
    )
    seen = Seen(result, tmux or Tmux(settings.socket))
    if settings.notes_dir in refused:
        seen.stop = True
        return seen
    entries = _watchable(
        [e for e in collection.entries if e.active and e.file not in refused], result
    )
    if entries is None:
        seen.stop = True
        return seen
    today = ms.note_path(settings.notes_dir, day)
    # carried per entry: one unreadable entry in yesterday's note keeps no other from today's
    seen.carry = [e for e in entries if e.file != today]
    state = seen.state = load_state(settings.state_dir)
    result.warnings += state.warnings
    jump = state.rebase(now.timestamp())
    if jump:
        result.warnings.append(
            f"the clock went back {format_duration(jump)} since the last check; "
            "the restart history was moved back with it"
        )
    from heartbeat import profiles as agent_profiles

    profiles = seen.profiles = agent_profiles.load(
        settings.profiles, settings.signatures, cache_dir=cache
    )
    # each entry's server (its logged -L/-S, the default socket, else the stable one):
    # one list-panes per server, then one chained capture of the agents' panes
    placed = [(e, str(identity.server_of(e, settings.socket, os.environ))) for e in entries]
    watched = dict.fromkeys([str(settings.socket), *(socket for _, socket in placed)])
    probes = {
        socket: seen.server(socket).list_panes() if entries else Probe("running")
        for socket in watched
    }
    stable = probes[str(settings.socket)]
    result.server, result.server_message = stable.server, stable.message
    seen.server_message = stable.message
    logged = {e.name for e in entries}
    finds = _find_all(placed, probes, state, logged, profiles.agent_of)
    for socket, probe in probes.items():
        ids = [
            f.pane.pane_id
            for f, (_, s) in zip(finds, placed, strict=True)
            if f.pane is not None and s == socket
        ]
        probe.output = seen.server(socket).capture(ids, settings.capture_lines) if ids else {}
    since = _since(placed, finds, state, profiles, now)
    log_events = _read_log(settings, state, profiles, now.timestamp(), result, since)
    broken = {s: p for s, p in probes.items() if p.server in {"no_tmux", "error"}}
    if any(p.server == "no_tmux" for p in broken.values()) or (
        str(settings.socket) in broken and all(s in broken for _, s in placed)
    ):
        probe = next(iter(broken.values()))
        result.problems.append(ms.Problem(settings.socket, 0, probe.message))
        result.tmux_calls = seen.tmux_calls
        seen.stop = True
        return seen
    for socket, probe in broken.items():
        result.problems.append(ms.Problem(pathlib.Path(socket), 0, probe.message))
    down = {s for s, p in probes.items() if p.server in {"no_server", "no_socket"}}
    seen.server_down = any(socket in down for _, socket in placed)
    if seen.server_down and not seen.server_message:
        seen.server_message = next(probes[s].message for _, s in placed if s in down)
    # whether a shell still runs the agent matters only where the hook's line may be shown
    finish = [s for s in profiles.signatures(None) if s.kind == "finish"]
    hooked = [
        f.pane
        for f, (_, socket) in zip(finds, placed, strict=True)
        if f.pane is not None and may_match(probes[socket].output.get(f.pane.pane_id, ""), finish)
    ]
    running = foreground_busy(hooked)
    for (entry, socket), found in zip(placed, finds, strict=True):
        if socket in broken:
            continue
        memory = state.session(entry.name)
        seen.memories.append(memory)
        seen.observations.append(
            observe(
                entry,
                probes[socket],
                running,
                memory,
                profiles,
                log_events,
                now,
                settings,
                os.environ,
                found=found,
                server=socket,
            )
        )
    followed = {f.renamed for f in finds if f.renamed}
    # a session the notes list at all — done, struck through, paused — is not unlogged
    listed = {e.name for e in collection.entries}
    _unlogged(seen, probes, logged | listed | followed, profiles, now.timestamp())
    return seen


def _find_all(
    placed: list[tuple[ms.Entry, str]],
    probes: dict[str, Probe],
    state: State,
    logged: set[str],
    agent_of: t.Callable[[str], str | None] | None = None,
) -> list[identity.Found]:
    """Each entry's pane; a pane goes to one entry only.

    Entries whose session has their name, or whose remembered pane is there,
    claim their panes first; the others may then follow a renamed session
    among the panes left (two entries with the same command never share one).
    """
    finds: list[identity.Found | None] = [None] * len(placed)
    claimed: dict[str, set[str]] = {socket: set() for socket in probes}
    for first in (True, False):
        for index, (entry, socket) in enumerate(placed):
            memory = state.session(entry.name)
            probe = probes[socket]
            own = bool(probe.session_panes(entry.name)) or bool(
                memory.pane_id and probe.pane(memory.pane_id)
            )
            if finds[index] is not None or own != first:
                continue
            found = identity.find(
                entry, probe, memory, logged, claimed=claimed[socket], agent_of=agent_of
            )
            if found.pane is not None:
                claimed[socket].add(found.pane.pane_id)
            finds[index] = found
    return [f or identity.Found() for f in finds]


def _watchable(entries: list[ms.Entry], result: CheckResult) -> list[ms.Entry] | None:
    """The entries a check may run; problems for the others. None: too many to run any."""
    for entry in [e for e in entries if len(e.command.encode()) > MAX_COMMAND_BYTES]:
        entries.remove(entry)
        result.problems.append(
            ms.Problem(
                entry.file,
                entry.line,
                f"the command of {entry.name!r} is {len(entry.command.encode())} bytes long; "
                f"tmux cannot start one over {MAX_COMMAND_BYTES} bytes, so it is not run: "
                "put it in a script and log the command that runs the script",
            )
        )
    if len(entries) > MAX_SESSIONS:
        extra = entries[MAX_SESSIONS]
        result.problems.append(
            ms.Problem(
                extra.file,
                extra.line,
                f"{len(entries)} active sessions are listed, over the {MAX_SESSIONS} one check "
                "watches, so nothing was run: mark finished sessions done "
                "(`heartbeat notes done NAME`) or move old entries out of the notes",
            )
        )
        return None
    return entries


def _since(
    placed: list[tuple[ms.Entry, str]],
    finds: list[identity.Found],
    state: State,
    profiles: Profiles,
    now: datetime.datetime,
) -> float:
    """The earliest time a codex log line can matter: the oldest codex session's start.

    observe keeps a gone session's log lines from a second before it started,
    or from the last hour when its start is not known; the hour also bounds a
    check that watches no codex session.
    """
    ts = now.timestamp()
    starts = []
    for (entry, _), found in zip(placed, finds, strict=True):
        if reads_codex_log(entry, profiles):
            panes = [found.pane] if found.pane is not None else []
            started = started_at(entry, panes, state.session(entry.name), now)
            starts.append(started - 1 if started is not None else ts - 3600)
    return min(starts, default=ts - 3600)


def _unlogged(
    seen: Seen,
    probes: dict[str, Probe],
    known: set[str],
    profiles: Profiles,
    ts: float,
) -> None:
    """Agent sessions on a watched server that no note lists: each reported once."""
    current: dict[str, float] = {}
    for socket, probe in probes.items():
        if probe.server != "running":
            continue
        for pane, agent in identity.unlogged(probe, known, (), profiles.agent_of):
            key = f"{socket}|{pane.session_id}|{pane.pane_id}"
            first = seen.state.unlogged.get(key)
            current[key] = first if first is not None else ts
            seen.unlogged.append((socket, pane, agent, first is None))
    seen.state.unlogged = current


def _read_log(
    settings: Settings,
    state: State,
    profiles: Profiles,
    ts: float,
    result: CheckResult,
    since: float,
) -> list[tuple[float, str, str]]:
    """New auth and rate lines of the global codex log, kept in the state for later checks."""
    from heartbeat.logscan import read_new

    codex = profiles.named("codex")
    signatures = profiles.signatures(codex) if codex else ()
    cap = settings.log_bytes_per_check
    log_read = read_new(settings.codex_log, state, signatures, ts, cap, since)
    result.log_bytes_read = log_read.bytes_read
    if log_read.error:
        result.warnings.append(log_read.error)
    for when, match in log_read.matches:
        state.log_events.append(LogEvent(when, match.kind, match.line))
    return [(e.time, e.kind, e.line) for e in state.log_events if e.kind in {"auth", "rate_limit"}]
