"""Seeking codex-tui.log by time: the same line a read from the start would reach first.

``logscan.seek_time`` binary-searches a log whose stamped lines are in time
order for the first line stamped at or after a time. Against the plain answer
(every line start, in order) over generated logs: lines without a stamp,
lines longer than a read, equal stamps, stamps in other zones, no final
newline, and any starting offset.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import random
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeat import logscan
from heartbeat.state import State

BASE = datetime.datetime(2026, 11, 25, 14, 0, tzinfo=datetime.UTC)
BODIES = (
    " INFO codex_core::codex: new turn started",
    "  WARN codex_core::codex: stream disconnected - retrying turn (1/5 in 200ms)...",
    " DEBUG codex_core::client: POST https://chatgpt.com/backend-api/codex/responses",
)


def generated_log(seed: int, lines: int) -> tuple[bytes, list[tuple[int, float | None]]]:
    """A log and its (line start, stamp) list, stamps non-decreasing."""
    rng = random.Random(seed)
    out: list[bytes] = []
    starts: list[tuple[int, float | None]] = []
    offset = 0
    moment = BASE
    for _ in range(lines):
        kind = rng.random()
        moment += datetime.timedelta(milliseconds=rng.choice([0, 0, 3, 250, 60_000]))
        if kind < 0.1:
            text, when = "  at continuation of the line above", None
        elif kind < 0.13:
            text, when = "x" * rng.randint(4_000, 20_000), None  # longer than one read
        else:
            zone = datetime.timezone(datetime.timedelta(hours=rng.choice([0, 0, 2, -5])))
            shown = moment.astimezone(zone).isoformat()
            text = shown.replace("+00:00", "Z") + rng.choice(BODIES)
            when = moment.timestamp()
        line = (text + "\n").encode()
        starts.append((offset, when))
        out.append(line)
        offset += len(line)
    data = b"".join(out)
    if data and seed % 3 == 0:
        data = data[:-1]  # no final newline
    return data, starts


def plain(starts: list[tuple[int, float | None]], low: int, high: int, since: float) -> int:
    for start, when in starts:
        if low <= start < high and when is not None and when >= since:
            return start
    return high


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(0, 3_000),
    st.one_of(st.floats(-0.1, 1.1), st.integers(0, 3_000)),
    st.floats(0, 1),
)
def test_seek_finds_the_first_line_a_plain_read_finds(
    seed: int, lines: int, at: float | int, low_at: float
) -> None:
    """*at*: a time between the first and the last stamp, or (an int) one of the stamps."""
    data, starts = generated_log(seed, lines)
    stamps = [w for _, w in starts if w is not None] or [BASE.timestamp()]
    if isinstance(at, int):
        since = stamps[at % len(stamps)]
    else:
        since = min(stamps) + at * (max(stamps) - min(stamps))
    low = int(low_at * len(data))  # a line's start or not: lines starting there count
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        found, read = logscan.seek_time(handle.fileno(), low, len(data), since)
    assert found == plain(starts, low, len(data), since)
    assert read > 0 or low == len(data)


def test_a_search_reads_a_few_blocks_not_the_log(tmp_path: pathlib.Path) -> None:
    """8 MiB of stamped lines: the last minute is found in a few dozen small reads."""
    data, starts = generated_log(seed=7, lines=60_000)
    path = tmp_path / "codex-tui.log"
    path.write_bytes(data)
    last = max(w for _, w in starts if w is not None)
    fd = os.open(path, os.O_RDONLY)
    try:
        found, read = logscan.seek_time(fd, 0, len(data), last - 60)
    finally:
        os.close(fd)
    assert found == plain(starts, 0, len(data), last - 60)
    assert read <= 48 * logscan.PROBE, read


def test_read_new_reads_from_the_first_recent_line_and_counts_the_search(
    tmp_path: pathlib.Path,
) -> None:
    data, starts = generated_log(seed=11, lines=20_000)
    path = tmp_path / "codex-tui.log"
    path.write_bytes(data)
    since = sorted(w for _, w in starts if w is not None)[-200]
    first = plain(starts, 0, len(data), since)
    state = State()
    read = logscan.read_new(path, state, (), since + 10, cap=len(data), since=since)
    assert first > logscan.SEEK_MIN
    assert len(data) - first <= read.bytes_read <= len(data) - first + 48 * logscan.PROBE
    assert read.skipped == first
    # the offset is kept at the end: the next read reads only what is appended
    again = logscan.read_new(path, state, (), since + 20, cap=len(data), since=since)
    assert again.bytes_read == 0
