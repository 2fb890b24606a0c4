"""`heartbeat schedule`: run the check from the platform's own scheduler (DESIGN §7).

The schedulers are a table (``SCHEDULERS``): each is a module of this package
with the same four functions (``Scheduler``), each idempotent and removing
exactly what it installed. ``native`` picks launchd on macOS, a systemd user
timer where a user manager answers, else cron, and says why; ``install``,
``remove`` and ``show`` hand the work to the scheduler asked for. Every one
answers with a ``ScheduleResult``.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import sys
import typing as t

from heartbeat.errors import UsageError

if t.TYPE_CHECKING:
    import datetime
    import pathlib

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.schedule.watch import Installed, SelfWatch


class Scheduler(t.Protocol):
    """What every scheduler's module offers (``heartbeat.schedule.<via>``)."""

    def install(
        self, settings: Settings, schedule: str, now: datetime.datetime
    ) -> ScheduleResult: ...

    def remove(self, settings: Settings) -> ScheduleResult: ...

    def show(self, settings: Settings, now: datetime.datetime) -> ScheduleResult: ...

    def find_installed(self, settings: Settings) -> Installed | None: ...


class Via(t.NamedTuple):
    """One scheduler: its name (and module), how a sentence names it, what to ask
    when the checks stop coming."""

    name: str
    called: str
    ask: str


#: Every scheduler, in the order `--via` lists them.
SCHEDULERS = (
    Via(
        "launchd", "launchd", "Is the LaunchAgent loaded (`heartbeat schedule show --via launchd`)"
    ),
    Via(
        "systemd",
        "the systemd timer",
        "Is the timer active (`systemctl --user status heartbeat.timer`)",
    ),
    Via("openclaw", "OpenClaw", "Is the OpenClaw gateway running (`openclaw gateway status`)"),
    Via("cron", "cron", "Is the cron daemon running"),
)
VIAS = tuple(via.name for via in SCHEDULERS)
#: The order in which what runs the heartbeat is looked for (the crontab first).
LOOK_ORDER = ("cron", "launchd", "systemd", "openclaw")


def scheduler(via: str) -> Scheduler:
    """The module of scheduler *via* (one of ``VIAS``), imported when first asked for."""
    return t.cast("Scheduler", importlib.import_module(f"heartbeat.schedule.{check_via(via)}"))


class Change(enum.StrEnum):
    INSTALLED = "installed"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    ABSENT = "absent"


@dataclasses.dataclass(frozen=True)
class ScheduleResult:
    """One scheduler's answer: what changed, what is installed, when it runs next.

    ``text`` is what heartbeat installed as the user would read it (the crontab
    block, the plist, the unit files, the automation's command); ``log_file``
    where that job's runs write; ``running`` is whether the scheduler has it
    loaded or active (None: not asked or not knowable); ``why`` says why this
    scheduler was chosen when none was named. ``spelling`` is the command that
    asked: "cron" (`heartbeat cron …`, the cron spelling of `schedule … --via
    cron`) keeps that command's JSON keys and exit rule.
    """

    via: str
    change: Change | None
    message: str
    installed: bool
    schedule: str | None = None
    next_runs: list[pendulum.DateTime] = dataclasses.field(default_factory=list)
    log_file: pathlib.Path | None = None
    text: str | None = None
    files: list[str] = dataclasses.field(default_factory=list)
    job_id: str | None = None
    running: bool | None = None
    status: str | None = None
    watch: SelfWatch | None = None
    why: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    spelling: t.Literal["schedule", "cron"] = "schedule"

    @property
    def job_log(self) -> pathlib.Path | None:
        """Where each run writes, when heartbeat's own job is there (``text``)."""
        return self.log_file if self.text is not None else None

    @property
    def needs_you(self) -> bool:
        """Nothing installed, not running, or the checks missed the schedule (`show` exits 1).

        The cron spelling never asked whether the cron daemon runs.
        """
        late = self.watch is not None and self.watch.late
        if self.spelling == "cron":
            return self.schedule is None or late
        return not self.installed or self.running is False or late

    def to_json(self) -> dict[str, t.Any]:
        runs = [run.isoformat() for run in self.next_runs]
        watch = None if self.watch is None else self.watch.to_json()
        if self.spelling == "cron":
            return {
                "change": None if self.change is None else str(self.change),
                "installed": self.text is not None,
                "block": self.text,
                "schedule": self.schedule,
                "next_runs": runs,
                "log_file": None if self.log_file is None else str(self.log_file),
                "self_watch": watch,
            }
        return {
            "via": self.via,
            "why": self.why,
            "change": None if self.change is None else str(self.change),
            "installed": self.installed,
            "schedule": self.schedule,
            "next_runs": runs,
            "log_file": None if self.job_log is None else str(self.job_log),
            "files": self.files,
            "job_id": self.job_id,
            "running": self.running,
            "status": self.status,
            "text": self.text,
            "notes": self.notes,
            "self_watch": watch,
            **self.extra,
        }


@dataclasses.dataclass(frozen=True)
class Schedulers:
    """The answers of every scheduler `remove` or `show` asked, in order."""

    results: list[ScheduleResult]

    @property
    def needs_you(self) -> bool:
        return any(result.needs_you for result in self.results)

    def to_json(self) -> dict[str, t.Any]:
        return {"schedulers": [result.to_json() for result in self.results]}


@dataclasses.dataclass(frozen=True)
class Choice:
    via: str
    why: str


def native(platform: str | None = None) -> Choice:
    """The platform's own scheduler and why: ``platform`` is ``sys.platform`` unless given."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return Choice("launchd", "macOS: launchd runs the checks missed while the Mac slept")
    # a cycle: heartbeat.schedule.systemd imports this package
    from heartbeat.schedule import systemd

    if systemd.manager_runs():
        return Choice("systemd", "a systemd user manager runs here")
    return Choice(
        "cron", "no systemd user manager answers here (`systemctl --user show-environment`)"
    )


def check_via(via: str | None) -> str | None:
    if via is not None and via not in VIAS:
        raise UsageError(f"--via {via!r} is not a scheduler; choose one of {', '.join(VIAS)}")
    return via


def install(
    settings: Settings,
    expression: str,
    now: datetime.datetime,
    *,
    via: str | None = None,
    platform: str | None = None,
) -> ScheduleResult:
    """Install the check in ``via`` (default: ``native``); see each scheduler's ``install``.

    Notes any other scheduler that already runs the heartbeat (two would run
    every check twice). Raises UsageError for a bad schedule or ``via``, and the
    scheduler's ConfigError when it refuses.
    """
    # a cycle: heartbeat.schedule.watch imports this package
    from heartbeat.schedule.watch import installed

    named = check_via(via)
    chosen = Choice(named, "") if named else native(platform)
    result = scheduler(chosen.via).install(settings, expression, now)
    others, _ = installed(settings)
    notes = [
        f"{other.via} also runs the heartbeat ({other.where}): every check would run twice; "
        f"`heartbeat schedule remove --via {other.via}` takes it out"
        for other in others
        if other.via != chosen.via
    ]
    return dataclasses.replace(result, why=chosen.why or None, notes=notes)


def remove(
    settings: Settings, *, via: str | None = None, platform: str | None = None
) -> Schedulers:
    """Remove the heartbeat from ``via``; without it, from every scheduler that runs it
    (or, when none does, say so for the native one)."""
    targets = _targets(settings, via, platform)
    return Schedulers([scheduler(name).remove(settings) for name in targets])


def show(
    settings: Settings,
    now: datetime.datetime,
    *,
    via: str | None = None,
    platform: str | None = None,
) -> Schedulers:
    """What ``via`` runs (without it: every scheduler that runs the heartbeat, else the
    native one), its next runs, whether it runs and whether the checks keep up."""
    targets = _targets(settings, via, platform)
    return Schedulers([scheduler(name).show(settings, now) for name in targets])


def _targets(settings: Settings, via: str | None, platform: str | None) -> list[str]:
    # a cycle: heartbeat.schedule.watch imports this package
    from heartbeat.schedule.watch import installed

    if check_via(via):
        return [t.cast("str", via)]
    found, _ = installed(settings)
    return [one.via for one in found] or [native(platform).via]
