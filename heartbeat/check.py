"""One pass: read the notes, probe tmux, read the logs, diagnose, act, write back.

``run_check`` is the core of `heartbeat check` and (read-only) of
`heartbeat status`. The tmux server (through ``Tmux``) and the clock (``now``)
are injected; nothing here reaches for the real socket or time on its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import logging
import os
import random
import re
import shlex
import time
import typing as t

import memory_schema as ms
from heartbeat import rules
from heartbeat.errors import ConfigError, ExitCode, LockHeld, TmuxError, UsageError
from heartbeat.notes import permission_problems
from heartbeat.signatures import parse_reset, redact, scan, table
from heartbeat.state import SessionState, load_state, save_state
from heartbeat.tmux import Probe, Tmux

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.notify import NotifyResult
    from heartbeat.signatures import Match, Signature
    from heartbeat.tmux import Pane
    from heartbeat.verify import Verification

log = logging.getLogger(__name__)

LOCK_FILE = "check.lock"
#: More active entries than this is a mistake in the notes, not a workload (bounded time).
MAX_SESSIONS = 200
#: tmux refuses a client command over ~16 KiB ("command too long"); the anatomy adds ~300 bytes.
MAX_COMMAND_BYTES = 15_000
EVIDENCE_LINES = 6
LAST_LINES = 5
BAD_EXIT = {"healthy", "completed", "paused"}


@dataclasses.dataclass
class SessionReport:
    """One session's line in the report (DESIGN §5's JSON `sessions`)."""

    name: str
    state: str
    exit_code: int | None
    diagnosis: str
    action: str
    restarts: int
    detail: str
    evidence: list[str]
    source: str
    hint: str = ""
    last_lines: list[str] = dataclasses.field(default_factory=list)
    running_for: float | None = None
    idle: float | None = None
    verification: dict[str, object] | None = None

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class CheckResult:
    checked_at: str
    notes: list[str]
    sessions: list[SessionReport]
    problems: list[ms.Problem]
    dry_run: bool = False
    server: str = "running"
    server_message: str = ""
    tmux_calls: int = 0
    log_bytes_read: int = 0
    events: list[str] = dataclasses.field(default_factory=list)
    notifications: list[dict[str, object]] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    note_written: bool = False
    self_watch: str | None = None

    @property
    def exit_code(self) -> int:
        attention = self.problems or any(s.diagnosis not in BAD_EXIT for s in self.sessions)
        return int(ExitCode.ATTENTION if attention else ExitCode.OK)

    def to_json(self) -> dict[str, object]:
        return {
            "checked_at": self.checked_at,
            "notes": self.notes,
            "sessions": [s.to_json() for s in self.sessions],
            "problems": [p.to_json() for p in self.problems],
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "server": self.server,
            "server_message": self.server_message,
            "tmux_calls": self.tmux_calls,
            "log_bytes_read": self.log_bytes_read,
            "events": self.events,
            "notifications": self.notifications,
            "warnings": self.warnings,
            "note_written": self.note_written,
            "self_watch": self.self_watch,
        }


@contextlib.contextmanager
def check_lock(state_dir: os.PathLike[str] | str) -> Iterator[None]:
    """One check at a time: raises LockHeld (exit 3) at once, naming the holder's pid.

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


@dataclasses.dataclass
class _Session:
    """Working record of one entry during a check."""

    entry: ms.Entry
    memory: SessionState
    facts: rules.Facts
    panes: list[Pane]
    output: list[str]
    matches: list[Match]
    incarnation: str | None
    started_at: float | None
    diagnosis: str = "healthy"
    action: str = "none"
    detail: str = ""
    hint: str = ""
    evidence: list[str] = dataclasses.field(default_factory=list)
    restart: bool = False
    verification: Verification | None = None
    event: str | None = None
    notify: str | None = None


DATE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def _parse_started(
    text: str | None,
    now: pendulum.DateTime,
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

    try:
        parsed = pendulum.parse(text, tz=now.timezone, strict=False, exact=True)
    except (ValueError, TypeError, OverflowError, pendulum.parsing.exceptions.ParserError):
        return None
    if isinstance(parsed, pendulum.DateTime) and DATE_RE.search(text):
        return parsed.timestamp()
    if not isinstance(parsed, pendulum.DateTime | pendulum.Time):
        return None
    zone = (parsed.tzinfo if isinstance(parsed, pendulum.DateTime) else None) or now.tzinfo
    base = day or now.date()
    moment = pendulum.datetime(
        base.year, base.month, base.day, parsed.hour, parsed.minute, parsed.second, tz=zone
    )
    if past and moment > now:
        moment = moment.subtract(days=1)
    return moment.timestamp()


def _observe(
    entry: ms.Entry,
    probe: Probe,
    memory: SessionState,
    signatures: t.Sequence[Signature],
    log_matches: list[tuple[float, Match]],
    now: pendulum.DateTime,
    settings: Settings,
) -> _Session:
    ts = now.timestamp()
    panes = probe.session_panes(entry.name) if probe.server == "running" else []
    exists = bool(panes)
    output: list[str] = []
    for pane in panes:
        output.extend(probe.output.get(pane.pane_id, "").split("\n"))
    while output and not output[-1].strip():
        output.pop()
    matches = scan(output, signatures, "pane")
    incarnation = f"{panes[0].session_id}@{int(panes[0].created)}" if panes else None
    started_at = panes[0].created if panes else None
    if started_at is None:
        started_at = memory.restarted_at or _parse_started(
            entry.started, now, ms.note_date(entry.file)
        )
    facts = rules.Facts(name=entry.name, exists=exists)
    finish = [m for m in matches if m.kind == "finish"]
    if finish:
        facts.finished = True
        facts.exit_code = int(finish[-1].groups.get("code", "1"))
    elif panes and all(p.dead for p in panes):
        facts.finished = True
        facts.exit_code = panes[0].dead_status
    if panes:
        facts.idle = max(0.0, ts - max(p.activity for p in panes))
    if started_at is not None:
        facts.age = max(0.0, ts - started_at)
    if memory.void_incarnation == "pending":
        memory.void_incarnation = incarnation
    if incarnation is not None and incarnation == memory.void_incarnation:
        # the user resumed after this incarnation failed: its old errors are void
        matches = [m for m in matches if m.kind not in {"auth", "rate_limit"}]
    facts.auth = [m.line for m in matches if m.kind == "auth"]
    rate = [m for m in matches if m.kind == "rate_limit"]
    facts.rate = [m.line for m in rate]
    for match in reversed(rate):
        if "reset" in match.groups:
            reset = parse_reset(match.groups["reset"], now)
            if reset is not None:
                facts.reset = reset
                break
    if not facts.finished and exists:
        last = next((line for line in reversed(output) if line.strip()), "")
        if any(m.kind == "prompt" and m.line == last.strip() for m in matches):
            facts.prompt = last.strip()
    failed_quietly = not exists or (facts.finished and facts.exit_code not in (0, None))
    if failed_quietly and not facts.auth and not facts.rate:
        # the pane is the main source; the global codex log only explains a failure
        # whose pane shows no signature (its lines may come from another session)
        uses_codex = "codex" in entry.command or "ralphy" in entry.command
        since = started_at - 1 if started_at is not None else ts - 3600
        since = max(since, memory.resumed_at or 0.0)
        for when, match in log_matches:
            if uses_codex and when >= since:
                target = facts.auth if match.kind == "auth" else facts.rate
                target.append(f"{match.line} (codex log)")
    paused_until = (
        _parse_started(entry.until, now, ms.note_date(entry.file), past=False)
        if entry.until
        else None
    )
    facts.paused = entry.status == "paused" and (paused_until is None or paused_until > ts)
    facts.blocked_auth = memory.blocked == "auth"
    facts.completed_before = memory.diagnosis == "completed" and memory.verified is not None
    return _Session(
        entry=entry,
        memory=memory,
        facts=facts,
        panes=panes,
        output=output,
        matches=matches,
        incarnation=incarnation,
        started_at=started_at,
    )


def _evidence(session: _Session) -> list[str]:
    kinds = {"auth", "rate_limit", "finish", "summary_completed", "summary_failed", "prompt"}
    lines = [m.line for m in session.matches if m.kind in kinds]
    lines += [line for line in session.facts.auth + session.facts.rate if line not in lines]
    return [redact(line)[:500] for line in lines[-EVIDENCE_LINES:]]


def _last_lines(session: _Session) -> list[str]:
    lines = [line for line in session.output if line.strip()]
    return [redact(line)[:300] for line in lines[-LAST_LINES:]]


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


class Checker:
    """One check's decisions and actions over the sessions it observed."""

    def __init__(
        self,
        settings: Settings,
        now: pendulum.DateTime,
        tmux: Tmux,
        *,
        dry_run: bool,
        no_restart: bool,
        sleep: Callable[[float], None],
    ) -> None:
        self.settings = settings
        self.now = now
        self.ts = now.timestamp()
        self.tmux = tmux
        self.dry_run = dry_run
        self.no_restart = no_restart
        self.sleep = sleep
        self.restarts_this_check = 0
        self.rate_restarts_this_check = 0

    # ------------------------------------------------------------------ decide

    def decide(self, sessions: list[_Session], server_down: bool) -> None:
        s = self.settings
        codex_sessions = [x for x in sessions if "codex" in x.entry.command]
        auth_now = any(x.facts.auth for x in sessions)
        rate_count = 0
        for session in sessions:
            self._classify(session)
            rate_count += session.diagnosis == "rate_limited"
        for session in sessions:
            facts, memory, name = session.facts, session.memory, session.entry.name
            policy = rules.POLICIES[session.diagnosis]
            hint = rules.HINTS.get(session.diagnosis, "")
            session.hint = hint.format(
                name=name,
                socket=s.socket,
                idle=_minutes(facts.idle or 0),
                until="",
                count=s.max_restarts_per_hour,
            )
            session.action = policy.action
            session.evidence = _evidence(session)
            diagnosis = session.diagnosis
            if diagnosis == "auth_expired":
                memory.blocked = "auth"
                session.detail = "blocked: not restarted while the token is expired"
                if len(codex_sessions) > 1:
                    session.hint += "; " + rules.HINTS["auth_parallel"]
            elif diagnosis == "rate_limited":
                self._rate_limit(session, rate_count)
            elif diagnosis in {"failed", "died"}:
                if auth_now and "codex" in session.entry.command:
                    session.action = "backoff"
                    session.detail = (
                        "held: another session shows an expired token (run codex login)"
                    )
                else:
                    self._budget(session)
                    if diagnosis == "failed" and memory.failures >= 1:
                        session.hint = rules.HINTS["failed_again"]
            elif diagnosis == "read_and_exit":
                if s.auto_ralph and _ralph_command(session.entry) is not None:
                    self._budget(session)
                    session.detail = "wrapped in a Ralph loop (auto_ralph); " + session.detail
                else:
                    session.action = "reported"
            elif diagnosis == "completed":
                if memory.verified is not None and (
                    session.incarnation is None or memory.verified == session.incarnation
                ):
                    session.action = "none"
                    session.detail = memory.detail or ""
                else:
                    session.action = "verified"
            elif diagnosis == "healthy":
                if memory.healthy_since is None:
                    memory.healthy_since = self.ts
                if self.ts - memory.healthy_since >= s.healthy_reset_minutes * 60:
                    memory.restarts = []
                    memory.failures = 0
                    memory.rate_limit_attempts = 0
            if diagnosis != "healthy":
                memory.healthy_since = None
            if server_down and session.restart:
                session.detail = (session.detail + "; " if session.detail else "") + (
                    "tmux server down: one incident"
                )

    def _classify(self, session: _Session) -> None:
        facts, memory = session.facts, session.memory
        if (
            facts.finished
            and facts.exit_code == 0
            and not facts.auth
            and not facts.rate
            and memory.incarnation == session.incarnation
            and memory.diagnosis in {"completed", "read_and_exit"}
        ):
            facts.changed_nothing = memory.diagnosis == "read_and_exit"
        elif (
            facts.finished
            and facts.exit_code == 0
            and facts.age is not None
            and facts.age <= self.settings.read_exit_seconds
        ):
            from heartbeat.verify import verify

            session.verification = verify(
                session.entry.dir, session.entry.command, session.started_at
            )
            facts.changed_nothing = session.verification.changed_nothing
        session.diagnosis = rules.diagnose(facts, self.settings)

    def _rate_limit(self, session: _Session, rate_count: int) -> None:
        s, memory, facts = self.settings, session.memory, session.facts
        if session.entry.name and facts.exists and not facts.finished:
            session.action = "reported"
            session.detail = "still running; it reported a rate limit"
        elif memory.hold_reason != "rate_limit" or memory.incarnation != session.incarnation:
            if facts.reset is not None:
                until = facts.reset.timestamp() + s.rate_limit_margin_minutes * 60
                margin = s.rate_limit_margin_minutes
                how = f"the stated reset {facts.reset.strftime('%H:%M')} + {margin:g} min"
            else:
                base = s.rate_limit_backoff_minutes * 60 * 2**memory.rate_limit_attempts
                delay = min(base, s.rate_limit_backoff_cap_minutes * 60)
                delay *= random.uniform(0.8, 1.2)
                until = self.ts + delay
                how = f"backoff {_minutes(delay)}"
            memory.hold_until = until
            memory.hold_reason = "rate_limit"
            memory.rate_limit_attempts += 1
            session.action = "backoff"
            session.detail = f"held until {self._clock(until)}: {how}"
        elif memory.hold_until is not None and self.ts < memory.hold_until:
            session.action = "backoff"
            session.detail = f"held until {self._clock(memory.hold_until)}"
        elif self.rate_restarts_this_check >= 1:
            session.action = "backoff"
            session.detail = "staggered: one rate-limited restart per check"
        else:
            self.rate_restarts_this_check += 1
            session.restart = True
            session.action = "restarted"
            session.detail = "hold over"
        until_text = self._clock(memory.hold_until) if memory.hold_until else "the reset"
        session.hint = rules.HINTS["rate_limited"].format(until=until_text)
        if rate_count > 1:
            session.hint += "; " + rules.HINTS["rate_parallel"]

    def _budget(self, session: _Session) -> None:
        s, memory = self.settings, session.memory
        recent = [r for r in memory.restarts if self.ts - r < 3600]
        if memory.blocked == "gave_up":
            session.action = "gave_up"
            session.detail = "gave up earlier; waiting for `heartbeat notes resume`"
            session.hint = rules.HINTS["gave_up"].format(
                count=len(recent) or s.max_restarts_per_hour, name=session.entry.name
            )
            return
        if len(recent) >= s.max_restarts_per_hour:
            memory.blocked = "gave_up"
            session.action = "gave_up"
            session.detail = f"{len(recent)} restarts within the hour; not restarting again"
            session.hint = rules.HINTS["gave_up"].format(count=len(recent), name=session.entry.name)
            return
        if recent:
            delay = min(s.backoff_minutes * 60 * 2 ** (len(recent) - 1), s.backoff_cap_minutes * 60)
            if self.ts - recent[-1] < delay:
                session.action = "backoff"
                session.detail = f"next restart after {self._clock(recent[-1] + delay)}"
                return
        if self.restarts_this_check >= s.max_restarts_per_check:
            session.action = "backoff"
            session.detail = f"staggered: at most {s.max_restarts_per_check} restarts per check"
            return
        self.restarts_this_check += 1
        session.restart = True
        session.action = "restarted"
        session.detail = f"({len(recent) + 1}/{s.max_restarts_per_hour})"

    def _clock(self, ts: float) -> str:
        import pendulum

        return pendulum.from_timestamp(ts, tz=self.now.tzinfo).format("HH:mm")  # type: ignore[arg-type]

    # ------------------------------------------------------------------ act

    def second_look(self, sessions: list[_Session]) -> None:
        """Sample again a moment later: new output or a new session cancels a restart."""
        candidates = [x for x in sessions if x.restart]
        if not candidates or self.settings.second_look_seconds <= 0:
            return
        self.sleep(self.settings.second_look_seconds)
        probe = self.tmux.probe({x.entry.name for x in candidates}, self.settings.capture_lines)
        for session in candidates:
            panes = probe.session_panes(session.entry.name) if probe.server == "running" else []
            if not session.panes and panes:
                cancel = "the session exists again"
            elif panes:
                before = "\n".join(session.output).rstrip()
                after = "\n".join(probe.output.get(p.pane_id, "") for p in panes).rstrip()
                cancel = "new output on a second look" if after != before else ""
            else:
                cancel = ""
            if cancel:
                session.restart = False
                session.action = "none"
                session.detail = f"restart cancelled: {cancel}"
                self.restarts_this_check -= 1

    def restart(self, session: _Session) -> None:
        """Recreate the session with the seed's anatomy; a finished one is killed first."""
        entry, memory = session.entry, session.memory
        if self.dry_run:
            session.detail += " (dry run: would restart)"
            return
        if self.no_restart:
            session.detail += " (not restarted: --no-restart)"
            session.action = "reported"
            session.restart = False
            return
        if session.panes and not session.facts.finished:
            session.action = "reported"
            session.detail = "not restarted: the session is still running"
            return
        command = entry
        if session.diagnosis == "read_and_exit":
            ralph = _ralph_command(entry)
            if ralph is not None:
                command = dataclasses.replace(entry, command=ralph, tmux_command=False)
        try:
            name, shell, start_dir, env = build_launch(command, self.settings)
        except ValueError as error:
            session.action = "reported"
            session.detail = f"cannot restart: {error}"
            return
        try:
            result = self.tmux.new_session(name, shell, start_dir, env, replace=bool(session.panes))
        except TmuxError as error:  # a hung server: this restart is reported, the check goes on
            session.action = "reported"
            session.detail = f"restart failed: {error}"
            return
        if result.returncode != 0:
            session.action = "reported"
            session.detail = f"restart failed: {result.stderr.strip()[:200]}"
            return
        memory.restarts.append(self.ts)
        memory.restarted_at = self.ts
        memory.incarnation = None
        if session.diagnosis == "failed":
            memory.failures += 1
        if session.diagnosis == "rate_limited":
            memory.hold_until = None
            memory.hold_reason = None


def _ralph_command(entry: ms.Entry) -> str | None:
    """``codex exec … 'TASK'`` as ``ralphy --codex 'TASK'`` (the seed's Ralph rule)."""
    if entry.tmux_command:
        return None
    try:
        argv = shlex.split(entry.command)
    except ValueError:
        return None
    if len(argv) < 3 or os.path.basename(argv[0]) != "codex" or argv[1] != "exec":
        return None
    task = next((a for a in reversed(argv[2:]) if not a.startswith("-")), None)
    return None if task is None else f"ralphy --codex {shlex.quote(task)}"


def build_launch(
    entry: ms.Entry, settings: Settings
) -> tuple[str, str, str | None, tuple[str, ...]]:
    """(name, shell command, start folder, -e pairs) for a session, per the seed's anatomy.

    A logged full ``tmux … new …`` command is re-created as it was logged (its
    shell command, -c folder and -e pairs), on the configured socket.
    """
    if entry.tmux_command:
        parsed = ms.parse_tmux_new(entry.command)
        if parsed is None:
            raise ValueError("the logged tmux command is not a new-session command")
        if parsed.name != entry.name:
            raise ValueError(f"the logged tmux command names {parsed.name!r}, not {entry.name!r}")
        start = os.path.expanduser(parsed.start_dir) if parsed.start_dir else None
        return entry.name, parsed.shell_command, start, parsed.environment
    return entry.name, anatomy(entry.name, entry.command, entry.dir, settings), None, ()


def anatomy(name: str, command: str, directory: str | None, settings: Settings) -> str:
    """The seed's command: cd, PATH fix, the agent, the completion hook, the sleep tail."""
    parts = []
    where = ""
    if directory:
        folder = os.path.expanduser(directory)
        parts.append(f"cd {shlex.quote(folder)} && ")
        where = f" in {directory}"
    prefix = settings.path_prefix.strip(":")
    path_fix = f"PATH={shlex.quote(prefix)}:$PATH " if prefix else ""
    parts.append(f"{path_fix}{command}; ")
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
    parts.append("sleep 999999")
    return "".join(parts)


# ---------------------------------------------------------------------- notes


def _event_text(session: _Session, now: pendulum.DateTime) -> str | None:
    """The note's log line for a change of state, or None when nothing changed."""
    memory, diagnosis, action = session.memory, session.diagnosis, session.action
    name = session.entry.name
    clock = now.format("HH:mm")
    if action == "restarted" and session.restart:
        return f"{clock} {name} {diagnosis} → restarted {session.detail}".rstrip()
    if action == "gave_up":
        if memory.notified == "gave_up":
            return None
        return f"{clock} {name} {diagnosis} → gave up ({session.detail})"
    if diagnosis == memory.notified:
        return None
    if diagnosis == "healthy":
        if memory.notified in (None, "healthy", "paused"):
            return None
        return f"{clock} {name} healthy again"
    if diagnosis == "completed":
        return f"{clock} {name} completed → verified ({session.detail})"
    if diagnosis == "paused":
        return None
    detail = f" ({session.detail})" if session.detail else ""
    return f"{clock} {name} {diagnosis} → {action}{detail}"


def _is_news(session: _Session) -> bool:
    """Whether a session's event is worth a notification: the state, not the tick (DESIGN §4).

    News is entering a bad state (again, after a restart), giving up, finishing,
    or recovering by itself. A session still in the state already notified (a
    restart staggered to a later check of the same incident) is not news, and
    neither is the heartbeat's own restart working: it was announced already.
    Both still get their line in the note.
    """
    memory = session.memory
    restarted_last_check = memory.diagnosis is None and memory.restarted_at is not None
    if session.diagnosis == "healthy":
        return memory.notified not in (None, "healthy") and not restarted_last_check
    return session.diagnosis != memory.notified or restarted_last_check


def write_back(
    settings: Settings,
    date: datetime.date,
    sessions: list[_Session],
    carry: list[ms.Entry],
    events: list[str],
) -> bool:
    """Carry, update canonical status words and append the events: one atomic edit.

    Returns True when the note was written; a check with nothing to say
    leaves the note untouched (bytes and mtime).
    """
    path = ms.note_path(settings.notes_dir, date)
    wanted: dict[str, str] = {}
    for session in sessions:
        status = rules.POLICIES[session.diagnosis].status
        if session.restart and session.action == "restarted":
            status = "restarted"
        elif session.action == "gave_up":
            status = "failed"
        if status:
            wanted[session.entry.name] = status
    statuses = {
        s.entry.name: wanted[s.entry.name]
        for s in sessions
        if s.entry.name in wanted
        and s.entry.canonical
        and s.entry.file == path
        and s.entry.status not in (wanted[s.entry.name], "paused")
    }
    if not carry and not events and not statuses:
        return False

    def transform(note: ms.ParsedNote) -> str:
        text = note.text.text
        for entry in carry:
            if note.entries_named(entry.name):
                continue
            current = ms.parse_note(text, path)
            text = ms.add_entry(
                current,
                entry.name,
                entry.command,
                "paused" if entry.status == "paused" else wanted.get(entry.name, "running"),
                started=entry.started,
                dir=entry.dir,
                until=entry.until,
            )
        for name, status in statuses.items():
            current = ms.parse_note(text, path)
            mentions = current.entries_named(name)
            if mentions and mentions[-1].canonical and mentions[-1].status != status:
                if mentions[-1].status == "paused":
                    continue
                text = ms.set_status(current, name, status, until=mentions[-1].until)
        if events:
            text = ms.append_log(ms.parse_note(text, path), events)
        return text

    try:
        return ms.edit_note(path, transform, create=ms.new_note_text(date.isoformat()))
    except ms.InvalidEntry as error:  # pragma: no cover - carried entries were readable
        log.warning("could not carry an entry: %s", error)
        return False


# ---------------------------------------------------------------------- the pass


def run_check(
    settings: Settings,
    now: pendulum.DateTime,
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
    lock = check_lock(settings.state_dir) if writes else contextlib.nullcontext()
    with lock:
        return _run(settings, now, day, dry_run, no_restart, writes, tmux, sleep)


def _run(
    settings: Settings,
    now: pendulum.DateTime,
    day: datetime.date,
    dry_run: bool,
    no_restart: bool,
    writes: bool,
    tmux: Tmux | None,
    sleep: Callable[[float], None],
) -> CheckResult:
    fix_process_path(settings)
    try:
        collection = ms.collect(settings.notes_dir, day, settings.days)
    except ms.NoteError as error:
        raise UsageError(str(error)) from None
    problems = list(collection.problems)
    loose = permission_problems(settings, collection.notes)
    problems += loose
    refused = {p.file for p in loose}
    result = CheckResult(
        checked_at=now.isoformat(),
        notes=[str(p) for p in collection.notes],
        sessions=[],
        problems=problems,
        dry_run=dry_run,
    )
    if settings.notes_dir in refused:
        return result
    problem_files = {p.file for p in collection.problems}
    entries = [e for e in collection.entries if e.active and e.file not in refused]
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
        return result
    state = load_state(settings.state_dir)
    result.warnings += state.warnings
    jump = state.rebase(now.timestamp())
    if jump:
        result.warnings.append(
            f"the clock went back {_minutes(jump)} since the last check; "
            "the restart history was moved back with it"
        )
    tmux = tmux or Tmux(settings.socket)
    signatures = table(settings.signatures)
    probe = (
        tmux.probe({e.name for e in entries}, settings.capture_lines)
        if entries
        else Probe("running")
    )
    result.server, result.server_message = probe.server, probe.message
    from heartbeat.logscan import read_new

    log_read = read_new(
        settings.codex_log, state, signatures, now.timestamp(), settings.log_bytes_per_check
    )
    result.log_bytes_read = log_read.bytes_read
    if log_read.error:
        result.warnings.append(log_read.error)
    from heartbeat.state import LogEvent

    for when, match in log_read.matches:
        state.log_events.append(LogEvent(when, match.kind, match.line))
    log_matches = [
        (event.time, _as_match(event.kind, event.line, signatures))
        for event in state.log_events
        if event.kind in {"auth", "rate_limit"}
    ]

    if probe.server in {"no_tmux", "error"}:
        result.problems.append(ms.Problem(settings.socket, 0, probe.message))
        result.tmux_calls = tmux.calls
        return result
    server_down = probe.server in {"no_server", "no_socket"} and bool(entries)

    sessions = []
    for entry in entries:
        memory = state.session(entry.name)
        memory.seen = now.timestamp()
        sessions.append(_observe(entry, probe, memory, signatures, log_matches, now, settings))
    checker = Checker(
        settings,
        now,
        tmux,
        dry_run=not writes,
        no_restart=no_restart,
        sleep=sleep,
    )
    checker.decide(sessions, server_down)
    if writes:
        checker.second_look(sessions)
    if writes and any(s.restart for s in sessions):
        # the budget lives in the state: without it every check would restart again
        warning = save_state(settings.state_dir, state, now.timestamp())
        if warning:
            result.warnings.append(warning)
            for session in sessions:
                if session.restart:
                    session.restart = False
                    session.action = "reported"
                    session.detail = (
                        "not restarted: the state cannot be saved, so the restart budget "
                        "cannot be kept; fix the state folder (HEARTBEAT_STATE_DIR)"
                    )
    for session in sessions:
        if session.restart:
            checker.restart(session)
        if session.action == "verified" and session.verification is None:
            from heartbeat.verify import verify

            session.verification = verify(
                session.entry.dir, session.entry.command, session.started_at
            )
        if session.verification is not None and session.diagnosis == "completed":
            session.detail = session.verification.summary()

    events: list[str] = []
    bad_news: list[str] = []
    for session in sessions:
        event = _event_text(session, now)
        if event:
            events.append(event)
            if _is_news(session):
                bad_news.append(event.split(" ", 1)[1])
    result.events = events
    if writes:
        for session in sessions:
            memory = session.memory
            if session.action == "gave_up":
                memory.notified = "gave_up"
            elif session.diagnosis != "paused" and memory.notified != "gave_up":
                memory.notified = session.diagnosis
            if session.restart and session.action == "restarted":
                memory.diagnosis = None
                memory.verified = None
            else:
                memory.diagnosis = session.diagnosis
                memory.incarnation = session.incarnation
            if session.diagnosis == "completed" and session.verification is not None:
                memory.verified = session.incarnation or "gone"
                memory.detail = session.detail
        notifications: list[NotifyResult] = []
        if bad_news:
            from heartbeat.notify import notify

            if server_down:
                header = f"heartbeat: tmux server down ({probe.message}); "
            else:
                header = "heartbeat: "
            sent = notify(settings.notify, header + "; ".join(bad_news), settings.notify_timeout)
            if sent is not None:
                notifications.append(sent)
        result.notifications = [n.to_json() for n in notifications]
        carry = [
            e
            for e in entries
            if e.file != ms.note_path(settings.notes_dir, day)
            and e.file not in problem_files | refused
        ]
        try:
            result.note_written = write_back(settings, day, sessions, carry, events)
        except (ms.NoteError, OSError) as error:
            result.warnings.append(f"the note was not written: {error}")
        state.last_check = now.timestamp()
        state.checks += 1
        warning = save_state(settings.state_dir, state, now.timestamp())
        if warning and warning not in result.warnings:
            result.warnings.append(warning)
        if settings.ping_url:
            from heartbeat.ping import ping

            ping_error = ping(settings.ping_url)
            if ping_error:
                result.warnings.append(ping_error)
    result.tmux_calls = tmux.calls
    for session in sessions:
        result.sessions.append(_report(session, now.timestamp()))
    log.debug(
        "check %s: %s",
        "dry run" if dry_run else "done",
        ", ".join(f"{s.name}={s.diagnosis}/{s.action}" for s in result.sessions) or "no sessions",
    )
    return result


def _as_match(kind: str, line: str, signatures: t.Sequence[Signature]) -> Match:
    from heartbeat.signatures import Match

    signature = next(s for s in signatures if s.kind == kind)
    return Match(signature, line, {})


def _report(session: _Session, ts: float) -> SessionReport:
    facts = session.facts
    return SessionReport(
        name=session.entry.name,
        state=facts.state,
        exit_code=facts.exit_code,
        diagnosis=session.diagnosis,
        action=session.action,
        restarts=len([r for r in session.memory.restarts if ts - r < 3600]),
        detail=session.detail,
        evidence=session.evidence,
        source=session.entry.source,
        hint=session.hint,
        last_lines=_last_lines(session),
        running_for=facts.age,
        idle=facts.idle,
        verification=session.verification.to_json() if session.verification else None,
    )


def fix_process_path(settings: Settings) -> None:
    """Put the configured prefix on this process's PATH before tmux is called.

    tmux gives a new pane the PATH of the tmux client, and cron's is /usr/bin:/bin.
    """
    current = os.environ.get("PATH", "/usr/bin:/bin")
    missing = [p for p in settings.path_prefix.split(":") if p and p not in current.split(":")]
    if missing:
        os.environ["PATH"] = ":".join([*missing, current])
