"""`heartbeat report`: the morning report (DESIGN §8), its pictures, and the digest on demand.

The pictures — a table of the sessions and a timeline per session — are drawn
with rich (typer brings it): coloured on a terminal, plain where there is none
or ``NO_COLOR`` is set — then each state is a letter, so the picture reads
without colour too.
"""

from __future__ import annotations

import datetime
import typing as t

import typer

from heartbeat import cli
from heartbeat.cli import common
from heartbeat.morning import slots
from heartbeat.words import format_duration

if t.TYPE_CHECKING:
    from rich.console import Console

    from heartbeat.morning import Report, SessionFacts

WhenOption = t.Annotated[
    str | None,
    typer.Option(
        help="yesterday, 18:00 (the last one), 12h (ago), or an ISO date-time (local "
        "without an offset).",
        show_default=False,
    ),
]


@common.handle_errors
def report_command(
    since: WhenOption = None,
    until: WhenOption = None,
    json_output: common.JsonOption = False,
    write: t.Annotated[
        bool,
        typer.Option(
            "--write",
            help="Also write it as the day's `## Heartbeat digest` in the note (replacing it).",
        ),
    ] = False,
    notes_dir: common.NotesDirOption = None,
    state_dir: common.StateDirOption = None,
) -> None:
    """What got done, what needs you, what it cost: since the last digest (else 24 hours).

    Exits 1 when a session needs you.
    """
    from heartbeat import clock, digest, morning
    from heartbeat.errors import ExitCode

    cfg = common.settings(notes_dir=notes_dir, state_dir=state_dir)
    now = clock.pendulum_now(cfg.timezone)
    if write:
        end = morning.parse_when(until, now) if until is not None else now
        day = end.date()
        report = digest.build(cfg, now, day, since, until)
        warning = digest.write_on_demand(cfg, report, day, now)
        if warning:
            typer.echo(f"heartbeat: {warning}", err=True)
    else:
        report = morning.build(cfg, now, since, until)
    cli.emit(report, json_output)
    if not json_output and write:
        typer.echo(f"digest written to {cfg.notes_dir / f'{day.isoformat()}.md'}")
    raise typer.Exit(code=int(ExitCode.ATTENTION if report.needs_you else ExitCode.OK))


# --------------------------------------------------------------------------- pictures


class Look(t.NamedTuple):
    """How a timeline state is drawn: a coloured cell, or a letter in plain text."""

    word: str
    colour: str
    letter: str


LOOKS = {
    "running": Look("running", "green", "="),
    "held": Look("held", "yellow", "h"),
    "down": Look("down", "red", "x"),
    "done": Look("done", "blue", "+"),
    "needs_you": Look("needs you", "magenta", "!"),
    "unknown": Look("unknown (no check)", "grey50", "?"),
}
#: The widest a timeline gets (cells), and the narrowest.
MAX_SLOTS, MIN_SLOTS = 96, 12


@cli.renders("Report")
def render(report: Report, console: Console | None = None) -> None:
    """Print the report: a heading, the table, the timelines and their legend."""
    from rich.console import Console

    console = console or Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 120)
    plain = not console.is_terminal or console.no_color
    zone = report.since.tzinfo
    totals = report.totals
    console.print(
        f"Morning report {report.since:%Y-%m-%d %H:%M} → {report.until:%Y-%m-%d %H:%M}: "
        f"{_count(totals['sessions'], 'session')}, {_count(totals['commits'], 'commit')}, "
        f"{_count(totals['restarts'], 'restart')}, {totals['tokens']:,} tokens "
        f"({_count(report.checks, 'check')})",
        markup=False,
    )
    if not report.sessions:
        console.print("No session was active in this window.")
        return
    console.print(table(report, plain))
    needing = [s for s in report.sessions if s.needs_you]
    if needing:
        console.print("Needs you:", style=None if plain else "bold")
        for facts in needing:
            console.print(f"  {facts.name}: {facts.needs_you}", markup=False)
        console.print()
    console.print(timelines(report, console.width, plain, zone))


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def table(report: Report, plain: bool) -> t.Any:
    """One row per session: needs-you first, then by outcome."""
    from rich import box
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for title in ("Session", "Outcome", "Needs you", "Commits", "PRD", "Restarts"):
        grid.add_column(title, overflow="fold")
    for title in ("Running", "Held", "Down", "Unknown", "Tokens", "Limits"):
        grid.add_column(title, justify="right" if title != "Limits" else "left")
    for facts in report.sessions:
        grid.add_row(
            facts.name,
            facts.outcome.replace("_", " "),
            (facts.needs_you or "").split(":", 1)[0],
            _commits(facts),
            _prd(facts),
            str(facts.restarts) if facts.restarts else "",
            *(
                format_duration(seconds, compact=True) if seconds else ""
                for seconds in (
                    facts.running_seconds,
                    facts.held_seconds,
                    facts.down_seconds,
                    facts.unknown_seconds,
                )
            ),
            _tokens(facts),
            _limits(facts, report.since.tzinfo),
            style="bold" if facts.needs_you and not plain else None,
        )
    return grid


def _commits(facts: SessionFacts) -> str:
    if not facts.commits:
        return "0"
    first = facts.commit_subjects[0] if facts.commit_subjects else ""
    more = f" (+{facts.commits - 1})" if facts.commits > 1 else ""
    return f"{facts.commits}: {first[:40]}{more}"


def _prd(facts: SessionFacts) -> str:
    if not facts.prd:
        return ""
    prd = facts.prd
    return f"{prd['done']} done, {prd['ticked_without_commit']} unbacked, {prd['open']} open"


def _tokens(facts: SessionFacts) -> str:
    if not facts.tokens:
        return ""
    return f"{int(facts.tokens['total'] or 0):,} ({facts.tokens['source']})"


def _limits(facts: SessionFacts, zone: datetime.tzinfo | None) -> str:
    parts = []
    for limit in facts.limits:
        minutes = limit["window_minutes"]
        window = (
            "?"
            if minutes is None
            else f"{minutes / 1440:g}d"
            if minutes >= 1440
            else f"{minutes / 60:g}h"
            if minutes >= 60
            else f"{minutes:g}m"
        )
        used = "" if limit["used_percent"] is None else f" {limit['used_percent']:g}%"
        resets = ""
        if limit["resets_at"]:
            at = datetime.datetime.fromtimestamp(limit["resets_at"], zone)
            resets = f" resets {at:%m-%d %H:%M}"
        parts.append(f"{window}{used}{resets}")
    return "; ".join(parts)


def timelines(report: Report, width: int, plain: bool, zone: datetime.tzinfo | None) -> t.Any:
    """A row of cells per session across the window, an axis and a legend."""
    from rich.text import Text

    label = max(len(s.name) for s in report.sessions) + 2
    count = max(MIN_SLOTS, min(MAX_SLOTS, width - label - 2))
    since, until = report.since.timestamp(), report.until.timestamp()
    out = Text()
    start = f"{report.since:%H:%M}"
    end = f"{report.until:%H:%M}"
    out.append(" " * label + start + " " * max(1, count - len(start) - len(end)) + end + "\n")
    for facts in report.sessions:
        out.append(facts.name.ljust(label))
        for cell in slots(facts.timeline, since, until, count):
            look = LOOKS.get(cell)
            if look is None:
                out.append("·" if plain else " ")
            elif plain:
                out.append(look.letter)
            else:
                out.append("░" if cell == "unknown" else "█", style=look.colour)
        out.append("\n")
    step = format_duration((until - since) / count, compact=True)
    out.append(" " * label + f"one cell = {step}; ")
    for index, look in enumerate(LOOKS.values()):
        if index:
            out.append("  ")
        if plain:
            out.append(f"{look.letter} {look.word}")
        else:
            out.append("░" if look.letter == "?" else "█", style=look.colour)
            out.append(f" {look.word}")
    out.append(f"  {'·' if plain else ' '} not watched")
    return out
