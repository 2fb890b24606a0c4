"""The morning report (DESIGN §8): what got done, what needs you, what it cost.

Facts come from three places and nowhere else: the journal the checks keep
(``heartbeat.history``: states, restarts, when checks ran), git in each
session's folder (``heartbeat.verify``), and the agents' own records
(``heartbeat.records``: tokens and limit windows; else the ``tokens used``
line codex printed, journaled by the check). A stretch with no check — the
machine asleep — is ``unknown``, never guessed. Core only: no typer, no rich
(``heartbeat.cli.report`` draws it, ``heartbeat.digest`` writes it into the note).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import itertools
import os
import re
import statistics
import typing as t

from heartbeat import history, proc, records
from heartbeat.errors import UsageError

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from heartbeat.config import Settings

#: The window when no digest was written yet.
DEFAULT_HOURS = 24
#: A stretch between two checks longer than this (and than GAP_FACTOR times the usual
#: interval) had no check: unknown.
GAP_MIN_SECONDS = 15 * 60
GAP_FACTOR = 3
#: What each state word of the journal shows as in the timeline.
SLOT = {
    "healthy": "running",
    "restarted": "running",
    "rate_limited": "held",
    "paused": "held",
    "died": "down",
    "failed": "down",
    "completed": "done",
    "read_and_exit": "done",
    "auth_expired": "needs_you",
    "misconfigured": "needs_you",
    "gave_up": "needs_you",
    "waiting_input": "needs_you",
    "not_owned": "needs_you",
    "stalled": "needs_you",
}
#: The report's outcome of each state word (DESIGN §8's words).
OUTCOME = {
    "healthy": "running",
    "restarted": "running",
    "completed": "completed",
    "read_and_exit": "completed",
    "auth_expired": "blocked",
    "rate_limited": "held",
}
#: Outcomes that need the user, most urgent first, and how the reason starts.
NEEDS = {
    "blocked": "blocked",
    "misconfigured": "misconfigured",
    "gave_up": "gave up",
    "waiting_input": "waiting at a prompt",
    "stalled": "stalled",
    "not_owned": "not owned",
}
PRD_REASON = "PRD boxes ticked without a commit"
#: The rest, in this order after the sessions that need the user.
OUTCOME_ORDER = (
    *NEEDS,
    "failed",
    "died",
    "held",
    "running",
    "paused",
    "completed",
)
DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


class Segment(t.NamedTuple):
    """A stretch of a session's timeline: [start, end) in epoch seconds, and its state."""

    start: float
    end: float
    state: str


def parse_when(text: str, now: datetime.datetime) -> datetime.datetime:
    """WHEN as DESIGN §8 reads it: ``yesterday`` (its 00:00), ``18:00`` (the most recent
    past one), ``12h`` (ago), an ISO date or date-time (local when it has no offset), ``now``.

    Raises UsageError saying how to write it.
    """
    word = text.strip().lower()
    zone = now.tzinfo
    if word == "now":
        return now
    if word in {"yesterday", "today"}:
        day = now.date() - datetime.timedelta(days=1 if word == "yesterday" else 0)
        return datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    if match := CLOCK_RE.match(word):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            moment = datetime.datetime.combine(now.date(), datetime.time(hour, minute), tzinfo=zone)
            if moment > now:
                moment = datetime.datetime.combine(
                    now.date() - datetime.timedelta(days=1), datetime.time(hour, minute), zone
                )
            return moment
    if match := DURATION_RE.match(word):
        return now - datetime.timedelta(seconds=float(match.group(1)) * UNITS[match.group(2)])
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{text!r} is not a time; write yesterday, 18:00, 12h (ago), or an ISO date-time "
            "such as 2026-11-25T18:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def gap_limit(checks: Sequence[float]) -> float:
    """How long a stretch between two checks may be and still count as watched."""
    gaps = [b - a for a, b in itertools.pairwise(checks) if b > a]
    usual = statistics.median(gaps) if gaps else 0.0
    return max(GAP_MIN_SECONDS, GAP_FACTOR * usual)


def segments(
    changes: Sequence[tuple[float, str]],
    checks: Sequence[float],
    since: float,
    until: float,
    limit: float,
) -> list[Segment]:
    """A session's timeline within [since, until] from its state words and the check times.

    Between two checks the state is what the first one found; a stretch longer
    than *limit* (and the time after the last check, when longer) is unknown —
    except for a finished session, which stays done. Before its first word, and
    after it ``left`` the notes unfinished, a session has no segment.
    """
    if not changes:
        return []
    times = [when for when, _ in changes]
    first = times[0]
    bounds = sorted({first, *(c for c in checks if first <= c <= until)})
    if bounds[-1] < until:
        bounds.append(until)
    out: list[Segment] = []
    for a, b in itertools.pairwise(bounds):
        lo, hi = max(a, since), min(b, until)
        if hi <= lo:
            continue
        index = bisect.bisect_right(times, a) - 1
        word = changes[index][1]
        if word == history.LEFT:
            # a finished session that left the notes stays done; any other is no longer watched
            earlier = [w for _, w in changes[:index] if w != history.LEFT]
            if not earlier or SLOT.get(earlier[-1]) != "done":
                continue
            word = earlier[-1]
        state = SLOT.get(word, "running")
        if b - a > limit and state != "done":  # a finished session cannot change unseen
            state = "unknown"
        if out and out[-1].state == state and out[-1].end == lo:
            out[-1] = out[-1]._replace(end=hi)
        else:
            out.append(Segment(lo, hi, state))
    return out


def slots(timeline: Sequence[Segment], since: float, until: float, count: int) -> list[str]:
    """The timeline in *count* equal slots; a slot shows the most telling state it holds
    (needs-you, down, held, unknown, running, done), "" where the session had none."""
    rank = ("needs_you", "down", "held", "unknown", "running", "done")
    width = (until - since) / count if count and until > since else 0.0
    cells = []
    for index in range(count):
        lo, hi = since + index * width, since + (index + 1) * width
        states = {s.state for s in timeline if s.start < hi and s.end > lo}
        cells.append(next((state for state in rank if state in states), ""))
    return cells


@dataclasses.dataclass
class SessionFacts:
    """One session of the report (DESIGN §8's ``sessions`` rows)."""

    name: str
    agent: str | None
    dir: str | None
    outcome: str
    needs_you: str | None = None
    commits: int = 0
    commit_subjects: list[str] = dataclasses.field(default_factory=list)
    diffstat: str = ""
    prd: dict[str, int] | None = None
    restarts: int = 0
    restart_reasons: list[str] = dataclasses.field(default_factory=list)
    running_seconds: float = 0.0
    held_seconds: float = 0.0
    down_seconds: float = 0.0
    unknown_seconds: float = 0.0
    tokens: dict[str, int | str | None] | None = None
    limits: list[dict[str, float | None]] = dataclasses.field(default_factory=list)
    timeline: list[Segment] = dataclasses.field(default_factory=list)
    #: The texts of the PRD boxes ticked without a commit (the reason names a few).
    unbacked: list[str] = dataclasses.field(default_factory=list)

    def to_json(self, zone: datetime.tzinfo | None) -> dict[str, object]:
        data = dataclasses.asdict(self)
        del data["unbacked"]
        data["timeline"] = [
            {"start": iso(s.start, zone), "end": iso(s.end, zone), "state": s.state}
            for s in self.timeline
        ]
        data["limits"] = [
            {**limit, "resets_at": iso(limit["resets_at"], zone) if limit["resets_at"] else None}
            for limit in self.limits
        ]
        return data


@dataclasses.dataclass
class Report:
    """The morning report: the window, the sessions (needs-you first), the totals."""

    since: datetime.datetime
    until: datetime.datetime
    sessions: list[SessionFacts]
    checks: int = 0

    @property
    def needs_you(self) -> list[str]:
        return [s.name for s in self.sessions if s.needs_you]

    @property
    def totals(self) -> dict[str, int]:
        return {
            "sessions": len(self.sessions),
            "commits": sum(s.commits for s in self.sessions),
            "restarts": sum(s.restarts for s in self.sessions),
            "tokens": sum(
                int(s.tokens["total"] or 0) for s in self.sessions if s.tokens is not None
            ),
        }

    def to_json(self) -> dict[str, object]:
        zone = self.since.tzinfo
        return {
            "since": self.since.isoformat(timespec="seconds"),
            "until": self.until.isoformat(timespec="seconds"),
            "needs_you": self.needs_you,
            "totals": self.totals,
            "sessions": [s.to_json(zone) for s in self.sessions],
            "checks": self.checks,
        }


def iso(ts: float, zone: datetime.tzinfo | None) -> str:
    return datetime.datetime.fromtimestamp(ts, zone).isoformat(timespec="seconds")


def last_digest(
    rows: Sequence[dict[str, t.Any]], before: float, *, other_day: str = ""
) -> float | None:
    """When the last digest was written (before *before*; not of *other_day*'s own)."""
    times = [
        r["ts"]
        for r in rows
        if r.get("kind") == "digest" and r["ts"] <= before and r.get("day") != other_day
    ]
    return max(times) if times else None


def window(
    rows: Sequence[dict[str, t.Any]],
    now: datetime.datetime,
    since: str | None,
    until: str | None,
    *,
    replacing: str = "",
) -> tuple[datetime.datetime, datetime.datetime]:
    """The report's window: the given WHENs, else since the last digest (24 hours ago
    without one) until now. *replacing*: the day whose digest is being rewritten."""
    end = parse_when(until, now) if until is not None else now
    if since is not None:
        start = parse_when(since, now)
    else:
        last = last_digest(rows, end.timestamp(), other_day=replacing)
        start = (
            datetime.datetime.fromtimestamp(last, now.tzinfo)
            if last is not None
            else end - datetime.timedelta(hours=DEFAULT_HOURS)
        )
    if start >= end:
        raise UsageError(
            f"the window is empty: since {start:%Y-%m-%d %H:%M} is not before until "
            f"{end:%Y-%m-%d %H:%M}; give an earlier --since"
        )
    return start, end


def sort_key(facts: SessionFacts) -> tuple[int, int, str]:
    """Needs-you first (most urgent first), then the rest by outcome, then by name."""
    needs = 0 if facts.needs_you else 1
    reason = facts.outcome if facts.outcome in NEEDS else "prd"
    order = OUTCOME_ORDER.index(facts.outcome) if facts.outcome in OUTCOME_ORDER else 99
    if needs == 0 and reason == "prd":
        order = len(NEEDS)
    return (needs, order, facts.name)


def build(
    settings: Settings,
    now: datetime.datetime,
    since: str | None = None,
    until: str | None = None,
    *,
    replacing: str = "",
) -> Report:
    """The report over the window (DESIGN §8); raises UsageError for a WHEN it cannot read."""
    rows = history.read(settings.state_dir)
    start, end = window(rows, now, since, until, replacing=replacing)
    lo, hi = start.timestamp(), end.timestamp()
    checks = sorted(r["ts"] for r in rows if r.get("kind") == "check")
    limit = gap_limit(checks)
    events: dict[str, list[dict[str, t.Any]]] = {}
    for row in rows:
        named = row.get("kind") == "session" and isinstance(row.get("session"), str)
        if named and row["ts"] <= hi:
            events.setdefault(row["session"], []).append(row)
    sessions = []
    for name, rows_of in events.items():
        rows_of.sort(key=lambda r: r["ts"])
        changes = [(r["ts"], str(r.get("after"))) for r in rows_of]
        timeline = segments(changes, checks, lo, hi, limit)
        in_window = any(r["ts"] >= lo for r in rows_of)
        if not in_window and not any(s.state != "done" for s in timeline):
            continue
        sessions.append(_facts(name, rows_of, timeline, lo, settings, now.tzinfo))
    sessions.sort(key=sort_key)
    return Report(start, end, sessions, checks=sum(lo <= c <= hi for c in checks))


def _facts(
    name: str,
    rows: list[dict[str, t.Any]],
    timeline: list[Segment],
    since: float,
    settings: Settings,
    zone: datetime.tzinfo | None,
) -> SessionFacts:
    """One session's facts: its journal rows (to the window's end), git and its records."""
    words = [str(r.get("after")) for r in rows if r.get("after") != history.LEFT]
    last_word = words[-1] if words else "healthy"
    outcome = OUTCOME.get(last_word, last_word)
    known = [r for r in rows if r.get("after") != history.LEFT]
    latest = known[-1] if known else rows[-1]
    fresh = max((i for i, r in enumerate(rows) if r.get("new")), default=0)
    starts = [r["started"] for r in rows[fresh:] if isinstance(r.get("started"), int | float)]
    started = min(starts) if starts else None
    facts = SessionFacts(
        name=name,
        agent=latest.get("agent"),
        dir=latest.get("dir"),
        outcome=outcome,
    )
    for row in rows:
        if row["ts"] >= since and row.get("after") == "restarted":
            clock = datetime.datetime.fromtimestamp(row["ts"], zone).strftime("%H:%M")
            facts.restart_reasons.append(f"{clock} {row.get('diagnosis')}")
    facts.restarts = len(facts.restart_reasons)
    for segment in timeline:
        field = f"{segment.state}_seconds"
        if hasattr(facts, field):
            setattr(facts, field, getattr(facts, field) + segment.end - segment.start)
    facts.timeline = timeline
    _git(facts, latest.get("command") or "", started)
    _usage(facts, latest, rows, started, settings)
    if outcome in NEEDS:
        said = latest.get("hint") or latest.get("detail") or ""
        facts.needs_you = f"{NEEDS[outcome]}: {said}" if said else NEEDS[outcome]
    elif facts.prd and facts.prd["ticked_without_commit"]:
        named = ", ".join(f"'{task[:60]}'" for task in facts.unbacked[:3])
        facts.needs_you = f"{PRD_REASON}: {named}"
    return facts


def _git(facts: SessionFacts, command: str, started: float | None) -> None:
    """Commits since the start (with subjects), the uncommitted diffstat, the PRD's boxes."""
    # off the --help path (heartbeat.cli.report imports this module; a guard forbids verify)
    from heartbeat.verify import verify

    if not facts.dir:
        return
    found = verify(facts.dir, command, started)
    if found.error or not found.is_repo:
        return
    facts.commits = found.commits_since_start
    facts.diffstat = found.diff_stat
    if started is not None and found.commits_since_start:
        folder = os.path.expanduser(facts.dir)
        log = proc.run(
            ["git", "-C", folder, "log", "--format=%s", f"--since=@{int(started)}", "-n", "10"],
            timeout=20.0,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
        if log.error is None and log.returncode == 0:
            facts.commit_subjects = log.stdout.splitlines()
    if found.prd:
        unbacked = len(found.ticked_without_commit)
        facts.prd = {
            "done": found.prd_ticked - unbacked,
            "ticked_without_commit": unbacked,
            "open": found.prd_total - found.prd_ticked,
        }
        facts.unbacked = list(found.ticked_without_commit)


def _usage(
    facts: SessionFacts,
    latest: dict[str, t.Any],
    rows: list[dict[str, t.Any]],
    started: float | None,
    settings: Settings,
) -> None:
    """Tokens and limits from the agent's records, else codex's printed ``tokens used``."""
    # off the --help path (heartbeat.cli.report imports this module; profiles costs ~5 ms)
    from heartbeat.profiles import load

    account = latest.get("account") or ""
    engine, _, home = account.partition(":")
    kind = None
    if engine:
        profile = load(settings.profiles, settings.signatures, cache_dir=settings.state_dir).named(
            engine
        )
        kind = profile.records if profile is not None else None
    sid = next((r.get("agent_session") for r in reversed(rows) if r.get("agent_session")), None)
    used = records.usage(kind, home or None, sid, facts.dir, started)
    if used is not None:
        facts.limits = used.limits
        if used.tokens is not None:
            facts.tokens = {**used.tokens, "source": used.source}
    if facts.tokens is None:
        printed = next((r["tokens_used"] for r in reversed(rows) if r.get("tokens_used")), None)
        if printed is not None:
            facts.tokens = {
                "input": None,
                "cached_input": None,
                "output": None,
                "total": int(printed),
                "source": "pane",
            }
