"""The morning report's pure parts: WHEN, the timeline and its unknown stretches, the order;
and the journal's file (one line per event, a torn line skipped, pruned to 14 days)."""

from __future__ import annotations

import datetime
import json
import typing as t

import pytest

from heartbeat import history, morning
from heartbeat.errors import UsageError
from heartbeat.morning import Segment, SessionFacts

if t.TYPE_CHECKING:
    import pathlib

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
H = 3600.0
M = 60.0


class When(t.NamedTuple):
    id: str
    text: str
    expected: datetime.datetime


WHENS = [
    When("yesterday", "yesterday", datetime.datetime(2026, 11, 25, 0, 0, tzinfo=UTC)),
    When("clock-earlier-today", "08:00", datetime.datetime(2026, 11, 26, 8, 0, tzinfo=UTC)),
    When("clock-later-is-yesterday", "18:00", datetime.datetime(2026, 11, 25, 18, 0, tzinfo=UTC)),
    When("clock-now-is-now", "09:30", NOW),
    When("hours", "12h", NOW - datetime.timedelta(hours=12)),
    When("minutes", "90m", NOW - datetime.timedelta(minutes=90)),
    When("days", "2d", NOW - datetime.timedelta(days=2)),
    When("iso-naive-is-local", "2026-11-25T18:00", datetime.datetime(2026, 11, 25, 18, tzinfo=UTC)),
    When(
        "iso-offset",
        "2026-11-25T18:00+02:00",
        datetime.datetime(2026, 11, 25, 16, tzinfo=UTC),
    ),
    When("iso-date", "2026-11-24", datetime.datetime(2026, 11, 24, tzinfo=UTC)),
    When("now", "now", NOW),
]


@pytest.mark.parametrize("row", WHENS, ids=[w.id for w in WHENS])
def test_when_reads_as_design_says(row: When) -> None:
    assert morning.parse_when(row.text, NOW) == row.expected


@pytest.mark.parametrize("text", ["last tuesday", "25:00", "12x", ""])
def test_when_that_cannot_be_read_says_how_to_write_it(text: str) -> None:
    with pytest.raises(UsageError, match="write yesterday, 18:00, 12h"):
        morning.parse_when(text, NOW)


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(UsageError, match="window is empty"):
        morning.window([], NOW, "08:00", "07:00")


def test_the_default_window_runs_from_the_last_digest_else_24_hours() -> None:
    digest = {"kind": "digest", "ts": NOW.timestamp() - 2 * H, "day": "2026-11-26"}
    assert morning.window([], NOW, None, None)[0] == NOW - datetime.timedelta(hours=24)
    assert morning.window([digest], NOW, None, None)[0].timestamp() == digest["ts"]
    # rewriting today's digest: from the digest of an earlier day
    assert morning.window([digest], NOW, None, None, replacing="2026-11-26")[0] == (
        NOW - datetime.timedelta(hours=24)
    )


class Stretch(t.NamedTuple):
    id: str
    changes: list[tuple[float, str]]
    checks: list[float]
    until: float
    expected: list[tuple[float, float, str]]


#: Checks every 5 minutes from 0 unless a row says otherwise; the window is [0, until].
EVERY_5 = [i * 5 * M for i in range(13)]  # 0 … 60 min
STRETCHES = [
    Stretch("running", [(0, "healthy")], EVERY_5, H, [(0, H, "running")]),
    Stretch(
        "died-restarted-running",
        [(0, "healthy"), (10 * M, "died"), (15 * M, "restarted"), (20 * M, "healthy")],
        EVERY_5,
        H,
        [(0, 10 * M, "running"), (10 * M, 15 * M, "down"), (15 * M, H, "running")],
    ),
    Stretch(
        "a-gap-with-no-check-is-unknown",
        [(0, "healthy")],
        [0, 5 * M, 10 * M, 50 * M, 55 * M, 60 * M],
        H,
        [(0, 10 * M, "running"), (10 * M, 50 * M, "unknown"), (50 * M, H, "running")],
    ),
    Stretch(
        "after-the-last-check-too",
        [(0, "rate_limited")],
        [0, 5 * M, 10 * M],
        H,
        [(0, 10 * M, "held"), (10 * M, H, "unknown")],
    ),
    Stretch(
        "a-short-tail-is-known",
        [(0, "completed")],
        [0, 5 * M, 10 * M],
        12 * M,
        [(0, 12 * M, "done")],
    ),
    Stretch(
        "done-stays-done-through-a-gap-and-after-it-left",
        [(0, "healthy"), (5 * M, "completed"), (10 * M, history.LEFT)],
        [0, 5 * M, 10 * M, 50 * M, 55 * M, 60 * M],
        H,
        [(0, 5 * M, "running"), (5 * M, H, "done")],
    ),
    Stretch(
        "starts-at-its-first-word-and-ends-when-it-left",
        [(10 * M, "auth_expired"), (30 * M, history.LEFT)],
        EVERY_5,
        H,
        [(10 * M, 30 * M, "needs_you")],
    ),
]


@pytest.mark.parametrize("row", STRETCHES, ids=[s.id for s in STRETCHES])
def test_timeline_segments_and_unknown_stretches(row: Stretch) -> None:
    limit = morning.gap_limit(row.checks)
    found = morning.segments(row.changes, row.checks, 0, row.until, limit)
    assert [tuple(s) for s in found] == row.expected


def test_the_gap_limit_follows_the_usual_interval() -> None:
    assert morning.gap_limit([]) == morning.GAP_MIN_SECONDS
    hourly = [i * H for i in range(10)]
    assert morning.gap_limit(hourly) == 3 * H


def test_a_slot_shows_the_most_telling_state_it_holds() -> None:
    timeline = [
        Segment(0, 10 * M, "running"),
        Segment(10 * M, 12 * M, "down"),
        Segment(12 * M, 40 * M, "running"),
        Segment(40 * M, 60 * M, "unknown"),
    ]
    assert morning.slots(timeline, 0, 80 * M, 4) == ["down", "running", "unknown", ""]


def facts(name: str, outcome: str, needs: str | None = None) -> SessionFacts:
    return SessionFacts(name=name, agent="codex", dir=None, outcome=outcome, needs_you=needs)


def test_needs_you_first_most_urgent_first_then_by_outcome() -> None:
    rows = [
        facts("a-done", "completed"),
        facts("b-prd", "failed", "PRD boxes ticked without a commit: 'x'"),
        facts("c-run", "running"),
        facts("d-auth", "blocked", "blocked: run `codex login`"),
        facts("e-held", "held"),
        facts("f-gave", "gave_up", "gave up"),
        facts("g-died", "died"),
        facts("h-prompt", "waiting_input", "waiting at a prompt"),
    ]
    ordered = [f.name for f in sorted(rows, key=morning.sort_key)]
    assert ordered == [
        "d-auth",
        "f-gave",
        "h-prompt",
        "b-prd",
        "g-died",
        "e-held",
        "c-run",
        "a-done",
    ]


# ---------------------------------------------------------------------- the journal file


def test_a_torn_line_is_skipped_and_breaks_no_other(tmp_path: pathlib.Path) -> None:
    assert history.append(tmp_path, NOW) is None
    path = history.journal_path(tmp_path)
    with path.open("ab") as handle:
        handle.write(b'{"time": "2026-11-26T09:31:00+00:00", "kind": "ses')  # a crash mid-write
    later = NOW + datetime.timedelta(minutes=5)
    assert history.append(tmp_path, later, [{"time": history.stamp(later), "kind": "x"}]) is None
    rows = history.read(tmp_path)
    assert [r["kind"] for r in rows] == ["check", "check", "x"]


def test_a_quiet_check_adds_one_line_with_its_time(tmp_path: pathlib.Path) -> None:
    history.append(tmp_path, NOW)
    lines = history.journal_path(tmp_path).read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"time": "2026-11-26T09:30:00+00:00", "kind": "check"}
    ]


def test_the_journal_keeps_14_days(tmp_path: pathlib.Path) -> None:
    for days in (20, 15, 13, 1):
        history.append(tmp_path, NOW - datetime.timedelta(days=days))
    history.append(tmp_path, NOW)
    kept = [r["ts"] for r in history.read(tmp_path)]
    cutoff = NOW.timestamp() - history.KEEP_DAYS * 86400
    assert len(kept) == 3
    assert all(ts >= cutoff for ts in kept)


class Printed(t.NamedTuple):
    id: str
    output: str
    expected: int | None


PRINTED = [
    Printed("codex-0.169", "codex\nAdded a greeting.\ntokens used\n2,480\nEXITED: 0", 2480),
    Printed("none", "EXITED: 1", None),
    Printed("talked-about", "I counted the tokens used in the test\nEXITED: 0", None),
]


@pytest.mark.parametrize("row", PRINTED, ids=[p.id for p in PRINTED])
def test_codex_printed_tokens_are_read(row: Printed) -> None:
    assert history.tokens_used(row.output) == row.expected


def test_an_empty_when_is_a_usage_error_not_the_default_window() -> None:
    from heartbeat.errors import UsageError
    from heartbeat.morning import parse_when

    with pytest.raises(UsageError):
        parse_when("", datetime.datetime(2026, 12, 7, 17, 0, tzinfo=datetime.UTC))
