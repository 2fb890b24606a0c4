"""The heartbeat watching itself: did the last check come when its scheduler should have run it?

Each check records its time (``state.last_check``); the scheduler that runs the
checks — a crontab entry, a LaunchAgent, a systemd timer or an OpenClaw
automation — is found from what it left on disk (``installed``), and ``judge``
compares the two for any clock.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import pathlib
import typing as t

import pendulum
from croniter import croniter

from heartbeat.errors import HeartbeatError
from heartbeat.schedule import LOOK_ORDER, SCHEDULERS, scheduler
from heartbeat.schedule.job import describe_schedule, local, local_zone, next_runs
from heartbeat.state import load_state
from heartbeat.words import format_duration

if t.TYPE_CHECKING:
    from heartbeat.config import Settings
    from heartbeat.state import State

#: Counting missed runs stops here (a minutely schedule left for a week).
MAX_MISSED = 1000


class WatchStatus(enum.StrEnum):
    """How the heartbeat kept to its own schedule."""

    OK = "ok"
    LATE = "late"
    NEVER = "never"
    NOT_INSTALLED = "not_installed"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True)
class Installed:
    """A scheduler that runs the heartbeat, as found on disk."""

    via: str
    schedule: str
    #: Where it was found: "managed block", a plist or timer path, "automation ID".
    where: str
    log_file: pathlib.Path | None = None


@dataclasses.dataclass(frozen=True)
class SelfWatch:
    """The heartbeat's own health: did the last check happen when it should have?

    ``due`` is the scheduled time whose check is missing (LATE) or the next one;
    ``missed`` counts the scheduled runs without a check (LATE only).
    """

    status: WatchStatus
    message: str
    schedule: str | None = None
    last_check: pendulum.DateTime | None = None
    due: pendulum.DateTime | None = None
    missed: int = 0
    via: str | None = None

    @property
    def late(self) -> bool:
        return self.status is WatchStatus.LATE

    def to_json(self) -> dict[str, t.Any]:
        return {
            "status": str(self.status),
            "late": self.late,
            "message": self.message,
            "schedule": self.schedule,
            "via": self.via,
            "last_check": None if self.last_check is None else self.last_check.isoformat(),
            "due": None if self.due is None else self.due.isoformat(),
            "missed": self.missed,
        }


def _clock(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _ago(now: pendulum.DateTime, then: pendulum.DateTime) -> str:
    return f"{format_duration((now - then).total_seconds())} ago"


def _not_installed(via: str | None) -> str:
    if via == "cron":
        return (
            "no heartbeat entry in the crontab: nothing runs the checks "
            "(install one with `heartbeat cron install`)"
        )
    return (
        "no scheduler runs the heartbeat (no crontab entry, LaunchAgent, systemd timer or "
        "OpenClaw automation): nothing runs the checks (install one with "
        "`heartbeat schedule install`)"
    )


def judge(
    schedule: str | None,
    last_check: float | None,
    now: datetime.datetime,
    grace_minutes: float,
    *,
    log_file: pathlib.Path | None = None,
    via: str | None = "cron",
) -> SelfWatch:
    """Whether the heartbeat missed its schedule: pure, for any clock.

    LATE when the first scheduled run after the last check is more than
    ``grace_minutes`` in the past (the check it should have recorded never
    came); NEVER when no check was ever recorded; NOT_INSTALLED without a
    schedule. ``last_check`` is epoch seconds (``state.last_check``); ``via``
    names the scheduler in the message (``SCHEDULERS``).
    """
    local_now = local(now)
    grace = datetime.timedelta(minutes=grace_minutes)
    last = (
        None
        if last_check is None
        else pendulum.from_timestamp(last_check).in_timezone(local_zone())
    )
    where = f" (each run's output goes to {log_file})" if log_file else ""
    if schedule is None:
        seen = f"; last check {_ago(local_now, last)}" if last else "; no check recorded yet"
        return SelfWatch(
            WatchStatus.NOT_INSTALLED, _not_installed(via) + seen, last_check=last, via=via
        )
    runs_it = {one.name: one for one in SCHEDULERS}.get(via or "cron") or SCHEDULERS[-1]
    runner, question = runs_it.called, runs_it.ask
    words = describe_schedule(schedule)
    if last is None:
        due = next_runs(schedule, local_now, 1)[0]
        return SelfWatch(
            WatchStatus.NEVER,
            f"no check recorded yet; {runner} runs it {words}, next at {_clock(due)}{where}",
            schedule=schedule,
            due=due,
            via=via,
        )
    slots = croniter(schedule, last)
    due = pendulum.instance(slots.get_next(datetime.datetime))
    if due + grace >= local_now:
        upcoming = due if due > local_now else next_runs(schedule, local_now, 1)[0]
        return SelfWatch(
            WatchStatus.OK,
            f"the heartbeat keeps its schedule ({words}): last check {_ago(local_now, last)}, "
            f"next at {_clock(upcoming)}",
            schedule=schedule,
            last_check=last,
            due=upcoming,
            via=via,
        )
    missed, slot = 1, due
    while missed < MAX_MISSED:
        slot = pendulum.instance(slots.get_next(datetime.datetime))
        if slot + grace >= local_now:
            break
        missed += 1
    plural = "run" if missed == 1 else "runs"
    more = "+" if missed >= MAX_MISSED else ""
    return SelfWatch(
        WatchStatus.LATE,
        f"the heartbeat missed its schedule: last check {_clock(last)} "
        f"({_ago(local_now, last)}), a check was due at {_clock(due)} ({words}); "
        f"{missed}{more} {plural} missed. {question}{where}?",
        schedule=schedule,
        last_check=last,
        due=due,
        missed=missed,
        via=via,
    )


def installed(
    settings: Settings, *, table: str | None = None, via: str | None = None
) -> tuple[list[Installed], list[str]]:
    """The schedulers that run the heartbeat (in ``LOOK_ORDER``), and what could not be read.

    Reads the crontab (unless ``table`` is given) and the files the other
    schedulers keep (a plist, a timer, a record of the automation); runs no
    scheduler's command. ``via`` looks at that scheduler only.
    """
    # a cycle: heartbeat.schedule.cron imports this module
    from heartbeat.schedule import cron

    found: list[Installed] = []
    errors: list[str] = []
    for name in LOOK_ORDER if via is None else (via,):
        try:
            if name == "cron":  # the crontab may have been read already
                one = cron.find_installed(settings, table)
            else:
                one = scheduler(name).find_installed(settings)
        except (HeartbeatError, OSError, ValueError, TypeError) as error:
            errors.append(str(error))
            continue
        if one is not None:
            found.append(one)
    return found, errors


def self_watch(
    settings: Settings,
    now: datetime.datetime,
    *,
    table: str | None = None,
    state: State | None = None,
    via: str | None = None,
) -> SelfWatch:
    """The heartbeat watching itself, from its scheduler and ``state.last_check``.

    Looks at every scheduler unless ``via`` names one; reads the crontab unless
    ``table`` is given, and the state (``load_state``) unless ``state`` is.
    Never raises: a scheduler that cannot be read gives UNKNOWN with the reason
    when no other one is found. For `status` and `doctor` as much as `show`.
    """
    if state is None:
        state = load_state(settings.state_dir)
    found, errors = installed(settings, table=table, via=via)
    if not found and errors:
        return SelfWatch(WatchStatus.UNKNOWN, errors[0], via=via)
    first = found[0] if found else None
    return judge(
        first.schedule if first else None,
        state.last_check,
        now,
        settings.cron_grace_minutes,
        log_file=first.log_file if first else None,
        via=first.via if first else via,
    )
