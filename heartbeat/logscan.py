"""Tailing agent logs from the offset kept in the state, as monit does.

The cost follows the new bytes, not the file's size: a check reads from the
last offset to the end (at most a cap, the newest bytes), only whole lines.
A file that shrank or changed inode (rotated, truncated) is read again from
the start. Where there is more than a little to read — a first read, a
read-only check that keeps no offset, a replaced log — the read starts at the
earliest time that can matter (*since*): codex-tui.log's lines are stamped and
in order, so a binary search over a few small reads finds that line.
"""

from __future__ import annotations

import datetime
import os
import re
import stat
import typing as t

from heartbeat.signatures import Match, Signature, redact, scan_bytes

if t.TYPE_CHECKING:
    import pathlib

    from heartbeat.state import State

TIMESTAMP_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
)
#: The kinds a log is read for (a gone session's auth or rate limit).
KINDS = frozenset({"auth", "rate_limit"})
#: Below this many bytes to read, reading them costs less than seeking by time.
SEEK_MIN = 256 * 1024
#: The bytes one step of the time search reads.
PROBE = 4096
#: The most one step reads looking for a stamped line (else it goes by no stamp).
PROBE_LIMIT = 16 * PROBE
#: Enough of a line's start to hold its timestamp.
STAMP_BYTES = 48


class LogRead:
    """What one read of a log found: bytes read and skipped, the matches, or the error."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.bytes_read = 0
        self.skipped = 0
        self.matches: list[tuple[float, Match]] = []
        self.error: str | None = None


def line_time(line: str, default: float) -> float:
    """The epoch time of a tracing line's leading timestamp, else *default*."""
    when = stamp_time(line)
    return default if when is None else when


def stamp_time(line: str) -> float | None:
    """The epoch time of a tracing line's leading timestamp (UTC unless it says), or None."""
    match = TIMESTAMP_RE.match(line)
    if not match:
        return None
    text = match.group(1).replace("Z", "+00:00")
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.UTC)
    return stamp.timestamp()


def read_new(
    path: pathlib.Path,
    state: State,
    signatures: t.Sequence[Signature],
    now: float,
    cap: int,
    since: float | None = None,
) -> LogRead:
    """Scan the bytes appended to *path* since the last check; update the offset.

    Reads at most *cap* bytes (the newest), and none stamped before *since*
    when there is more than ``SEEK_MIN`` to read; never raises for a missing or
    unreadable log (``error`` says why). ``bytes_read`` counts the search's
    reads too.
    """
    key = str(path)
    result = LogRead(key)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        state.log_offsets.pop(key, None)
        return result
    except OSError as error:
        result.error = f"{path}: {error.strerror}"
        return result
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            result.error = f"{path}: not a regular file; the codex log is not read"
            return result
        inode, offset = (state.log_offsets.get(key) or [0, 0])[:2]
        if inode != info.st_ino or offset > info.st_size:
            offset = 0
        start = max(offset, info.st_size - cap)
        if since is not None and info.st_size - start > SEEK_MIN:
            start, result.bytes_read = seek_time(fd, start, info.st_size, since)
        result.skipped = start - offset
        data = os.pread(fd, info.st_size - start, start) if info.st_size > start else b""
    except OSError as error:
        result.error = f"{path}: {error.strerror}"
        return result
    finally:
        os.close(fd)
    end = data.rfind(b"\n")
    whole = b"" if end < 0 else data[: end + 1]
    result.bytes_read += len(data)
    state.log_offsets[key] = [info.st_ino, start + len(whole)]
    wanted = [s for s in signatures if s.kind in KINDS]
    for match in scan_bytes(whole, wanted, where="log"):
        redacted = match._replace(line=redact(match.line))
        result.matches.append((line_time(match.line, now), redacted))
    return result


def seek_time(fd: int, low: int, high: int, since: float) -> tuple[int, int]:
    """(offset, bytes read): where the first line stamped at or after *since* starts.

    Searches the lines starting in [*low*, *high*) of the file open on *fd*,
    whose stamped lines are in time order (lines without a stamp go with the
    one before). *low* when the first stamped line is already that recent;
    *high* when none is. About log2((high - low) / PROBE) reads of PROBE bytes.
    """
    reader = _Stamps(fd, high)
    start, when = next(reader.after(low, PROBE_LIMIT), (low, None))
    if when is None:  # no stamp to go by: from the start, unless there was nothing to see
        return high if high - low <= PROBE_LIMIT else low, reader.read
    if when >= since:  # all of it recent: one read
        return start, reader.read
    left, right = start + 1, high
    while right - left > PROBE:
        middle = (left + right) // 2
        start, when = next(reader.after(middle, PROBE_LIMIT), (high, None))
        if when is not None and when < since:
            left = start + 1
        else:
            right = middle
    for start, when in reader.after(left):
        if when >= since:
            return start, reader.read
    return high, reader.read


class _Stamps:
    """The stamped lines of a file open on *fd*, up to *end*, read PROBE bytes at a time."""

    def __init__(self, fd: int, end: int) -> None:
        self.fd, self.end, self.read = fd, end, 0

    def after(self, at: int, limit: int | None = None) -> t.Iterator[tuple[int, float]]:
        """(start, time) of each stamped line starting at or after *at*, in file order.

        With *limit*, stops after reading that many bytes.
        """
        position = at - 1 if at > 0 else 0
        mid_line = at > 0  # unless the byte before *at* is a newline, *at* is inside a line
        stop = self.end if limit is None else min(self.end, position + limit)
        while position < stop:
            block = os.pread(self.fd, min(PROBE, self.end - position), position)
            if not block:
                return
            self.read += len(block)
            index = 0
            if mid_line:
                newline = block.find(b"\n")
                if newline < 0:
                    position += len(block)
                    continue
                index, mid_line = newline + 1, False
            while index < len(block):
                if len(block) - index < STAMP_BYTES and index and position + len(block) < self.end:
                    break  # read again from this line's start to see its whole stamp
                when = _stamp(block[index : index + STAMP_BYTES])
                if when is not None:
                    yield position + index, when
                newline = block.find(b"\n", index)
                if newline < 0:
                    index, mid_line = len(block), True
                    break
                index = newline + 1
            position += index


def _stamp(head: bytes) -> float | None:
    """The time a line starting with *head* is stamped with, or None."""
    return stamp_time(head.decode("ascii", "replace")) if head[:1].isdigit() else None
