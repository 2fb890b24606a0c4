"""The cron scheduler: one managed block in the user's crontab (DESIGN §7).

Cron runs the entry with ``/bin/sh``, ``PATH=/usr/bin:/bin``, cwd ``HOME``, none
of the user's environment, and cuts the line at an unescaped ``%``: the entry
names absolute paths, sets PATH and the heartbeat's own variables inline, and
escapes every ``%``. Each run's output is appended to ``cron.log`` in the state
folder.
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib
import shlex
import typing as t

from heartbeat.errors import UsageError
from heartbeat.schedule import crontab
from heartbeat.schedule.expr import next_runs, validate_schedule
from heartbeat.schedule.job import CHECK_ARGS, build_job, ensure_log_folder, log_folder
from heartbeat.schedule.result import Change, ScheduleResult
from heartbeat.schedule.watch import Installed, SelfWatch, self_watch

if t.TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping, Sequence

    import pendulum

    from heartbeat.config import Settings

log = logging.getLogger(__name__)

NOTE = "# Written by `heartbeat cron install`; change it with `heartbeat cron install|remove`."
LOG_NAME = "cron.log"


def escape_percent(text: str) -> str:
    """Cron turns an unescaped ``%`` into a newline (the rest becomes stdin): escape them."""
    return text.replace("%", r"\%")


def render_entry(
    schedule: str,
    command: Sequence[str],
    path: str,
    variables: Sequence[tuple[str, str]],
    log_file: pathlib.Path,
) -> str:
    """One crontab line: ``SCHEDULE env PATH=… VAR=… HEARTBEAT check --quiet >> LOG 2>&1``.

    Values are shell-quoted, then every ``%`` is escaped for cron. Raises
    UsageError for a value with a line break (a crontab entry is one line).
    """
    assignments = [("PATH", path), *variables]
    for name, value in assignments:
        if "\n" in value or "\r" in value:
            raise UsageError(f"{name} contains a line break; a crontab entry is one line: fix it")
    words = ["env", *(f"{name}={shlex.quote(value)}" for name, value in assignments)]
    words += [shlex.quote(part) for part in command]
    words += [*CHECK_ARGS, ">>", shlex.quote(str(log_file)), "2>&1"]
    return escape_percent(f"{schedule} {' '.join(words)}")


def render_block(entry: str) -> str:
    return f"{crontab.BEGIN}\n{NOTE}\n{entry}\n{crontab.END}\n"


def build_entry(
    settings: Settings,
    schedule: str,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> str:
    """The crontab line for this installation, settings and environment (``build_job``)."""
    job = build_job(settings, env, command)
    log_file = log_folder(settings) / LOG_NAME
    return render_entry(schedule, job.command, job.path, job.variables, log_file)


@dataclasses.dataclass(frozen=True)
class CronResult:
    """What ``install``/``remove``/``show`` did and found (`heartbeat cron`'s JSON)."""

    change: Change | None
    block: str | None
    schedule: str | None
    next_runs: list[pendulum.DateTime]
    log_file: pathlib.Path | None
    watch: SelfWatch | None = None

    @property
    def message(self) -> str:
        if self.change is Change.INSTALLED:
            return "installed the heartbeat entry in your crontab"
        if self.change is Change.REPLACED:
            return "replaced the heartbeat entry in your crontab"
        if self.change is Change.UNCHANGED:
            return "the heartbeat entry is already installed as asked; crontab unchanged"
        if self.change is Change.REMOVED:
            return "removed the heartbeat entry from your crontab"
        if self.change is Change.ABSENT:
            return "no heartbeat entry in your crontab; nothing to remove"
        if self.block is None and self.schedule is not None:
            return (
                f"a hand-written crontab entry runs `heartbeat check` ({self.schedule}); "
                "`heartbeat cron install` would add a managed one beside it"
            )
        if self.block is None:
            return "no heartbeat entry in your crontab; add one with `heartbeat cron install`"
        return "the heartbeat entry in your crontab:"

    def to_json(self) -> dict[str, t.Any]:
        return {
            "change": None if self.change is None else str(self.change),
            "installed": self.block is not None,
            "block": self.block,
            "schedule": self.schedule,
            "next_runs": [run.isoformat() for run in self.next_runs],
            "log_file": None if self.log_file is None else str(self.log_file),
            "self_watch": None if self.watch is None else self.watch.to_json(),
        }

    def as_schedule(self) -> ScheduleResult:
        """The same answer in the shape every scheduler gives (`heartbeat schedule`)."""
        return ScheduleResult(
            via="cron",
            change=self.change,
            message=self.message,
            installed=self.schedule is not None,
            schedule=self.schedule,
            next_runs=self.next_runs,
            log_file=self.log_file if self.block else None,
            text=self.block,
            running=daemon_running() if self.schedule else None,
            watch=self.watch,
            extra={"block": self.block},
        )


def install(
    settings: Settings,
    schedule: str,
    now: datetime.datetime,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> CronResult:
    """Install (or replace in place) the managed block that runs ``heartbeat check``.

    Idempotent: when the block is already exactly this one, the crontab is not
    written at all. Creates the state folder, so cron can append to ``cron.log``
    there. Raises UsageError for a bad schedule, CrontabError when crontab
    cannot be read or refuses the table.
    """
    schedule = validate_schedule(schedule)
    block = render_block(build_entry(settings, schedule, env, command))
    table = crontab.read_table()
    blocks = crontab.find_blocks(table.text)
    log_file = log_folder(settings) / LOG_NAME
    runs = next_runs(schedule, now)
    if len(blocks) == 1 and blocks[0].text == block:
        return CronResult(Change.UNCHANGED, block, schedule, runs, log_file)
    crontab.check_writable(table.text)
    ensure_log_folder(settings, crontab.CrontabError, "cron")
    crontab.write_table(crontab.splice(table.text, block))
    change = Change.REPLACED if blocks else Change.INSTALLED
    log.info("cron: %s %s", change, schedule)
    return CronResult(change, block, schedule, runs, log_file)


def remove() -> CronResult:
    """Take the managed block out of the crontab, keeping every other byte.

    A table left empty is removed (``crontab -r``): no crontab and an empty one
    read the same. Idempotent: without a block, nothing is written. Needs no
    settings, so a broken configuration never stands in the way of removing.
    """
    table = crontab.read_table()
    if not crontab.find_blocks(table.text):
        return CronResult(Change.ABSENT, None, None, [], None)
    crontab.check_writable(table.text)
    crontab.write_table(crontab.splice(table.text, ""))
    return CronResult(Change.REMOVED, None, None, [], None)


def show(settings: Settings, now: datetime.datetime) -> CronResult:
    """The managed block, its next three runs, and whether the heartbeat kept to it.

    Read-only. Raises CrontabError when the crontab cannot be read.
    """
    table = crontab.read_table()
    blocks = crontab.find_blocks(table.text)
    log_file = log_folder(settings) / LOG_NAME
    watch = self_watch(settings, now, table=table.text, via="cron")
    block = blocks[0].text if blocks else None
    schedule = blocks[0].schedule if blocks else watch.schedule
    runs = next_runs(schedule, now) if schedule else []
    return CronResult(None, block, schedule, runs, log_file, watch)


def find_installed(settings: Settings, table: str | None = None) -> Installed | None:
    """The crontab's entry that runs the heartbeat, read with ``crontab.find_entry``.

    Reads the crontab unless ``table`` is given; raises CrontabError when it cannot.
    """
    text = crontab.read_table().text if table is None else table
    entry = crontab.find_entry(text)
    if entry is None:
        return None
    return Installed("cron", entry.schedule, entry.where, log_folder(settings) / LOG_NAME)


def daemon_running() -> bool | None:
    """Whether a cron daemon runs on this machine (None where /proc cannot tell)."""
    proc = pathlib.Path("/proc")
    if not proc.is_dir():
        return None
    for comm in proc.glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in {"cron", "crond"}:
                return True
        except OSError:
            continue
    return False
