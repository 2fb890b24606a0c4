"""The Linux scheduler where a user manager runs: a systemd user timer (DESIGN §7).

``heartbeat.service`` (Type=oneshot) runs the check; ``heartbeat.timer`` starts
it on ``OnCalendar=`` times derived from the cron expression, ``Persistent=true``
so a run missed while the machine was off or asleep happens at the next boot or
wake. Both live in ``$XDG_CONFIG_HOME/systemd/user`` and are loaded with
``systemctl --user daemon-reload`` and ``enable --now``. The unit's environment
is the manager's, not the shell's: the service sets PATH and the HEARTBEAT_* set
at install, and appends its output to ``systemd.log`` in the state folder.

The service says ``KillMode=process``: when the oneshot ends, systemd stops only
the check's own process, not what it started — a tmux server a restart had to
start (and every agent in it) would otherwise die with the service's cgroup
(``KillMode=control-group``, the default). The check also starts such a server
in a scope of its own (heartbeat.scope); this line keeps it where that cannot run.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib
import re
import typing as t

from heartbeat import proc
from heartbeat.errors import ConfigError
from heartbeat.schedule import Change, ScheduleResult
from heartbeat.schedule.job import (
    build_job,
    describe_schedule,
    ensure_log_folder,
    expand,
    log_folder,
    next_runs,
    validate_schedule,
)
from heartbeat.schedule.watch import Installed, self_watch

if t.TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping, Sequence

    import pendulum

    from heartbeat.config import Settings

log = logging.getLogger(__name__)

SERVICE = "heartbeat.service"
TIMER = "heartbeat.timer"
LOG_NAME = "systemd.log"
TIMEOUT = 30.0
NOTE = (
    "# Written by `heartbeat schedule install`; change it with `heartbeat schedule install|remove`."
)
WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_SCHEDULE_LINE = re.compile(r"^# schedule: (.+)$", re.MULTILINE)


class SystemdError(ConfigError):
    """systemctl refused or failed; the message carries its words and what to do."""


def unit_folder() -> pathlib.Path:
    """Where systemd looks for the user's own units."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(pathlib.Path.home() / ".config")
    return pathlib.Path(base) / "systemd" / "user"


def on_calendar(expression: str) -> list[str]:
    """``OnCalendar=`` values that fire when cron would (two when cron's day-or-weekday
    rule applies: systemd requires both, so each gets a line of its own)."""
    minute, hour, day, month, weekday = expand(expression)
    groups = [(day, weekday)]
    if day is not None and weekday is not None:
        groups = [(day, None), (None, weekday)]
    lines = []
    for days, weekdays in groups:
        prefix = "" if weekdays is None else ",".join(WEEKDAYS[w] for w in weekdays) + " "
        months = "*" if month is None else ",".join(f"{m:02d}" for m in month)
        dates = "*" if days is None else ",".join(f"{d:02d}" for d in days)
        clock = f"{_step(hour, 23)}:{_step(minute, 59)}:00"
        lines.append(f"{prefix}*-{months}-{dates} {clock}")
    return lines


def _step(values: list[int] | None, top: int) -> str:
    """A time component: ``*``, ``00/5`` for every 5th from 0 to the end, else a list."""
    if values is None:
        return "*"
    if len(values) > 1 and values[0] == 0:
        step = values[1]
        if values == list(range(0, top + 1, step)):
            return f"00/{step}"
    return ",".join(f"{value:02d}" for value in values)


def _quote(word: str, *, dollars: bool) -> str:
    r"""A word for a unit file: ``%`` doubled (a specifier otherwise), ``$`` doubled on
    command lines (a variable otherwise), double-quoted with ``\`` and ``"`` escaped
    when it holds anything but plain characters."""
    word = word.replace("%", "%%")
    if dollars:
        word = word.replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./$-]+", word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(
    settings: Settings,
    schedule: str,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> tuple[str, str]:
    """The service and the timer for this installation, settings and environment."""
    job = build_job(settings, env, command)
    log_file = str(log_folder(settings) / LOG_NAME).replace("%", "%%")
    assignments = " ".join(_quote(f"{k}={v}", dollars=False) for k, v in job.environment)
    service = (
        f"{NOTE}\n[Unit]\nDescription=heartbeat: check the AI coding sessions in tmux\n\n"
        f"[Service]\nType=oneshot\nKillMode=process\nEnvironment={assignments}\n"
        f"ExecStart={' '.join(_quote(word, dollars=True) for word in job.argv)}\n"
        f"StandardOutput=append:{log_file}\nStandardError=append:{log_file}\n"
    )
    calendars = "".join(f"OnCalendar={line}\n" for line in on_calendar(schedule))
    timer = (
        f"{NOTE}\n# schedule: {schedule}\n[Unit]\n"
        f"Description=heartbeat: run `heartbeat check` {describe_schedule(schedule)}\n\n"
        f"[Timer]\n{calendars}Persistent=true\nAccuracySec=1s\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    return service, timer


def _systemctl(*args: str) -> proc.Result:
    result = proc.run(["systemctl", "--user", *args], timeout=TIMEOUT)
    if result.missing:
        raise SystemdError(
            "'systemctl' is not on PATH: this machine has no systemd; use --via cron"
        )
    return result


def manager_runs() -> bool:
    """Whether a systemd user manager answers (``systemctl --user show-environment``)."""
    return proc.run(["systemctl", "--user", "show-environment"], timeout=TIMEOUT).ok


def _must(*args: str) -> None:
    result = _systemctl(*args)
    if not result.ok:
        raise SystemdError(
            f"`systemctl --user {' '.join(args)}` failed: {result.reason()}; is a user manager "
            "running (`systemctl --user status`; on a server, `loginctl enable-linger`)?"
        )


def is_active() -> bool:
    """Whether the manager has the timer active (``systemctl --user is-active``)."""
    return _systemctl("is-active", TIMER).stdout.strip() == "active"


def install(
    settings: Settings,
    schedule: str,
    now: datetime.datetime,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> ScheduleResult:
    """Write the service and the timer and start the timer; idempotent.

    The same units with the timer active: nothing is written or reloaded.
    Changed units are rewritten, the manager reloaded, the timer restarted.
    Raises UsageError for a bad schedule, SystemdError when systemctl refuses.
    """
    schedule = validate_schedule(schedule)
    service, timer = render(settings, schedule, env, command)
    folder = unit_folder()
    before = [_read(folder / SERVICE), _read(folder / TIMER)]
    was_active = is_active()
    answer = _Answer(settings, schedule, next_runs(schedule, now), service, timer)
    if before == [service, timer] and was_active:
        message = "the systemd timer is already installed and active as asked; nothing changed"
        return answer.result(Change.UNCHANGED, message, running=True)
    ensure_log_folder(settings, SystemdError, "systemd")
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ((SERVICE, service), (TIMER, timer)):
        temp = folder / f".{name}.tmp"
        temp.write_text(text, encoding="utf-8")
        temp.chmod(0o644)
        temp.replace(folder / name)
    _must("daemon-reload")
    _must("enable", "--now", TIMER)
    if was_active:
        _must("restart", TIMER)
    change = Change.INSTALLED if before == [None, None] else Change.REPLACED
    log.info("systemd: %s %s", change, schedule)
    words = "installed and started" if change is Change.INSTALLED else "replaced and restarted"
    return answer.result(change, f"{words} the systemd timer {TIMER}", running=True)


def _read(path: pathlib.Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


@dataclasses.dataclass(frozen=True)
class _Answer:
    """What every systemd answer shares: the settings, the schedule and the units."""

    settings: Settings
    schedule: str | None = None
    runs: list[pendulum.DateTime] = dataclasses.field(default_factory=list)
    service: str | None = None
    timer: str | None = None

    def result(
        self, change: Change | None, message: str, *, running: bool | None, status: str = ""
    ) -> ScheduleResult:
        folder = unit_folder()
        there = self.timer is not None
        text = None
        if there:
            text = f"{folder / SERVICE}:\n{self.service or ''}\n{folder / TIMER}:\n{self.timer}"
        return ScheduleResult(
            via="systemd",
            change=change,
            message=message,
            installed=there,
            schedule=self.schedule,
            next_runs=self.runs,
            log_file=log_folder(self.settings) / LOG_NAME if there else None,
            text=text,
            files=[str(folder / SERVICE), str(folder / TIMER)] if there else [],
            running=running,
            status=status or None,
        )


def remove(settings: Settings) -> ScheduleResult:
    """Stop and disable the timer, delete both units, reload; idempotent. Leaves the log."""
    folder = unit_folder()
    paths = [folder / SERVICE, folder / TIMER]
    existed = [path for path in paths if path.exists()]
    if not existed:
        message = "no heartbeat systemd timer; nothing to remove"
        return _Answer(settings).result(Change.ABSENT, message, running=None)
    _systemctl("disable", "--now", TIMER)  # a timer the manager never loaded: nothing to stop
    for path in existed:
        path.unlink(missing_ok=True)
    _must("daemon-reload")
    message = f"stopped, disabled and removed the systemd timer {TIMER} and {SERVICE}"
    return _Answer(settings).result(Change.REMOVED, message, running=False)


def _properties(unit: str, *names: str) -> dict[str, str]:
    result = _systemctl("show", unit, *(f"--property={name}" for name in names))
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {key: value for key, value in pairs if value}


def show(settings: Settings, now: datetime.datetime) -> ScheduleResult:
    """The units, whether the timer is active (and how the last run ended), the next
    runs and whether the checks keep up. Read-only."""
    folder = unit_folder()
    service, timer = _read(folder / SERVICE), _read(folder / TIMER)
    if timer is None:
        message = (
            "no heartbeat systemd timer; add one with `heartbeat schedule install --via systemd`"
        )
        return _Answer(settings).result(None, message, running=None)
    schedule = schedule_of(timer, folder / TIMER)
    running = is_active()
    timer_facts = _properties(TIMER, "ActiveState", "LastTriggerUSec")
    last_run = _properties(SERVICE, "Result", "ExecMainStatus")
    facts = [f"{key} = {value}" for key, value in {**timer_facts, **last_run}.items()]
    status = ("active" if running else "not active") + (f" ({', '.join(facts)})" if facts else "")
    answer = _Answer(settings, schedule, next_runs(schedule, now), service, timer)
    result = answer.result(
        None, "the systemd timer and its service:", running=running, status=status
    )
    return dataclasses.replace(result, watch=self_watch(settings, now, via="systemd"))


def schedule_of(timer: str, path: pathlib.Path) -> str:
    """The cron expression the timer was written from (its ``# schedule:`` line)."""
    match = _SCHEDULE_LINE.search(timer)
    if match is None:
        raise ValueError(
            f"{path} has no '# schedule:' line; run `heartbeat schedule install` again"
        )
    return validate_schedule(match.group(1).strip(), flag=str(path))


def find_installed(settings: Settings) -> Installed | None:
    """The timer's schedule, read from its file (no systemctl)."""
    path = unit_folder() / TIMER
    timer = _read(path)
    if timer is None:
        return None
    return Installed(
        "systemd", schedule_of(timer, path), str(path), log_folder(settings) / LOG_NAME
    )
