"""One check, read top to bottom: lock → gather/observe → decide → act → journal.

``run_check`` is the core of `heartbeat check`, and (observe → decide only)
of `heartbeat status` and `check --dry-run`. The tmux server (``Tmux``) and
the clock (``now``) are injected; nothing here reaches for the real socket or
time on its own.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import time
import typing as t

import memory_schema as ms
from heartbeat import digest, history
from heartbeat.check import act, journal
from heartbeat.check.decide import decide
from heartbeat.check.observe import Seen, gather
from heartbeat.check.result import CheckResult, SessionReport
from heartbeat.errors import ConfigError, LockHeld
from heartbeat.state import save_state

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from heartbeat.check.decide import Decision
    from heartbeat.check.observe import Observation
    from heartbeat.config import Settings
    from heartbeat.tmux import Tmux

__all__ = ["CheckResult", "SessionReport", "check_lock", "run_check"]


LOCK_FILE = "check.lock"


@contextlib.contextmanager
def check_lock(state_dir: os.PathLike[str] | str) -> Iterator[None]:
    """Hold the check lock; raises LockHeld (exit 3) at once, naming the holder's pid.

    Raises ConfigError (exit 2) when the state folder cannot hold the lock.
    """
    folder = os.fspath(state_dir)
    path = os.path.join(folder, LOCK_FILE)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise ConfigError(
            f"{error.filename or path}: the state folder cannot be used ({error.strerror}); "
            "fix it, or point HEARTBEAT_STATE_DIR (or --state-dir) at a folder you can write"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise LockHeld(path, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def run_check(
    settings: Settings,
    now: datetime.datetime,
    *,
    date: datetime.date | None = None,
    dry_run: bool = False,
    no_restart: bool = False,
    read_only: bool = False,
    tmux: Tmux | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """One check (DESIGN §1). ``read_only`` is `heartbeat status`: no lock, no writes.

    Raises UsageError when the notes folder is missing, LockHeld when another
    check runs. Notification, ping and state failures are reported, not raised.
    """
    day = date or datetime.date(now.year, now.month, now.day)
    writes = not (dry_run or read_only)
    with check_lock(settings.state_dir) if writes else contextlib.nullcontext():
        seen = gather(settings, now, day, tmux, dry_run=dry_run, read_only=read_only)
        if seen.state.last_check is not None:
            then = datetime.datetime.fromtimestamp(seen.state.last_check, now.tzinfo)
            seen.result.last_check = history.stamp(then)
        if seen.stop or seen.profiles is None:
            return seen.result
        decisions = decide(
            seen.observations,
            seen.memories,
            settings,
            seen.profiles,
            now,
            server_down=seen.server_down,
        )
        pairs = list(zip(seen.observations, decisions, strict=True))
        if writes:
            outcomes = _act(seen, pairs, settings, now.timestamp(), no_restart, sleep)
        else:
            note = "(dry run: would restart)" if dry_run else "(would restart)"
            outcomes = [act.unacted(o, d, note if d.restart else "") for o, d in pairs]
        clock = now.strftime("%H:%M")
        told: list[tuple[act.Outcome | None, str | None]] = [
            (o, journal.event_text(o, clock)) for o in outcomes
        ]
        told += [
            (None, journal.unlogged_text(socket, pane, agent, clock))
            for socket, pane, agent, new in seen.unlogged
            if new
        ]
        seen.result.events = [event for _, event in told if event]
        if writes:
            _journal(settings, day, seen, outcomes, told, now)
        seen.result.tmux_calls = seen.tmux_calls
        seen.result.sessions = [SessionReport.of(o, now.timestamp()) for o in outcomes]
        seen.result.sessions += [
            SessionReport.unlogged(socket, pane, agent, new, now.timestamp())
            for socket, pane, agent, new in seen.unlogged
        ]
        return seen.result


def _act(
    seen: Seen,
    pairs: list[tuple[Observation, Decision]],
    settings: Settings,
    ts: float,
    no_restart: bool,
    sleep: Callable[[float], None],
) -> list[act.Outcome]:
    """Second look, restart what is still to restart, verify completions."""
    assert seen.profiles is not None
    cancelled = act.second_look(seen.server, pairs, settings, sleep)
    refusal = ""
    if not no_restart and any(d.restart and d.name not in cancelled for _, d in pairs):
        # the budget lives in the state: without it every check would restart again
        warning = save_state(settings.state_dir, seen.state, ts)
        if warning:
            seen.result.warnings.append(warning)
            refusal = (
                "not restarted: the state cannot be saved, so the restart budget "
                "cannot be kept; fix the state folder (HEARTBEAT_STATE_DIR)"
            )
    outcomes = []
    for obs, decision in pairs:
        if not decision.restart:
            outcome = act.unacted(obs, decision)
        elif decision.name in cancelled:
            outcome = act.cancelled(obs, decision, f"restart cancelled: {cancelled[decision.name]}")
        elif no_restart:
            outcome = act.reported(
                obs, decision, f"{decision.detail} (not restarted: --no-restart)"
            )
        elif refusal:
            outcome = act.reported(obs, decision, refusal)
        else:
            outcome = act.restart(
                seen.server(obs.server or str(settings.socket)),
                obs,
                decision,
                settings,
                seen.profiles,
                ts,
            )
        if decision.verify:
            outcome = act.verify(outcome)
        outcomes.append(outcome)
    return outcomes


def _journal(
    settings: Settings,
    day: datetime.date,
    seen: Seen,
    outcomes: list[act.Outcome],
    told: list[tuple[act.Outcome | None, str | None]],
    now: datetime.datetime,
) -> None:
    """Remember, journal, digest, notify the news, write the note, save the state, ping."""
    result, state = seen.result, seen.state
    before = {o.name: state.sessions.get(o.name) for o in outcomes}
    for outcome in outcomes:
        state.sessions[outcome.name] = outcome.memory
    noted = {o.name for o, event in told if o is not None and event}
    changed = history.session_events(outcomes, before, list(state.sessions.items()), now, noted)
    for change in changed:
        state.sessions[str(change["session"])].journaled = str(change["after"])
    warnings = [history.append(settings.state_dir, now, changed)]
    news = [
        event.split(" ", 1)[1] for o, event in told if event and (o is None or journal.is_news(o))
    ]
    message = None
    if news:
        down = f"tmux server down ({seen.server_message}); " if seen.server_down else ""
        message = f"heartbeat: {down}" + "; ".join(news)
    if digest.due(settings, state, day, now):
        told_digest, warning = digest.from_check(settings, state, day, now)
        warnings.append(warning)
        if told_digest:
            message = f"{message}\n{told_digest}" if message else told_digest
    result.warnings += [warning for warning in warnings if warning]
    delivery = act.notify(settings, message, now.timestamp())
    clock = now.strftime("%H:%M")
    events = [event for _, event in told if event]
    if delivery is not None:
        result.notifications = delivery.notifications
        result.warnings += delivery.warnings
        events += [f"{clock} {line}" for line in delivery.gave_up]
    result.events = events
    try:
        result.note_written = journal.write_back(settings, day, outcomes, seen.carry, events)
    except (ms.NoteError, OSError) as error:
        result.warnings.append(f"the note was not written: {error}")
    state.last_check = now.timestamp()
    result.last_check = history.stamp(now)
    state.checks += 1
    warning = save_state(settings.state_dir, state, now.timestamp())
    if warning and warning not in result.warnings:
        result.warnings.append(warning)
    if settings.ping_url:
        from heartbeat.ping import ping

        failed = ping(settings.ping_url)
        if failed:
            result.warnings.append(failed)
