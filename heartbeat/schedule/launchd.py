"""The macOS scheduler: a LaunchAgent in ``~/Library/LaunchAgents`` (DESIGN §7).

On a Mac, cron skips the runs while the machine sleeps; launchd's calendar jobs
run on wake (missed runs are coalesced into one). The plist is written with
``plistlib`` (mode 0644), loaded with ``launchctl bootstrap gui/UID PLIST`` and
unloaded with ``launchctl bootout gui/UID/LABEL`` — what Homebrew's services do;
``launchctl load`` is deprecated. launchd gives a job ``/usr/bin:/bin:/usr/sbin:/sbin``
and nothing of the user's shell: the plist carries PATH and the HEARTBEAT_* set
at install, and sends the output to ``launchd.log`` in the state folder.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import pathlib
import plistlib
import re
import typing as t

from heartbeat import proc
from heartbeat.errors import ConfigError, UsageError
from heartbeat.schedule import Change, ScheduleResult
from heartbeat.schedule.job import (
    build_job,
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

LABEL = "local.heartbeat.check"
LOG_NAME = "launchd.log"
TIMEOUT = 30.0
#: A calendar of more entries than this is a schedule launchd should not be given.
MAX_ENTRIES = 2000
#: The plist's names for the five cron fields, in cron's order.
KEYS = ("Minute", "Hour", "Day", "Month", "Weekday")


class LaunchdError(ConfigError):
    """launchctl refused or failed; the message carries its words and what to do."""


def agents_folder() -> pathlib.Path:
    return pathlib.Path.home() / "Library" / "LaunchAgents"


def plist_path() -> pathlib.Path:
    return agents_folder() / f"{LABEL}.plist"


def _service(uid: int) -> str:
    return f"gui/{uid}/{LABEL}"


def calendar(expression: str) -> list[dict[str, int]]:
    """``StartCalendarInterval`` entries that fire exactly when cron would.

    A field that matches everything is left out (launchd reads a missing key as
    a wildcard). When both the day and the weekday are restricted, cron runs on
    either: the entries are the union of the two. Raises UsageError past
    ``MAX_ENTRIES``. An every-minute schedule has no entries (``StartInterval``).
    """
    fields = expand(expression)
    day, weekday = fields[2], fields[4]
    groups = [fields]
    if day is not None and weekday is not None:
        groups = [[*fields[:4], None], [*fields[:2], None, fields[3], weekday]]
    entries: list[dict[str, int]] = []
    for group in groups:
        keyed = [(KEYS[i], values) for i, values in enumerate(group) if values is not None]
        if not keyed:
            return []
        for combo in itertools.product(*(values for _, values in keyed)):
            entries.append(dict(zip((key for key, _ in keyed), combo, strict=True)))
            if len(entries) > MAX_ENTRIES:
                raise UsageError(
                    f"--schedule {expression!r} needs more than {MAX_ENTRIES} launchd calendar "
                    "entries; give a simpler schedule (or --every)"
                )
    return entries


def schedule_of(plist: Mapping[str, t.Any]) -> str:
    """The cron expression a plist's calendar (or interval) runs on; raises ValueError
    for a calendar that no single expression describes."""
    interval = plist.get("StartInterval")
    if isinstance(interval, int) and not isinstance(interval, bool):
        minutes = max(1, interval // 60)
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    raw = plist.get("StartCalendarInterval")
    entries = [raw] if isinstance(raw, dict) else raw
    if not isinstance(entries, list) or not entries:
        raise ValueError("the LaunchAgent has neither StartCalendarInterval nor StartInterval")
    groups: dict[frozenset[str], list[dict[str, t.Any]]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise TypeError("a StartCalendarInterval entry is not a dictionary")
        groups.setdefault(frozenset(entry), []).append(entry)
    fields = [_fields(group) for group in groups.values()]
    if len(fields) == 2:
        # cron's day-or-weekday: one group names days, the other weekdays, the rest agree
        a, b = sorted(fields, key=lambda found: found[2] is None)
        same = (a[0], a[1], a[3]) == (b[0], b[1], b[3])
        if same and a[2] and b[4] and a[4] is None and b[2] is None:
            fields = [[a[0], a[1], a[2], a[3], b[4]]]
    if len(fields) != 1:
        raise ValueError("the LaunchAgent's calendar is not one cron schedule")
    found = fields[0]
    # with both a day and a weekday cron runs on either: a full list is not a "*" there
    union = found[2] is not None and found[4] is not None
    return " ".join(_compact(v, i, keep=union and i in (2, 4)) for i, v in enumerate(found))


#: The range of each cron field, in cron's order.
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _compact(values: list[int] | None, field: int, *, keep: bool = False) -> str:
    """A field as a person writes it: ``*``, ``*/5``, ``8-22``, else a list
    (``keep``: a full range stays a range)."""
    low, high = _RANGES[field]
    if values is None or (values == list(range(low, high + 1)) and not keep):
        return "*"
    if len(values) > 1 and values[0] == low:
        step = values[1] - values[0]
        if values == list(range(low, high + 1, step)):
            return f"*/{step}"
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}-{values[-1]}"
    return ",".join(map(str, values))


def _fields(entries: list[dict[str, t.Any]]) -> list[list[int] | None]:
    found: list[list[int] | None] = []
    for key in KEYS:
        values = sorted(
            {int(e[key]) % 7 if key == "Weekday" else int(e[key]) for e in entries if key in e}
        )
        found.append(values or None)
    size = 1
    for field in found:
        size *= len(field) if field else 1
    if size != len(entries):
        raise ValueError("the LaunchAgent's calendar is not one cron schedule")
    return found


def render(
    settings: Settings,
    schedule: str,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> bytes:
    """The plist for this installation, settings and environment, as bytes."""
    job = build_job(settings, env, command)
    log_file = str(log_folder(settings) / LOG_NAME)
    plist: dict[str, t.Any] = {
        "Label": LABEL,
        "ProgramArguments": job.argv,
        "EnvironmentVariables": dict(job.environment),
        "StandardOutPath": log_file,
        "StandardErrorPath": log_file,
    }
    entries = calendar(schedule)
    if entries:
        plist["StartCalendarInterval"] = entries
    else:
        plist["StartInterval"] = 60
    return plistlib.dumps(plist, fmt=plistlib.FMT_XML, sort_keys=True)


def _launchctl(*args: str) -> proc.Result:
    result = proc.run(["launchctl", *args], timeout=TIMEOUT)
    if result.missing:
        raise LaunchdError(
            "'launchctl' is not on PATH: launchd schedules only on macOS; "
            "use --via cron or --via systemd here"
        )
    return result


def loaded(uid: int) -> proc.Result:
    """``launchctl print gui/UID/LABEL``: ok when the job is loaded."""
    return _launchctl("print", _service(uid))


def _bootout(uid: int) -> None:
    result = _launchctl("bootout", _service(uid))
    if not result.ok and loaded(uid).ok:
        raise LaunchdError(f"`launchctl bootout {_service(uid)}` failed: {result.reason()}")


def install(
    settings: Settings,
    schedule: str,
    now: datetime.datetime,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
    uid: int | None = None,
) -> ScheduleResult:
    """Write the LaunchAgent and load it; idempotent.

    The same plist already loaded: nothing is written, booted out or in. A
    changed one is booted out, rewritten, and bootstrapped again. Raises
    UsageError for a bad schedule, LaunchdError when launchctl refuses.
    """
    uid = os.getuid() if uid is None else uid
    schedule = validate_schedule(schedule)
    data = render(settings, schedule, env, command)
    path = plist_path()
    before = path.read_bytes() if path.exists() else None
    is_loaded = loaded(uid).ok
    answer = _Answer(settings, schedule, next_runs(schedule, now), data)
    if before == data and is_loaded:
        message = "the LaunchAgent is already installed and loaded as asked; nothing changed"
        return answer.result(Change.UNCHANGED, message, running=True)
    ensure_log_folder(settings, LaunchdError, "launchd")
    if is_loaded:
        _bootout(uid)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    temp.chmod(0o644)
    temp.replace(path)
    result = _launchctl("bootstrap", f"gui/{uid}", str(path))
    if not result.ok:
        raise LaunchdError(
            f"`launchctl bootstrap gui/{uid} {path}` failed: {result.reason()}; the plist is "
            "written but not loaded (the gui domain exists only while you are logged in to "
            "the desktop); try again from a Terminal window, or `heartbeat schedule remove`"
        )
    change = Change.INSTALLED if before is None else Change.REPLACED
    log.info("launchd: %s %s", change, schedule)
    words = "installed and loaded" if before is None else "replaced and reloaded"
    return answer.result(change, f"{words} the LaunchAgent {LABEL}", running=True)


@dataclasses.dataclass(frozen=True)
class _Answer:
    """What every launchd answer shares: the settings, the schedule and the plist."""

    settings: Settings
    schedule: str | None = None
    runs: list[pendulum.DateTime] = dataclasses.field(default_factory=list)
    data: bytes | None = None

    def result(
        self, change: Change | None, message: str, *, running: bool | None, status: str = ""
    ) -> ScheduleResult:
        there = self.data is not None
        return ScheduleResult(
            via="launchd",
            change=change,
            message=message,
            installed=there,
            schedule=self.schedule,
            next_runs=self.runs,
            log_file=log_folder(self.settings) / LOG_NAME if there else None,
            text=self.data.decode("utf-8", "replace") if self.data is not None else None,
            files=[str(plist_path())] if there else [],
            running=running,
            status=status or None,
        )


def remove(settings: Settings, uid: int | None = None) -> ScheduleResult:
    """Boot the LaunchAgent out and delete its plist; idempotent. Leaves the log."""
    uid = os.getuid() if uid is None else uid
    path = plist_path()
    was_loaded = loaded(uid).ok
    if was_loaded:
        _bootout(uid)
    existed = path.exists()
    path.unlink(missing_ok=True)
    if not (was_loaded or existed):
        message = "no heartbeat LaunchAgent; nothing to remove"
        return _Answer(settings).result(Change.ABSENT, message, running=None)
    message = f"booted out and removed the LaunchAgent {LABEL}"
    return _Answer(settings).result(Change.REMOVED, message, running=False)


_FACT = re.compile(r"^\s*(state|runs|last exit code)\s*=\s*(.+?)\s*$", re.MULTILINE)


def show(settings: Settings, now: datetime.datetime, uid: int | None = None) -> ScheduleResult:
    """The plist, whether launchd has it loaded (and what it last said), the next runs
    and whether the checks keep up. Read-only."""
    uid = os.getuid() if uid is None else uid
    path = plist_path()
    if not path.exists():
        message = (
            "no heartbeat LaunchAgent; add one with `heartbeat schedule install --via launchd`"
        )
        return _Answer(settings).result(None, message, running=None)
    data = path.read_bytes()
    schedule = schedule_of(plistlib.loads(data))
    printed = loaded(uid)
    if printed.ok:
        facts = ", ".join(f"{key} = {value}" for key, value in _FACT.findall(printed.stdout))
        status = f"loaded ({facts})" if facts else "loaded"
    else:
        status = f"not loaded ({printed.reason()}): `heartbeat schedule install` loads it"
    answer = _Answer(settings, schedule, next_runs(schedule, now), data)
    result = answer.result(None, f"the LaunchAgent {path}:", running=printed.ok, status=status)
    return dataclasses.replace(result, watch=self_watch(settings, now, via="launchd"))


def find_installed(settings: Settings) -> Installed | None:
    """The LaunchAgent's schedule, read from its plist (no launchctl)."""
    path = plist_path()
    if not path.exists():
        return None
    try:
        plist = plistlib.loads(path.read_bytes())
    except plistlib.InvalidFileException as error:
        raise ValueError(f"{path} is not a plist ({error})") from None
    return Installed("launchd", schedule_of(plist), str(path), log_folder(settings) / LOG_NAME)
