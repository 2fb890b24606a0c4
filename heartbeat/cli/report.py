"""`heartbeat report`: the morning report (DESIGN §8), and the digest on demand."""

from __future__ import annotations

import typing as t

import typer

from heartbeat.cli import common

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
        end = morning.parse_when(until, now) if until else now
        day = end.date()
        report = digest.build(cfg, now, day, since, until)
        warning = digest.write_on_demand(cfg, report, day, now)
        if warning:
            typer.echo(f"heartbeat: {warning}", err=True)
    else:
        report = morning.build(cfg, now, since, until)
    if json_output:
        common.emit_json(report.to_json())
    else:
        from heartbeat.timeline import render

        render(report)
        if write:
            typer.echo(f"digest written to {cfg.notes_dir / f'{day.isoformat()}.md'}")
    raise typer.Exit(code=int(ExitCode.ATTENTION if report.needs_you else ExitCode.OK))
