"""The managed crontab block, its schedule, and the heartbeat watching itself (DESIGN §7).

The user's crontab is read with ``crontab -l`` and written with ``crontab FILE``;
the heartbeat owns exactly one block of it, between ``BEGIN`` and ``END``, and
never changes a byte outside that block. Cron runs the entry with ``/bin/sh``,
``PATH=/usr/bin:/bin``, cwd ``HOME``, none of the user's environment, and cuts
the line at an unescaped ``%``: the entry names absolute paths, sets PATH and the
heartbeat's own variables inline, and escapes every ``%``.

Times: cron evaluates a schedule in the machine's local time, so every schedule
here is evaluated (and shown) in ``pendulum.local_timezone()``, whatever the
``timezone`` setting says; croniter reads naive datetimes as UTC, so it only
ever gets aware ones.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import typing as t

from heartbeat.errors import ConfigError, UsageError

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.state import State

log = logging.getLogger(__name__)

BEGIN = "# >>> heartbeat (managed) >>>"
END = "# <<< heartbeat (managed) <<<"
NOTE = "# Written by `heartbeat cron install`; change it with `heartbeat cron install|remove`."
DEFAULT_EVERY = "5m"
LOG_NAME = "cron.log"
#: What cron itself puts on PATH; always last in the entry's PATH.
CRON_PATH = ("/usr/bin", "/bin")
#: Programs a check may run (or hand to tmux): their folders go on the entry's PATH.
TOOLS = ("tmux", "git", "codex", "ralphy", "openclaw")
#: Variables copied into the entry when set at install time: cron passes none of the
#: user's environment, and a careful user expects cron's check to see what theirs sees.
#: HOME is not among them: cron sets it from the password database.
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
#: Baked as absolute paths: cron's cwd is HOME, not the folder install ran in.
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
#: The @-words that both cron and croniter understand (not @reboot: it has no next run).
NICKNAMES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_NAMES = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat"
#: One field of a classic five-field expression: no croniter-only syntax (L, W, #, ?, H).
_FIELD = re.compile(rf"^(?:[0-9*,/-]|{_NAMES})+$", re.IGNORECASE)
_EVERY = re.compile(r"^\s*(\d+)\s*([mh])\s*$", re.IGNORECASE)
_NO_CRONTAB = re.compile(r"no crontab for", re.IGNORECASE)


class CrontabError(ConfigError):
    """The crontab could not be read or written, or its managed block is broken."""


# --------------------------------------------------------------------------- schedules


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
    from croniter import croniter

    fields = expression.split()
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


def local_zone() -> pendulum.Timezone | pendulum.FixedTimezone:
    """The machine's time zone: the one the cron daemon evaluates schedules in."""
    # pendulum.local_timezone, under another name mypy does not mistake for a module.
    from pendulum.tz.local_timezone import get_local_timezone

    return get_local_timezone()


def _local(moment: datetime.datetime) -> pendulum.DateTime:
    import pendulum

    if moment.tzinfo is None:
        raise ValueError("naive datetime: croniter would read it as UTC; pass an aware time")
    return pendulum.instance(moment).in_timezone(local_zone())


def next_runs(expression: str, now: datetime.datetime, count: int = 3) -> list[pendulum.DateTime]:
    """The next ``count`` runs after ``now``, in the machine's local time (cron's)."""
    import pendulum
    from croniter import croniter

    it = croniter(expression, _local(now))
    return [pendulum.instance(it.get_next(datetime.datetime)) for _ in range(count)]


def previous_run(expression: str, now: datetime.datetime) -> pendulum.DateTime:
    """The last scheduled time strictly before ``now``, in local time."""
    import pendulum
    from croniter import croniter

    return pendulum.instance(croniter(expression, _local(now)).get_prev(datetime.datetime))


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


# --------------------------------------------------------------------------- the entry


def heartbeat_command() -> list[str]:
    """The absolute command that runs this very installation of heartbeat.

    The console script beside the running interpreter (a venv's or pipx's
    ``bin/heartbeat``) when there is one, else ``python -m heartbeat`` with that
    interpreter. Not ``sys.argv[0]`` (it is ``__main__.py`` under ``python -m``
    and pytest under tests) and not ``shutil.which`` (it may find another
    installation). ``sys.executable`` is not resolved: a venv's ``python`` is a
    symlink, and resolving it would lose the venv.
    """
    python = pathlib.Path(sys.executable).absolute()
    script = python.parent / "heartbeat"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(python), "-m", "heartbeat"]


def entry_path(settings: Settings, env: Mapping[str, str], command: Sequence[str]) -> str:
    """PATH for the entry: the configured prefix (the seed's fix), the folders of
    heartbeat and of the tools a check runs (as found now), then cron's own."""
    prefix = settings.path_prefix.split(os.pathsep)
    folders = [os.path.expanduser(folder) for folder in prefix if folder]
    folders.append(str(pathlib.Path(command[0]).parent))
    for tool in TOOLS:
        found = shutil.which(tool, path=env.get("PATH", os.defpath))
        if found:
            folders.append(str(pathlib.Path(found).absolute().parent))
    folders.extend(CRON_PATH)
    unique = list(dict.fromkeys(folders))
    return os.pathsep.join(unique)


def baked_env(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The ``BAKED_ENV`` variables set in ``env``, in that order, paths made absolute."""
    from heartbeat.config import expand

    baked = []
    for name in BAKED_ENV:
        value = env.get(name)
        if value is None or (not value and name not in KEEP_EMPTY):
            continue
        if name in PATH_VARS:
            value = str(expand(value).absolute())
        baked.append((name, value))
    return baked


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
    words += ["check", "--quiet", ">>", shlex.quote(str(log_file)), "2>&1"]
    return escape_percent(f"{schedule} {' '.join(words)}")


def render_block(entry: str) -> str:
    return f"{BEGIN}\n{NOTE}\n{entry}\n{END}\n"


def build_entry(
    settings: Settings,
    schedule: str,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> str:
    """The crontab line for this installation, settings and environment.

    Pins what depends on the installing shell: the ``BAKED_ENV`` variables set
    now, the folders given as flags, and the notes folder when it is the
    ``./memory`` default (cron's cwd is HOME: under cron it would be another folder).
    """
    env = os.environ if env is None else env
    command = heartbeat_command() if command is None else command
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
    path = entry_path(settings, env, command)
    log_file = settings.state_dir.absolute() / LOG_NAME
    return render_entry(schedule, command, path, list(variables.items()), log_file)


# --------------------------------------------------------------------------- the crontab


@dataclasses.dataclass(frozen=True)
class Table:
    """The user's crontab as ``crontab -l`` printed it (``exists`` False: no crontab)."""

    text: str
    exists: bool


def _run(argv: Sequence[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(list(argv), input=data, capture_output=True, check=False)
    except FileNotFoundError:
        raise CrontabError(
            f"{argv[0]!r} is not on PATH; install cron (Debian/Ubuntu: apt-get install cron)"
        ) from None
    except OSError as error:
        raise CrontabError(
            f"cannot run {argv[0]!r} ({error.strerror}); check that cron is installed"
        ) from None


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8", "replace").strip() or f"exit status {result.returncode}"


def read_table() -> Table:
    """The user's crontab; no crontab at all ("no crontab for …") is an empty table.

    Bytes that are not UTF-8 are kept (surrogateescape), so writing the table
    back gives the same bytes. Raises CrontabError for any other failure.
    """
    result = _run(["crontab", "-l"])
    if result.returncode == 0:
        return Table(result.stdout.decode("utf-8", "surrogateescape"), exists=True)
    message = _stderr(result)
    if result.returncode == 1 and _NO_CRONTAB.search(message):
        return Table("", exists=False)
    raise CrontabError(
        f"`crontab -l` failed: {message}; check that you may use cron "
        "(/etc/cron.allow, /etc/cron.deny) and that cron is installed"
    )


def write_table(text: str) -> None:
    """Install ``text`` as the user's crontab (``crontab FILE``); empty text removes it.

    Raises CrontabError with crontab's own complaint when it refuses the table.
    """
    if not text:
        result = _run(["crontab", "-r"])
        if result.returncode != 0 and not _NO_CRONTAB.search(_stderr(result)):
            raise CrontabError(f"`crontab -r` failed: {_stderr(result)}")
        return
    with tempfile.NamedTemporaryFile(prefix="heartbeat-crontab-", suffix=".txt") as handle:
        handle.write(text.encode("utf-8", "surrogateescape"))
        handle.flush()
        result = _run(["crontab", handle.name])
    if result.returncode != 0:
        raise CrontabError(
            f"crontab refused the new table: {_stderr(result)}; your crontab is unchanged "
            "(run `crontab -l` to see it)"
        )


@dataclasses.dataclass(frozen=True)
class Block:
    """Where the managed block sits in a table: ``text[start:end]``, whole lines."""

    start: int
    end: int
    text: str

    @property
    def entry(self) -> str | None:
        """The schedule line of the block (its first line that is not a comment)."""
        for line in self.text.split("\n"):
            if line.strip() and not line.lstrip().startswith("#"):
                return line.strip()
        return None

    @property
    def schedule(self) -> str | None:
        return schedule_of(self.entry) if self.entry else None


def _lines(text: str) -> list[tuple[int, str]]:
    r"""(offset, line with its newline) for each line of text, split as cron does:
    at ``\n`` only (``str.splitlines`` would also split at ``\x0b``, ``\u2028`` …)."""
    lines, position = [], 0
    pieces = text.split("\n")
    for index, piece in enumerate(pieces):
        line = piece if index == len(pieces) - 1 else piece + "\n"
        if line:
            lines.append((position, line))
        position += len(line)
    return lines


#: Debian's ``crontab -l`` prints a carriage return as the two characters ``\r``:
#: a table with CRLF line ends cannot be read back as it is stored.
_SHOWN_CR = re.compile(r"\\r(?:\n|\Z)")


def check_writable(text: str) -> None:
    r"""Refuse to rewrite a table whose ``crontab -l`` listing is not its content.

    Raises CrontabError when lines end in a carriage return as Debian's
    ``crontab -l`` shows it (``\r``): writing the listing back would turn each
    CR into a backslash and an ``r``. Cron reads such lines wrongly anyway (the
    CR becomes part of the command or value).
    """
    if _SHOWN_CR.search(text):
        raise CrontabError(
            "your crontab has Windows line endings (`crontab -l` shows them as \\r), which "
            "cannot be written back unchanged and which cron misreads; run `crontab -e`, "
            "save the file with Unix line endings (LF), then run this command again"
        )


def find_blocks(text: str) -> list[Block]:
    """Every managed block of the table, in order.

    Raises CrontabError for a begin marker without its end (or the reverse):
    the table was edited by hand, and only the user knows what it should be.
    """
    blocks: list[Block] = []
    start: int | None = None
    for offset, line in _lines(text):
        marker = line.rstrip("\r\n").strip()
        if marker == BEGIN:
            if start is not None:
                raise _broken("two begin markers in a row")
            start = offset
        elif marker == END:
            if start is None:
                raise _broken("an end marker without its begin marker")
            end = offset + len(line)
            blocks.append(Block(start, end, text[start:end]))
            start = None
    if start is not None:
        raise _broken("a begin marker without its end marker")
    return blocks


def _broken(what: str) -> CrontabError:
    return CrontabError(
        f"the heartbeat block of your crontab is broken ({what}); run `crontab -e`, "
        f"delete the lines from {BEGIN!r} to {END!r}, then `heartbeat cron install` again"
    )


def schedule_of(line: str) -> str | None:
    """The schedule part of a crontab entry line (five fields or an @-word)."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    if fields[0].startswith("@"):
        return fields[0].lower() if fields[0].lower() in NICKNAMES else None
    return " ".join(fields[:5]) if len(fields) > 5 else None


#: A hand-written entry that runs `heartbeat check` (cron/heartbeat.crontab, say).
_HAND_ENTRY = re.compile(r"(?:^|[\s/'\"])heartbeat['\"]?\s+(?:[^#]*\s)?check\b")


def installed_schedule(text: str) -> tuple[str | None, str | None]:
    """(schedule, where) of the entry that runs the heartbeat: the managed block's,
    else a hand-written line that runs ``heartbeat check``; (None, None) when none."""
    blocks = find_blocks(text)
    if blocks and blocks[0].schedule:
        return blocks[0].schedule, "managed block"
    for _, line in _lines(text):
        schedule = schedule_of(line)
        if schedule and _HAND_ENTRY.search(line):
            return schedule, "hand-written entry"
    return None, None


def splice(text: str, block: str) -> str:
    """The table with its managed block replaced by ``block`` ('' removes it).

    The first block is replaced in place, any further ones are dropped, a table
    without one gets the block at its end (after a newline if its last line has
    none: crontab refuses a table without a final newline). Every byte outside
    the blocks is kept.
    """
    blocks = find_blocks(text)
    if not blocks:
        if not block:
            return text
        joiner = "\n" if text and not text.endswith("\n") else ""
        return text + joiner + block
    pieces, position = [], 0
    for index, found in enumerate(blocks):
        pieces.append(text[position : found.start])
        if index == 0:
            pieces.append(block)
        position = found.end
    pieces.append(text[position:])
    return "".join(pieces)


# --------------------------------------------------------------------------- commands


class Change(enum.StrEnum):
    INSTALLED = "installed"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    ABSENT = "absent"


@dataclasses.dataclass(frozen=True)
class CronResult:
    """What ``install``/``remove``/``show`` did and found."""

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
    table = read_table()
    blocks = find_blocks(table.text)
    log_file = settings.state_dir.absolute() / LOG_NAME
    runs = next_runs(schedule, now)
    if len(blocks) == 1 and blocks[0].text == block:
        return CronResult(Change.UNCHANGED, block, schedule, runs, log_file)
    check_writable(table.text)
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CrontabError(
            f"cannot create the state folder {settings.state_dir} ({error.strerror}), where "
            "cron would write cron.log; fix its parent's permissions or set HEARTBEAT_STATE_DIR"
        ) from None
    write_table(splice(table.text, block))
    change = Change.REPLACED if blocks else Change.INSTALLED
    log.info("cron: %s %s", change, schedule)
    return CronResult(change, block, schedule, runs, log_file)


def remove() -> CronResult:
    """Take the managed block out of the crontab, keeping every other byte.

    A table left empty is removed (``crontab -r``): no crontab and an empty one
    read the same. Idempotent: without a block, nothing is written. Needs no
    settings, so a broken configuration never stands in the way of removing.
    """
    table = read_table()
    blocks = find_blocks(table.text)
    log_file = None
    if not blocks:
        return CronResult(Change.ABSENT, None, None, [], log_file)
    check_writable(table.text)
    write_table(splice(table.text, ""))
    return CronResult(Change.REMOVED, None, None, [], log_file)


def show(settings: Settings, now: datetime.datetime) -> CronResult:
    """The managed block, its next three runs, and whether the heartbeat kept to it.

    Read-only. Raises CrontabError when the crontab cannot be read.
    """
    table = read_table()
    blocks = find_blocks(table.text)
    log_file = settings.state_dir.absolute() / LOG_NAME
    watch = self_watch(settings, now, table=table.text)
    block = blocks[0].text if blocks else None
    schedule = blocks[0].schedule if blocks else watch.schedule
    runs = next_runs(schedule, now) if schedule else []
    return CronResult(None, block, schedule, runs, log_file, watch)


# --------------------------------------------------------------------------- self-watch


class WatchStatus(enum.StrEnum):
    """How the heartbeat kept to its own schedule."""

    OK = "ok"
    LATE = "late"
    NEVER = "never"
    NOT_INSTALLED = "not_installed"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True)
class SelfWatch:
    """The heartbeat's own health: did the last check happen when cron should have run it?

    ``due`` is the scheduled time whose check is missing (LATE) or the next one;
    ``missed`` counts the scheduled runs without a check (LATE only).
    """

    status: WatchStatus
    message: str
    schedule: str | None = None
    last_check: pendulum.DateTime | None = None
    due: pendulum.DateTime | None = None
    missed: int = 0

    @property
    def late(self) -> bool:
        return self.status is WatchStatus.LATE

    def to_json(self) -> dict[str, t.Any]:
        return {
            "status": str(self.status),
            "late": self.late,
            "message": self.message,
            "schedule": self.schedule,
            "last_check": None if self.last_check is None else self.last_check.isoformat(),
            "due": None if self.due is None else self.due.isoformat(),
            "missed": self.missed,
        }


#: Counting missed runs stops here (a minutely schedule left for a week).
MAX_MISSED = 1000


def _clock(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _ago(now: pendulum.DateTime, then: pendulum.DateTime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def judge(
    schedule: str | None,
    last_check: float | None,
    now: datetime.datetime,
    grace_minutes: float,
    *,
    log_file: pathlib.Path | None = None,
) -> SelfWatch:
    """Whether the heartbeat missed its schedule: pure, for any clock.

    LATE when the first scheduled run after the last check is more than
    ``grace_minutes`` in the past (the check it should have recorded never
    came); NEVER when no check was ever recorded; NOT_INSTALLED without a
    schedule. ``last_check`` is epoch seconds (``state.last_check``).
    """
    import pendulum

    local_now = _local(now)
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
            WatchStatus.NOT_INSTALLED,
            "no heartbeat entry in the crontab: nothing runs the checks "
            f"(install one with `heartbeat cron install`){seen}",
            last_check=last,
        )
    words = describe_schedule(schedule)
    if last is None:
        due = next_runs(schedule, local_now, 1)[0]
        return SelfWatch(
            WatchStatus.NEVER,
            f"no check recorded yet; cron runs it {words}, next at {_clock(due)}{where}",
            schedule=schedule,
            due=due,
        )
    from croniter import croniter

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
        f"{missed}{more} {plural} missed. Is the cron daemon running{where}?",
        schedule=schedule,
        last_check=last,
        due=due,
        missed=missed,
    )


def self_watch(
    settings: Settings,
    now: datetime.datetime,
    *,
    table: str | None = None,
    state: State | None = None,
) -> SelfWatch:
    """The heartbeat watching itself, from the crontab and ``state.last_check``.

    Reads the crontab unless ``table`` is given, and the state (``load_state``)
    unless ``state`` is. Never raises: a crontab that cannot be read gives
    UNKNOWN with the reason. For `status` and `doctor` as much as `cron show`.
    """
    from heartbeat.state import load_state

    log_file = settings.state_dir.absolute() / LOG_NAME
    if state is None:
        state = load_state(settings.state_dir)
    last_check = state.last_check
    try:
        text = read_table().text if table is None else table
        schedule, _ = installed_schedule(text)
    except CrontabError as error:
        return SelfWatch(WatchStatus.UNKNOWN, str(error))
    return judge(schedule, last_check, now, settings.cron_grace_minutes, log_file=log_file)
