"""Tailing agent logs from the offset kept in the state, as monit does.

The cost follows the new bytes, not the file's size: a check reads from the
last offset to the end (at most a cap, the newest bytes), only whole lines.
A file that shrank or changed inode (rotated, truncated) is read again from
the start.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import stat
import typing as t

from heartbeat.signatures import Match, Signature, redact, scan

if t.TYPE_CHECKING:
    import pathlib

    from heartbeat.state import State

TIMESTAMP_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
)


@dataclasses.dataclass
class LogRead:
    path: str
    bytes_read: int = 0
    skipped: int = 0
    matches: list[tuple[float, Match]] = dataclasses.field(default_factory=list)
    error: str | None = None


def line_time(line: str, default: float) -> float:
    """The epoch time of a tracing line's leading timestamp, else *default*."""
    match = TIMESTAMP_RE.match(line)
    if not match:
        return default
    text = match.group(1).replace("Z", "+00:00")
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return default
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.UTC)
    return stamp.timestamp()


def read_new(
    path: pathlib.Path,
    state: State,
    signatures: t.Sequence[Signature],
    now: float,
    cap: int,
) -> LogRead:
    """Scan the bytes appended to *path* since the last check; update the offset.

    Reads at most *cap* bytes (the newest); never raises for a missing or
    unreadable log (``error`` says why).
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
        result.skipped = start - offset
        data = os.pread(fd, info.st_size - start, start) if info.st_size > start else b""
    except OSError as error:
        result.error = f"{path}: {error.strerror}"
        return result
    finally:
        os.close(fd)
    end = data.rfind(b"\n")
    whole = b"" if end < 0 else data[: end + 1]
    result.bytes_read = len(data)
    state.log_offsets[key] = [info.st_ino, start + len(whole)]
    text = whole.decode("utf-8", errors="replace")
    for match in scan(text.splitlines(), signatures, where="log"):
        if match.kind in {"auth", "rate_limit"}:
            redacted = dataclasses.replace(match, line=redact(match.line))
            result.matches.append((line_time(match.line, now), redacted))
    return result
