"""The user's crontab: read and written whole, its managed block, and the heartbeat's entry.

The table is read with ``crontab -l`` and written with ``crontab FILE``; the
heartbeat owns exactly one block of it, between ``BEGIN`` and ``END``, and never
changes a byte outside that block. ``find_entry`` is the one reader of the line
that runs the heartbeat (the managed one, else a hand-written one): `cron show`,
the self-watch and `doctor` all ask it.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import tempfile

from heartbeat import proc
from heartbeat.errors import ConfigError
from heartbeat.schedule.expr import NICKNAMES

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
