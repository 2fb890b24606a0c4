"""`heartbeat schedule install|remove|show`: the check run by the platform's own scheduler."""

from __future__ import annotations

import typing as t

import typer

from heartbeat.cli import common
from heartbeat.cli.cron import settings_with_folders
from heartbeat.errors import ExitCode

if t.TYPE_CHECKING:
    import pathlib

    from heartbeat.config import Settings
    from heartbeat.schedule.result import ScheduleResult

app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    help="Run `heartbeat check` from launchd, a systemd timer, OpenClaw or cron.",
    no_args_is_help=True,
)

ViaOption = t.Annotated[
    str | None,
    typer.Option(
        "--via",
        help="launchd, systemd, openclaw or cron (default: the platform's own).",
        show_default=False,
    ),
]


def _render(result: ScheduleResult) -> None:
    if result.why:
        typer.echo(f"using {result.via}: {result.why}")
    typer.echo(result.message)
    if result.text:
        typer.echo(result.text if result.text.endswith("\n") else result.text + "\n", nl=False)
    if result.next_runs:
        typer.echo("next runs (local time):")
        for run in result.next_runs:
            typer.echo(f"  {run.format('ddd YYYY-MM-DD HH:mm zz')}")
    if result.installed and result.log_file:
        typer.echo(f"output of each run: {result.log_file}")
    if result.status:
        typer.echo(f"{result.via}: {result.status}")
    if result.watch is not None and result.watch.status != "not_installed":
        typer.echo(result.watch.message)
    for note in result.notes:
        typer.echo(f"note: {note}")


def _emit(results: list[ScheduleResult], json_output: bool) -> None:
    if json_output:
        common.emit_json({"schedulers": [result.to_json() for result in results]})
        return
    for index, result in enumerate(results):
        if index:
            typer.echo("")
        _render(result)


@app.command("install")
@common.handle_errors
def install_command(
    via: ViaOption = None,
    every: t.Annotated[
        str | None,
        typer.Option(
            "--every", help="Run every 1m..59m or 1h..23h (default 5m).", show_default=False
        ),
    ] = None,
    schedule: t.Annotated[
        str | None,
        typer.Option("--schedule", help="Any five-field cron expression instead of --every."),
    ] = None,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
    state_dir: common.StateDirOption = None,
    json_output: common.JsonOption = False,
) -> None:
    """Schedule the check (launchd on macOS, a systemd user timer, else cron; or --via).

    Running it again with the same settings changes nothing. The job names the
    absolute path of this heartbeat, a PATH that finds tmux and the agents, and
    the HEARTBEAT_* variables set now; its output goes to the state folder.
    """
    from heartbeat import schedule as scheduling
    from heartbeat.schedule.expr import resolve_schedule

    scheduling.check_via(via)
    expression = resolve_schedule(every, schedule)
    cfg = settings_with_folders(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    result = scheduling.install(cfg, expression, common.now(cfg), via=via)
    if json_output:
        common.emit_json(result.to_json())
    else:
        _render(result)


@app.command("remove")
@common.handle_errors
def remove_command(
    via: ViaOption = None,
    state_dir: common.StateDirOption = None,
    json_output: common.JsonOption = False,
) -> None:
    """Take the heartbeat out of --via (default: every scheduler that runs it)."""
    from heartbeat import schedule as scheduling

    cfg = _lenient_settings(state_dir)
    _emit(scheduling.remove(cfg, via=via), json_output)


@app.command("show")
@common.handle_errors
def show_command(
    via: ViaOption = None,
    state_dir: common.StateDirOption = None,
    json_output: common.JsonOption = False,
) -> None:
    """Show what runs the checks, its next runs, whether it runs, and if checks keep up.

    Exits 1 when nothing is installed, the scheduler does not run it, or the
    heartbeat missed its schedule.
    """
    from heartbeat import schedule as scheduling

    cfg = settings_with_folders(state_dir=state_dir)
    results = scheduling.show(cfg, common.now(cfg), via=via)
    _emit(results, json_output)
    attention = any(
        not result.installed
        or result.running is False
        or (result.watch is not None and result.watch.late)
        for result in results
    )
    raise typer.Exit(code=int(ExitCode.ATTENTION if attention else ExitCode.OK))


def _lenient_settings(state_dir: pathlib.Path | None) -> Settings:
    """Settings for `remove`: a broken config file must not stand in the way of removing."""
    import os

    from heartbeat.config import expand, load_settings
    from heartbeat.errors import ConfigError

    flags = {"state_dir": str(expand(state_dir)) if state_dir else None}
    try:
        return load_settings(flags)
    except ConfigError:
        return load_settings(flags, {**os.environ, "HEARTBEAT_CONFIG": os.devnull})
