"""The cron scheduler: the user's crontab, its one managed block, and the entry (DESIGN §7).

The table is read with ``crontab -l`` and written with ``crontab FILE``; the
heartbeat owns exactly one block of it, between ``BEGIN`` and ``END``, and never
changes a byte outside that block. ``find_entry`` is the one reader of the line
that runs the heartbeat (the managed one, else a hand-written one): `cron show`,
the self-watch and `doctor` all ask it.

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
import re
import shlex
import tempfile
import typing as t

from heartbeat import proc
from heartbeat.errors import ConfigError, UsageError
from heartbeat.schedule import Change, ScheduleResult
from heartbeat.schedule.job import (
    CHECK_ARGS,
    NICKNAMES,
    build_job,
    ensure_log_folder,
    log_folder,
    next_runs,
    validate_schedule,
)
from heartbeat.schedule.watch import Installed, SelfWatch, self_watch

if t.TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping, Sequence

    import pendulum

    from heartbeat.config import Settings

log = logging.getLogger(__name__)

NOTE = "# Written by `heartbeat cron install`; change it with `heartbeat cron install|remove`."
LOG_NAME = "cron.log"
BEGIN = "# >>> heartbeat (managed) >>>"
END = "# <<< heartbeat (managed) <<<"
#: Seconds ``crontab`` may take (it only reads or writes one small file).
TIMEOUT = 30.0
#: Where cron's PATH comes from when neither the entry nor the crontab sets one.
CRON_DEFAULT_PATH = "/usr/bin:/bin"
_NO_CRONTAB = re.compile(r"no crontab for", re.IGNORECASE)
#: Debian's ``crontab -l`` prints a carriage return as the two characters ``\r``:
#: a table with CRLF line ends cannot be read back as it is stored.
_SHOWN_CR = re.compile(r"\\r(?:\n|\Z)")
#: A hand-written entry that runs `heartbeat check` (cron/heartbeat.crontab, say).
_HAND_ENTRY = re.compile(r"(?:^|[\s/'\"])heartbeat['\"]?\s+(?:[^#]*\s)?check\b")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_SCHEDULE = re.compile(r"^\s*(?:@\w+|(?:\S+\s+){4}\S+)\s+(.*)$")


class CrontabError(ConfigError):
    """The crontab could not be read or written, or its managed block is broken."""


@dataclasses.dataclass(frozen=True)
class Table:
    """The user's crontab as ``crontab -l`` printed it (``exists`` False: no crontab)."""

    text: str
    exists: bool


def _crontab(*args: str, text: str | None = None) -> proc.Result:
    result = proc.run(["crontab", *args], timeout=TIMEOUT, input=text, errors="surrogateescape")
    if result.missing:
        raise CrontabError(
            "'crontab' is not on PATH; install cron (Debian/Ubuntu: apt-get install cron)"
        )
    if result.error is not None:
        raise CrontabError(f"cannot run 'crontab' ({result.error}); check that cron is installed")
    return result


def _said(result: proc.Result) -> str:
    return result.stderr.strip() or f"exit status {result.returncode}"


def read_table() -> Table:
    """The user's crontab; no crontab at all ("no crontab for …") is an empty table.

    Bytes that are not UTF-8 are kept (surrogateescape), so writing the table
    back gives the same bytes. Raises CrontabError for any other failure.
    """
    result = _crontab("-l")
    if result.returncode == 0:
        return Table(result.stdout, exists=True)
    message = _said(result)
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
        result = _crontab("-r")
        if result.returncode != 0 and not _NO_CRONTAB.search(_said(result)):
            raise CrontabError(f"`crontab -r` failed: {_said(result)}")
        return
    with tempfile.NamedTemporaryFile(prefix="heartbeat-crontab-", suffix=".txt") as handle:
        handle.write(text.encode("utf-8", "surrogateescape"))
        handle.flush()
        result = _crontab(handle.name)
    if result.returncode != 0:
        raise CrontabError(
            f"crontab refused the new table: {_said(result)}; your crontab is unchanged "
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


def lines(text: str) -> list[tuple[int, str]]:
    r"""(offset, line with its newline) for each line of text, split as cron does:
    at ``\n`` only (``str.splitlines`` would also split at ``\x0b``, ``\u2028`` …)."""
    found, position = [], 0
    pieces = text.split("\n")
    for index, piece in enumerate(pieces):
        line = piece if index == len(pieces) - 1 else piece + "\n"
        if line:
            found.append((position, line))
        position += len(line)
    return found


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
    for offset, line in lines(text):
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


# --------------------------------------------------------------------------- the entry


def schedule_of(line: str) -> str | None:
    """The schedule part of a crontab entry line (five fields or an @-word)."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    if fields[0].startswith("@"):
        return fields[0].lower() if fields[0].lower() in NICKNAMES else None
    return " ".join(fields[:5]) if len(fields) > 5 else None


@dataclasses.dataclass(frozen=True)
class CronEntry:
    """The heartbeat's crontab line, as cron will run it."""

    line: str
    schedule: str
    #: "managed block" or "hand-written entry".
    where: str
    #: PATH set inline by the entry (``env PATH=…`` or ``PATH=… cmd``), else None.
    inline_path: str | None
    #: The last ``PATH=`` line of the crontab above the entry, else None.
    table_path: str | None
    #: The program the entry runs (after env and assignments).
    program: str | None

    @property
    def path(self) -> str:
        return self.inline_path or self.table_path or CRON_DEFAULT_PATH


def parse_entry(line: str) -> tuple[str | None, str | None]:
    """(inline PATH, program) of a crontab entry line; (None, None) when unreadable."""
    match = _SCHEDULE.match(line)
    if not match:
        return None, None
    try:
        words = shlex.split(match.group(1).replace("\\%", "%"))
    except ValueError:
        return None, None
    index = 1 if words[:1] == ["env"] else 0
    path = None
    while index < len(words):
        assignment = _ASSIGNMENT.match(words[index])
        if assignment is None:
            if words[index].startswith("-") and words[0] == "env":
                index += 1
                continue
            break
        if assignment.group(1) == "PATH":
            path = assignment.group(2)
        index += 1
    return path, words[index] if index < len(words) else None


def find_entry(text: str) -> CronEntry | None:
    """The entry that runs the heartbeat: the managed block's, else a hand-written
    line that runs ``heartbeat check``; None when there is neither.

    Raises CrontabError (a ConfigError) for a broken managed block.
    """
    blocks = find_blocks(text)
    managed = blocks[0].entry if blocks and blocks[0].schedule else None
    table_path: str | None = None
    for _, raw in lines(text):
        line = raw.strip()
        assignment = _ASSIGNMENT.match(line)
        if assignment and assignment.group(1) == "PATH":
            table_path = assignment.group(2).strip().strip("'\"")
            continue
        schedule = schedule_of(line)
        if schedule is None:
            continue
        if managed is not None:
            if line != managed:
                continue
            where = "managed block"
        elif _HAND_ENTRY.search(line):
            where = "hand-written entry"
        else:
            continue
        inline, program = parse_entry(line)
        return CronEntry(line, schedule, where, inline, table_path, program)
    return None


def installed_schedule(text: str) -> tuple[str | None, str | None]:
    """(schedule, where) of ``find_entry``; (None, None) when no entry runs the heartbeat."""
    entry = find_entry(text)
    return (None, None) if entry is None else (entry.schedule, entry.where)


# --------------------------------------------------------------------------- the scheduler


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
    return f"{BEGIN}\n{NOTE}\n{entry}\n{END}\n"


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


def message(change: Change | None, block: str | None, schedule: str | None) -> str:
    """What `install`/`remove`/`show` did or found, in one sentence."""
    if change is Change.INSTALLED:
        return "installed the heartbeat entry in your crontab"
    if change is Change.REPLACED:
        return "replaced the heartbeat entry in your crontab"
    if change is Change.UNCHANGED:
        return "the heartbeat entry is already installed as asked; crontab unchanged"
    if change is Change.REMOVED:
        return "removed the heartbeat entry from your crontab"
    if change is Change.ABSENT:
        return "no heartbeat entry in your crontab; nothing to remove"
    if block is None and schedule is not None:
        return (
            f"a hand-written crontab entry runs `heartbeat check` ({schedule}); "
            "`heartbeat cron install` would add a managed one beside it"
        )
    if block is None:
        return "no heartbeat entry in your crontab; add one with `heartbeat cron install`"
    return "the heartbeat entry in your crontab:"


def _result(
    change: Change | None,
    block: str | None,
    schedule: str | None,
    runs: list[pendulum.DateTime],
    log_file: pathlib.Path | None,
    watch: SelfWatch | None = None,
) -> ScheduleResult:
    """The answer: ``text`` is the managed block, ``installed`` any entry that runs the
    heartbeat (a hand-written one too), ``log_file`` where this block's runs write."""
    return ScheduleResult(
        via="cron",
        change=change,
        message=message(change, block, schedule),
        installed=schedule is not None,
        schedule=schedule,
        next_runs=runs,
        log_file=log_file,
        text=block,
        running=daemon_running() if schedule else None,
        watch=watch,
        extra={"block": block},
    )


def install(
    settings: Settings,
    schedule: str,
    now: datetime.datetime,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> ScheduleResult:
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
    log_file = log_folder(settings) / LOG_NAME
    runs = next_runs(schedule, now)
    if len(blocks) == 1 and blocks[0].text == block:
        return _result(Change.UNCHANGED, block, schedule, runs, log_file)
    check_writable(table.text)
    ensure_log_folder(settings, CrontabError, "cron")
    write_table(splice(table.text, block))
    change = Change.REPLACED if blocks else Change.INSTALLED
    log.info("cron: %s %s", change, schedule)
    return _result(change, block, schedule, runs, log_file)


def remove(settings: Settings | None = None) -> ScheduleResult:
    """Take the managed block out of the crontab, keeping every other byte.

    A table left empty is removed (``crontab -r``): no crontab and an empty one
    read the same. Idempotent: without a block, nothing is written. Needs no
    settings, so a broken configuration never stands in the way of removing.
    """
    table = read_table()
    if not find_blocks(table.text):
        return _result(Change.ABSENT, None, None, [], None)
    check_writable(table.text)
    write_table(splice(table.text, ""))
    return _result(Change.REMOVED, None, None, [], None)


def show(settings: Settings, now: datetime.datetime) -> ScheduleResult:
    """The managed block, its next three runs, and whether the heartbeat kept to it.

    Read-only. Raises CrontabError when the crontab cannot be read.
    """
    table = read_table()
    blocks = find_blocks(table.text)
    log_file = log_folder(settings) / LOG_NAME
    watch = self_watch(settings, now, table=table.text, via="cron")
    block = blocks[0].text if blocks else None
    schedule = blocks[0].schedule if blocks else watch.schedule
    runs = next_runs(schedule, now) if schedule else []
    return _result(None, block, schedule, runs, log_file, watch)


def find_installed(settings: Settings, table: str | None = None) -> Installed | None:
    """The crontab's entry that runs the heartbeat, read with ``find_entry``.

    Reads the crontab unless ``table`` is given; raises CrontabError when it cannot.
    """
    text = read_table().text if table is None else table
    entry = find_entry(text)
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
