"""Observe: the notes, the remembered state, tmux, the processes and the logs → Observations.

The first stage of the pipeline: everything a check reads, read once, in a
constant number of tmux calls per server (one ``list-panes``, one chained
capture of the agents' panes). Nothing here decides. Evidence is gathered in
the order DESIGN §4 trusts it: what the processes say (is the agent still in
the foreground, has the pane reached the hook), then the agent's own records,
then its own voice — the last lines it printed before it exited, not the work
output above them.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import re
import typing as t

import memory_schema as ms
from heartbeat import notes
from heartbeat.check import identity
from heartbeat.check.identity import Found, find
from heartbeat.check.result import CheckResult
from heartbeat.notes import permission_problems
from heartbeat.profiles import rewrite
from heartbeat.session import (
    TAIL_PROGRAM,
    build_launch,
    folder,
    parse_started,
    ralph_command,
    shell_command,
)
from heartbeat.signatures import Match, may_match, parse_reset, scan
from heartbeat.state import LogEvent, State, load_state
from heartbeat.tmux import SHELLS, Probe, Tmux, busy
from heartbeat.words import Kind, PaneState, format_duration

if t.TYPE_CHECKING:
    import datetime
    from collections.abc import Collection, Mapping, Sequence

    from heartbeat import records
    from heartbeat.config import Settings
    from heartbeat.profiles import Profile, Profiles
    from heartbeat.state import SessionState
    from heartbeat.tmux import Pane, Probe
    from heartbeat.verify import Verification


#: How many of the last non-empty lines before the hook are the agent's own voice
#: (gemini-cli's final error is a stack trace of some 40 lines, its cause first).
VOICE_LINES = 40
LAST_LINES = 5


class Observation(t.NamedTuple):
    """What one check saw of one entry; read by decide, act and journal, never changed.

    A NamedTuple, not a frozen dataclass: Python 3.11 compiles six methods
    for each frozen dataclass when its module is imported (about 3 ms for
    this one), and a quiet check pays every import (DESIGN §6).
    """

    entry: ms.Entry
    profile: str | None
    account: str | None
    state: PaneState
    exit_code: int | None = None
    idle: float | None = None
    age: float | None = None
    started_at: float | None = None
    incarnation: str | None = None
    cwd: str | None = None
    #: The seed's Ralph rewrite of the command (``ralphy --codex 'TASK'``), where there is one.
    ralph: str | None = None
    #: The command with every flag the agent rejects replaced, and the first flag replaced.
    rewritten: str | None = None
    rejected_flag: tuple[str, str, str] | None = None
    #: The agent's own session id (its banner, its --session-id, or remembered).
    agent_session: str | None = None
    #: A limit the agent recorded in its own files, and its reset (epoch seconds).
    record_limit: str | None = None
    record_reset: float | None = None
    #: The stamp of the account's credentials file (a new login changes it).
    credentials: str | None = None
    #: The agent can resume a conversation (its profile says how).
    resumable: bool = False
    #: The agent is a loop that runs another (ralphy runs codex): its engine's errors are
    #: its tasks' failures, not its own command line's.
    wrapper: bool = False
    #: The completion hook's line (``EXITED: N``) that counted, if any.
    hook: str | None = None
    #: What the agent's profile says its exit code means (config, auth, rate_limit).
    exit_kind: str | None = None
    #: Signature matches in the agent's own voice: its final lines (or, running, its last).
    voice: tuple[Match, ...] = ()
    #: (kind, line) from the global codex log since the session started, for a gone session.
    log: tuple[tuple[str, str], ...] = ()
    prompt: str | None = None
    reset: datetime.datetime | None = None
    paused: bool = False
    last_lines: tuple[str, ...] = ()
    output: str = ""
    verification: Verification | None = None
    #: The socket path of the server the session runs on.
    server: str = ""
    #: The agent's pane: its id, its process and its session's id (None: no pane).
    pane_id: str | None = None
    pane_pid: int | None = None
    session_id: str | None = None
    #: The session's name now, when the user renamed it while the agent's pane ran.
    renamed: str | None = None
    #: How many other panes (windows the user opened) share the agent's session.
    others: int = 0
    #: What runs in the pane when it cannot be tied to the logged agent (never touched).
    not_owned: str | None = None
    #: Why a restart could not be built (no folder known …): decide reports it instead.
    cannot_restart: str | None = None
    #: The session of the entry's name when it holds only the user's panes: the agent's
    #: own pane, seen there before, is gone (a restart adds a window to it).
    host_session: str | None = None

    @property
    def exists(self) -> bool:
        return self.state is not PaneState.DEAD

    @property
    def finished(self) -> bool:
        return self.state is PaneState.EXITED


def foreground_busy(panes: Sequence[Pane]) -> set[int] | None:
    """Pane pids whose shell still runs something besides the tail (one ``ps``, when needed)."""
    pids = [
        pane.pid
        for pane in panes
        if not pane.dead and pane.command in SHELLS and pane.pid is not None
    ]
    return busy(pids, TAIL_PROGRAM) if pids else set()


def _lines(panes: Sequence[Pane], probe: Probe) -> list[str]:
    output: list[str] = []
    for pane in panes:
        output.extend(probe.output.get(pane.pane_id, "").split("\n"))
    while output and not output[-1].strip():
        output.pop()
    return output


def _at_tail(panes: Sequence[Pane], running: set[int] | None) -> bool:
    """Whether every pane has reached the anatomy's tail (or is dead): the agent is gone."""
    for pane in panes:
        if pane.dead or pane.command == TAIL_PROGRAM:
            continue
        if pane.command in SHELLS and running is not None and pane.pid not in running:
            continue
        return False
    return True


def observe(
    entry: ms.Entry,
    probe: Probe,
    running: set[int] | None,
    memory: SessionState,
    profiles: Profiles,
    log_events: Sequence[tuple[float, str, str]],
    now: datetime.datetime,
    settings: Settings,
    env: Mapping[str, str],
    *,
    found: Found | None = None,
    logged: Collection[str] = (),
    server: str = "",
) -> Observation:
    """One entry's Observation. Runs git only for a quick ``EXITED: 0`` (read-and-exit).

    *found* is the agent's pane as ``identity.find`` ties it (found here when
    not given); only that pane is read — the session's other panes are the user's.
    """
    ts = now.timestamp()
    if found is None:
        found = find(entry, probe, memory, logged, running, agent_of=profiles.agent_of)
    command = shell_command(entry)
    panes = [found.pane] if found.pane is not None else []
    output = _lines(panes, probe)
    profile = profiles.recognise(command)
    if profile is None and output:
        profile = profiles.recognise_output(output)
    signatures = profiles.signatures(profile, command)
    agent = (profiles.engine(profile, command) or profile) if profile else None
    fixed, used = rewrite(profile, entry.command)
    home = agent.home(command, env) if agent else None
    base: dict[str, t.Any] = {
        "credentials": _stamp(home, agent.credentials if agent else None),
        "resumable": bool(profile and profile.resume),
        "wrapper": bool(profile and profile.engines),
        "entry": entry,
        "profile": profile.name if profile else None,
        "account": profiles.account(command, env),
        "paused": _paused(entry, now),
        "rewritten": fixed if used else None,
        "rejected_flag": (used[0].flag, used[0].replacement, used[0].removed_in) if used else None,
        "server": server,
    }
    if found.pane is not None:
        base.update(
            pane_id=found.pane.pane_id,
            pane_pid=found.pane.pid,
            session_id=found.pane.session_id,
            renamed=found.renamed,
            others=found.others,
            not_owned=found.not_owned,
        )
    elif found.host is not None:
        base.update(host_session=found.host, others=found.others)
    started = started_at(entry, panes, memory, now)
    base["started_at"] = started
    base["age"] = max(0.0, ts - started) if started is not None else None
    if not panes:
        sid = memory.agent_session
        record = _records(agent, home, sid)
        if record is not None:
            base.update(record_limit=record.limit, record_reset=record.reset)
        return Observation(
            agent_session=sid,
            state=PaneState.DEAD,
            cannot_restart=_unbuildable(entry, settings, memory.last_dir),
            ralph=ralph_command(entry),
            log=_log(agent, log_events, started, memory, ts),
            **base,
        )
    # matches are per kind and line: the hook's own signatures find the same hook lines
    finish = scan(output, [s for s in signatures if s.kind == Kind.FINISH], "pane")
    exited = (
        found.not_owned is None
        and _at_tail(panes, running)
        and (bool(finish) or all(p.dead for p in panes))
    )
    if exited:
        code = int(finish[-1].groups.get("code", "1")) if finish else panes[0].dead_status
        cut = _last_index(output, finish[-1].line) if finish else len(output)
        voice_lines = [line for line in output[:cut] if line.strip()][-VOICE_LINES:]
    else:
        code = None
        voice_lines = [line for line in output if line.strip()][-VOICE_LINES:]
    voice = tuple(m for m in scan(voice_lines, signatures, "pane") if m.kind != Kind.FINISH)
    last = voice_lines[-1].strip() if voice_lines and not exited else ""
    prompt = next((m.line for m in voice if m.kind == Kind.PROMPT and m.line == last), None)
    sid = _session_id(agent or profile, command, output) or memory.agent_session
    if exited and code != 0:
        record = _records(agent, home, sid)
        if record is not None:
            base.update(record_limit=record.limit, record_reset=record.reset)
    observation = Observation(
        agent_session=sid,
        state=PaneState.EXITED if exited else PaneState.RUNNING,
        cannot_restart=(
            _unbuildable(entry, settings, panes[0].path or memory.last_dir) if exited else None
        ),
        # only a session that ended may be restarted as a Ralph loop (read_and_exit)
        ralph=ralph_command(entry) if exited else None,
        exit_code=code,
        hook=finish[-1].line if exited and finish else None,
        exit_kind=agent.exit_codes.get(code) if agent and code is not None else None,
        idle=max(0.0, ts - max(p.activity for p in panes)),
        incarnation=incarnation(panes[0]),
        cwd=panes[0].path or None,
        voice=voice,
        prompt=prompt,
        reset=_reset(voice, agent, now),
        last_lines=tuple(line[:300] for line in [x for x in output if x.strip()][-LAST_LINES:]),
        output="\n".join(output),
        **base,
    )
    if exited and code != 0 and not any(m.kind in {Kind.AUTH, Kind.RATE_LIMIT} for m in voice):
        # the pane is the main source; the global codex log only explains a failure
        # whose pane shows no signature (its lines may come from another session)
        from_log = _log(agent, log_events, started, memory, ts)
        observation = observation._replace(log=from_log)
    if (
        exited
        and code == 0
        and observation.age is not None
        and observation.age <= settings.read_exit_seconds
    ):
        known = memory.incarnation == observation.incarnation and memory.diagnosis in {
            "completed",
            "read_and_exit",
        }
        if not known:
            from heartbeat.verify import verify

            checked = verify(folder(entry, observation.cwd), command, started)
            observation = observation._replace(verification=checked)
    return observation


def _unbuildable(entry: ms.Entry, settings: Settings, known_dir: str | None) -> str | None:
    """Why no restart of *entry* can be built (None: one can): the same rules act uses."""
    try:
        build_launch(entry, settings, known_dir or None)
    except ValueError as error:
        return str(error)
    return None


def incarnation(pane: Pane) -> str:
    """One run of a pane: its session, the session's start and the pane's process.

    A respawned pane (a restart in place) is a new incarnation of the same session.
    """
    return f"{pane.session_id}@{int(pane.created)}:{pane.pid}"


def _records(agent: Profile | None, home: str | None, sid: str | None) -> records.Record | None:
    """A limit the agent recorded in its own files (only a gone or failed session is read)."""
    from heartbeat import records

    return records.read(agent.records if agent else None, home, sid)


def started_at(
    entry: ms.Entry, panes: Sequence[Pane], memory: SessionState, now: datetime.datetime
) -> float | None:
    """When the agent started: its session, or its restart in place (respawned) since;
    with no pane, its last restart, else the note's word."""
    if panes:
        return max(panes[0].created, memory.restarted_at or 0.0)
    return memory.restarted_at or parse_started(entry.started, now, ms.note_date(entry.file))


def reads_codex_log(entry: ms.Entry, profiles: Profiles) -> bool:
    """Whether the global codex log can explain this session's failure (its agent is codex)."""
    command = shell_command(entry)
    profile = profiles.recognise(command)
    agent = (profiles.engine(profile, command) or profile) if profile else None
    return agent is not None and agent.reads_codex_log


def _session_id(profile: Profile | None, command: str, output: Sequence[str]) -> str | None:
    """The agent's session id: given in the command (``--session-id``), else its banner."""
    if profile is None:
        return None
    if profile.session_flag:
        given = re.search(rf"(?<!\S){re.escape(profile.session_flag)}[= ](\S+)", command)
        if given:
            return given.group(1).strip("'\"")
    if profile.session_id is not None:
        for line in output[:60]:
            found = profile.session_id.match(line.strip())
            if found:
                return found.group("id")
    return None


def _stamp(home: str | None, name: str | None) -> str | None:
    """The credentials file's (size, mtime, inode): a new login changes it."""
    if not home or not name:
        return None
    try:
        info = (pathlib.Path(home) / name).stat()
    except OSError:
        return None
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def _last_index(lines: list[str], wanted: str) -> int:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() == wanted:
            return index
    return len(lines)


def _paused(entry: ms.Entry, now: datetime.datetime) -> bool:
    if entry.status != "paused":
        return False
    until = (
        parse_started(entry.until, now, ms.note_date(entry.file), past=False)
        if entry.until
        else None
    )
    return until is None or until > now.timestamp()


def _reset(
    voice: Sequence[Match], profile: Profile | None, now: datetime.datetime
) -> datetime.datetime | None:
    """The reset a rate-limit line states, read in the zone the agent printed it in."""
    for match in reversed(voice):
        if match.kind != Kind.RATE_LIMIT or "reset" not in match.groups:
            continue
        zone = _zone(match.groups.get("zone"), profile)
        there = datetime.datetime.fromtimestamp(now.timestamp(), zone or now.tzinfo)
        reset = parse_reset(match.groups["reset"], there)
        if reset is not None:
            return reset
    return None


def _zone(named: str | None, profile: Profile | None) -> datetime.tzinfo | None:
    """The zone of a stated reset: the one the text names, else the machine's local one."""
    if named:
        import zoneinfo

        try:
            return zoneinfo.ZoneInfo(named)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
    if profile is not None and profile.reset_zone == "local":
        # the zone's rules, not today's offset: a reset across a DST change keeps its hour
        from heartbeat.clock import local_zone

        return local_zone()
    return None


def _log(
    profile: Profile | None,
    events: Sequence[tuple[float, str, str]],
    started: float | None,
    memory: SessionState,
    ts: float,
) -> tuple[tuple[str, str], ...]:
    """The codex log's auth and rate lines since a gone session started (a second source)."""
    if profile is None or not profile.reads_codex_log:
        return ()
    since = max(started - 1 if started is not None else ts - 3600, memory.resumed_at or 0.0)
    return tuple((kind, f"{line} (codex log)") for when, kind, line in events if when >= since)


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
    finish = [s for s in profiles.signatures(None) if s.kind == Kind.FINISH]
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
    return [
        (e.time, e.kind, e.line) for e in state.log_events if e.kind in {Kind.AUTH, Kind.RATE_LIMIT}
    ]
