"""Gather: the notes, the remembered state, one tmux probe and the logs → Observations.

The first stage of the pipeline: everything a check reads, read once, in a
constant number of tmux calls (one ``list-panes``, one chained capture).
"""

from __future__ import annotations

import os
import typing as t

import memory_schema as ms
from heartbeat import notes
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

#: More active entries than this is a mistake in the notes, not a workload (bounded time).
MAX_SESSIONS = 200
#: tmux refuses a client command over ~16 KiB ("command too long"); the anatomy adds ~300 bytes.
MAX_COMMAND_BYTES = 15_000


class Seen:
    """What one check read: the result so far, the observations and what they need."""

    def __init__(self, result: CheckResult, tmux: Tmux) -> None:
        self.result = result
        self.tmux = tmux
        self.state = State()
        self.profiles: Profiles | None = None
        self.observations: list[Observation] = []
        self.memories: list[SessionState] = []
        self.carry: list[ms.Entry] = []
        self.server_down = False
        self.server_message = ""
        #: Nothing to decide: the notes folder is refused, too many sessions, or no tmux.
        self.stop = False


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
    probe = (
        seen.tmux.probe({e.name for e in entries}, settings.capture_lines)
        if entries
        else Probe("running")
    )
    result.server, result.server_message = probe.server, probe.message
    seen.server_message = probe.message
    since = _since(entries, probe, state, profiles, now)
    log_events = _read_log(settings, state, profiles, now.timestamp(), result, since)
    if probe.server in {"no_tmux", "error"}:
        result.problems.append(ms.Problem(settings.socket, 0, probe.message))
        result.tmux_calls = seen.tmux.calls
        seen.stop = True
        return seen
    seen.server_down = probe.server in {"no_server", "no_socket"} and bool(entries)
    # whether a shell still runs the agent matters only where the hook's line may be shown
    finish = [s for s in profiles.signatures(None) if s.kind == "finish"]
    hooked = [e.name for e in entries if may_match(_output(probe, e.name), finish)]
    running = foreground_busy(probe, hooked)
    for entry in entries:
        memory = state.session(entry.name)
        seen.memories.append(memory)
        seen.observations.append(
            observe(entry, probe, running, memory, profiles, log_events, now, settings, os.environ)
        )
    return seen


def _output(probe: Probe, name: str) -> str:
    return "\n".join(probe.output.get(pane.pane_id, "") for pane in probe.session_panes(name))


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
    entries: list[ms.Entry],
    probe: Probe,
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
    for entry in entries:
        if reads_codex_log(entry, profiles):
            panes = probe.session_panes(entry.name) if probe.server == "running" else []
            started = started_at(entry, panes, state.session(entry.name), now)
            starts.append(started - 1 if started is not None else ts - 3600)
    return min(starts, default=ts - 3600)


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
