"""The scheduled job: when it runs (a cron expression) and what it runs (this heartbeat).

When: ``--every 5m`` and ``--schedule CRON`` both become a five-field
expression (or an @-word) that cron and croniter both accept; launchd's
calendar entries, the systemd timer's ``OnCalendar=`` and OpenClaw's
``--every``/``--cron`` are derived from it, and ``next_runs`` and the self-watch
read it back. The schedulers evaluate a schedule in the machine's local time, so
every schedule here is evaluated (and shown) in ``local_zone()``, whatever the
``timezone`` setting says; croniter reads naive datetimes as UTC, so it only
ever gets aware ones.

What: a scheduler gives a job almost nothing of the user's shell (cron
``/usr/bin:/bin``, launchd ``/usr/bin:/bin:/usr/sbin:/sbin``, a systemd user unit
the manager's environment, OpenClaw its gateway's). So the job names absolute
paths and carries a PATH (the configured prefix, the folders of the tools a
check runs as found now, then ``/usr/bin:/bin``) and the heartbeat's own
variables as set at install.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import re
import sys
import typing as t

import pendulum
from croniter import croniter

# pendulum.local_timezone, under another name mypy does not mistake for a module.
from pendulum.tz.local_timezone import get_local_timezone

from heartbeat import config, proc
from heartbeat.errors import UsageError

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from heartbeat.config import Settings

# --------------------------------------------------------------------------- when

DEFAULT_EVERY = "5m"
#: The @-words that both cron and croniter understand (not @reboot: it has no next run).
NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_NAMES = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat"
#: One field of a classic five-field expression: no croniter-only syntax (L, W, #, ?, H).
_FIELD = re.compile(rf"^(?:[0-9*,/-]|{_NAMES})+$", re.IGNORECASE)
_SINGLE_RANGE = re.compile(r"\b(\w+)-\1\b(?!/)", re.IGNORECASE)
_EVERY = re.compile(r"^\s*(\d+)\s*([mh])\s*$", re.IGNORECASE)
#: Names of the five fields, in order, and their ranges.
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 6))


def every_to_schedule(every: str) -> str:
    """The cron expression for ``--every``: ``1m``..``59m`` or ``1h``..``23h``.

    A step that does not divide the hour (or day) restarts at each hour (or
    midnight), as cron's ``*/N`` does: ``7m`` runs at :00, :07 … :56, then :00.
    Raises UsageError naming ``--every``.
    """
    match = _EVERY.match(every)
    if match:
        number, unit = int(match.group(1)), match.group(2).lower()
        if unit == "m" and 1 <= number <= 59:
            return "* * * * *" if number == 1 else f"*/{number} * * * *"
        if unit == "h" and 1 <= number <= 23:
            return "0 * * * *" if number == 1 else f"0 */{number} * * *"
    raise UsageError(
        f"--every {every!r} is not a cron interval; write 1m to 59m or 1h to 23h "
        "(or give any cron expression with --schedule)"
    )


def validate_schedule(expression: str, flag: str = "--schedule") -> str:
    """The expression, normalised to single spaces, when cron and croniter both accept it.

    Five fields (minute hour day month weekday) or one of the @-words in
    ``NICKNAMES``; croniter's strict check rejects impossible dates (``0 0 31 2 *``).
    Raises UsageError naming ``flag``.
    """
    # croniter reads a one-value range ("1-1") as the whole field; cron as that value
    fields = [_SINGLE_RANGE.sub(r"\1", field) for field in expression.split()]
    normal = " ".join(fields)
    hint = (
        f"{flag} {expression!r} is not a cron schedule: {{}}; write five fields "
        "(minute hour day month weekday), e.g. '*/5 * * * *'"
    )
    if len(fields) == 1 and fields[0].lower() in NICKNAMES:
        return fields[0].lower()
    if len(fields) == 1 and fields[0].startswith("@"):
        known = ", ".join(sorted(NICKNAMES))
        raise UsageError(hint.format(f"of the @-words only {known} have a next run"))
    if len(fields) != 5:
        raise UsageError(hint.format(f"{len(fields)} fields, cron needs 5"))
    bad = [field for field in fields if not _FIELD.match(field)]
    if bad:
        raise UsageError(hint.format(f"cron does not understand {bad[0]!r}"))
    if not croniter.is_valid(normal, strict=True):
        raise UsageError(hint.format("a value is out of range or the date never occurs"))
    return normal


def resolve_schedule(every: str | None, schedule: str | None) -> str:
    """The expression asked for by ``--every`` or ``--schedule`` (default every 5 minutes)."""
    if every is not None and schedule is not None:
        raise UsageError("give either --every or --schedule, not both")
    if schedule is not None:
        return validate_schedule(schedule)
    return every_to_schedule(every if every is not None else DEFAULT_EVERY)


def every_of(expression: str) -> str | None:
    """The ``--every`` interval (``5m``, ``2h``) that runs exactly when ``expression`` does,
    or None: only steps that divide the hour or the day keep cron's clock-aligned slots."""
    expression = NICKNAMES.get(expression, expression)
    if expression == "* * * * *":
        return "1m"
    if expression == "0 * * * *":
        return "1h"
    match = re.fullmatch(r"\*/(\d+) \* \* \* \*", expression)
    if match and 60 % int(match.group(1)) == 0:
        return f"{int(match.group(1))}m"
    match = re.fullmatch(r"0 \*/(\d+) \* \* \*", expression)
    if match and 24 % int(match.group(1)) == 0:
        return f"{int(match.group(1))}h"
    return None


def expand(expression: str) -> list[list[int] | None]:
    """The values of each of the five fields (None for a field that matches every value),
    weekdays as 0 (Sunday) to 6. Cron runs when the minute, hour and month match and
    the day *or* the weekday does (when both are restricted; else the one that is)."""
    fields, _ = croniter.expand(NICKNAMES.get(expression, expression))
    expanded: list[list[int] | None] = []
    for values in fields:
        if values == ["*"]:
            expanded.append(None)
        else:
            expanded.append(sorted({int(value) for value in values}))
    return expanded


def local_zone() -> pendulum.Timezone | pendulum.FixedTimezone:
    """The machine's time zone: the one the schedulers evaluate schedules in."""
    return get_local_timezone()


def local(moment: datetime.datetime) -> pendulum.DateTime:
    """``moment`` in local time; raises ValueError for a naive one (croniter would read UTC)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: croniter would read it as UTC; pass an aware time")
    return pendulum.instance(moment).in_timezone(local_zone())


def next_runs(expression: str, now: datetime.datetime, count: int = 3) -> list[pendulum.DateTime]:
    """The next ``count`` runs after ``now``, in the machine's local time."""
    it = croniter(expression, local(now))
    return [pendulum.instance(it.get_next(datetime.datetime)) for _ in range(count)]


def describe_schedule(expression: str) -> str:
    """A few words for the common shapes (``every 5 minutes``), else the expression."""
    words = {
        "* * * * *": "every minute",
        "0 * * * *": "every hour",
        "@hourly": "every hour",
        "@daily": "every day at midnight",
        "@midnight": "every day at midnight",
    }
    if expression in words:
        return words[expression]
    match = re.fullmatch(r"\*/(\d+) \* \* \* \*", expression)
    if match:
        return f"every {match.group(1)} minutes"
    match = re.fullmatch(r"0 \*/(\d+) \* \* \*", expression)
    if match:
        return f"every {match.group(1)} hours"
    return f"on schedule {expression}"


# --------------------------------------------------------------------------- what

#: What cron itself puts on PATH; always last in a job's PATH.
BASE_PATH = ("/usr/bin", "/bin")
#: Programs a check may run (or hand to tmux): their folders go on the job's PATH.
TOOLS = ("tmux", "git", "codex", "ralphy", "claude", "gemini", "openclaw")
#: Variables copied into the job when set at install time: schedulers pass none of the
#: user's environment, and a careful user expects the scheduled check to see what theirs
#: sees. HOME is not among them: every scheduler sets it from the password database.
BAKED_ENV = (
    "HEARTBEAT_NOTES_DIR",
    "HEARTBEAT_SOCKET",
    "HEARTBEAT_STATE_DIR",
    "HEARTBEAT_CONFIG",
    "HEARTBEAT_NOTIFY",
    "HEARTBEAT_PING_URL",
    "HEARTBEAT_TZ",
    "CODEX_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
)
#: Baked as absolute paths: a scheduler's cwd is HOME (or /), not the folder install ran in.
PATH_VARS = frozenset(
    {
        "HEARTBEAT_NOTES_DIR",
        "HEARTBEAT_SOCKET",
        "HEARTBEAT_STATE_DIR",
        "HEARTBEAT_CONFIG",
        "CODEX_HOME",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
    }
)
#: Set even when empty (an empty HEARTBEAT_NOTIFY turns notification off).
KEEP_EMPTY = frozenset({"HEARTBEAT_NOTIFY"})
#: The arguments after the heartbeat command: quiet, so logs hold only news and problems.
CHECK_ARGS = ("check", "--quiet")


@dataclasses.dataclass(frozen=True)
class Job:
    """One scheduled check: the program and its arguments, PATH, and the variables."""

    command: tuple[str, ...]
    path: str
    variables: tuple[tuple[str, str], ...]

    @property
    def argv(self) -> list[str]:
        return [*self.command, *CHECK_ARGS]

    @property
    def environment(self) -> list[tuple[str, str]]:
        """PATH first, then the variables: what the job's environment must hold."""
        return [("PATH", self.path), *self.variables]


def heartbeat_command() -> list[str]:
    """The absolute command that runs this very installation of heartbeat.

    The console script beside the running interpreter (a venv's or pipx's
    ``bin/heartbeat``) when there is one, else ``python -m heartbeat`` with that
    interpreter. Not ``sys.argv[0]`` (it is ``__main__.py`` under ``python -m``
    and pytest under tests) and not ``proc.which`` (it may find another
    installation). ``sys.executable`` is not resolved: a venv's ``python`` is a
    symlink, and resolving it would lose the venv.
    """
    python = pathlib.Path(sys.executable).absolute()
    script = python.parent / "heartbeat"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(python), "-m", "heartbeat"]


def job_path(settings: Settings, env: Mapping[str, str], command: Sequence[str]) -> str:
    """PATH for the job: the configured prefix (the seed's fix), the folders of
    heartbeat and of the tools a check runs (as found now), then ``/usr/bin:/bin``
    (always last)."""
    prefix = settings.path_prefix.split(os.pathsep)
    folders = [os.path.expanduser(folder) for folder in prefix if folder]
    folders.append(str(pathlib.Path(command[0]).parent))
    for tool in TOOLS:
        found = proc.which(tool, path=env.get("PATH", os.defpath))
        if found:
            folders.append(str(pathlib.Path(found).absolute().parent))
    # the base comes last even when a tool lives there, so the order never depends on it
    folders = [folder for folder in folders if folder not in BASE_PATH]
    return os.pathsep.join(dict.fromkeys([*folders, *BASE_PATH]))


def baked_env(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The ``BAKED_ENV`` variables set in ``env``, in that order, paths made absolute."""
    baked = []
    for name in BAKED_ENV:
        value = env.get(name)
        if value is None or (not value and name not in KEEP_EMPTY):
            continue
        if name in PATH_VARS:
            value = str(config.expand(value).absolute())
        baked.append((name, value))
    return baked


def build_job(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> Job:
    """The job for this installation, settings and environment.

    Pins what depends on the installing shell: the ``BAKED_ENV`` variables set
    now, the folders given as flags, and the notes folder when it is the
    ``./memory`` default (a scheduler's cwd is elsewhere: there it would be
    another folder).
    """
    env = os.environ if env is None else env
    command = heartbeat_command() if command is None else list(command)
    variables = dict(baked_env(env))
    for key, var in (
        ("notes_dir", "HEARTBEAT_NOTES_DIR"),
        ("socket", "HEARTBEAT_SOCKET"),
        ("state_dir", "HEARTBEAT_STATE_DIR"),
    ):
        if settings.sources.get(key) == "flag":
            variables[var] = str(pathlib.Path(getattr(settings, key)).absolute())
    relative_default = pathlib.Path.cwd() / "memory"
    if "notes_dir" not in settings.sources and settings.notes_dir == relative_default:
        variables["HEARTBEAT_NOTES_DIR"] = str(settings.notes_dir)
    path = job_path(settings, env, command)
    return Job(tuple(command), path, tuple(variables.items()))


def log_folder(settings: Settings) -> pathlib.Path:
    """The state folder, absolute: where every scheduler's log goes."""
    return settings.state_dir.absolute()


def ensure_log_folder(settings: Settings, error: type[Exception], what: str) -> None:
    """Create the state folder (the scheduler appends its log there), or raise ``error``."""
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as failure:
        raise error(
            f"cannot create the state folder {settings.state_dir} ({failure.strerror}), where "
            f"{what} would write its log; fix its parent's permissions or set HEARTBEAT_STATE_DIR"
        ) from None
