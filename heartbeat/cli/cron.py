"""`heartbeat cron install|remove|show`: the managed crontab block."""

from __future__ import annotations

import pathlib
import typing as t

import typer

from heartbeat.cli import common
from heartbeat.errors import ExitCode

if t.TYPE_CHECKING:
    from heartbeat.config import Settings
    from heartbeat.schedule.cron import CronResult

app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    help="Install, show or remove the crontab entry that runs `heartbeat check`.",
    no_args_is_help=True,
)


def settings_with_folders(**folders: pathlib.Path | None) -> Settings:
    """Settings with the folder flags given, ``~`` expanded (typer does not).

    Passed to ``load_settings`` as strings: its flag coercion takes path strings.
    """
    from heartbeat.config import expand, load_settings

    return load_settings({k: str(expand(v)) if v else None for k, v in folders.items()})


def _render(result: CronResult, json_output: bool) -> None:
    """Print a result as text or as one JSON object."""
    if json_output:
        common.emit_json(result.to_json())
        return
    typer.echo(result.message)
    if result.block:
        typer.echo(result.block, nl=False)
    if result.next_runs:
        typer.echo("next runs (local time):")
        for run in result.next_runs:
            typer.echo(f"  {run.format('ddd YYYY-MM-DD HH:mm zz')}")
    if result.block and result.log_file:
        typer.echo(f"output of each run: {result.log_file}")
    if result.watch is not None and result.watch.status != "not_installed":
        typer.echo(result.watch.message)


@app.command("install")
@common.handle_errors
def install_command(
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
    """Add the heartbeat to your crontab, or replace its entry in place.

    Running it again with the same settings changes nothing. The entry pins the
    absolute path of this heartbeat, a PATH that finds tmux and the agents, and
    the HEARTBEAT_* variables set now (cron passes none of your environment).
    """
    from heartbeat.schedule import cron
    from heartbeat.schedule.expr import resolve_schedule

    expression = resolve_schedule(every, schedule)
    cfg = settings_with_folders(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    _render(cron.install(cfg, expression, common.now(cfg)), json_output)


@app.command("remove")
@common.handle_errors
def remove_command(json_output: common.JsonOption = False) -> None:
    """Take the heartbeat's block out of your crontab; every other line stays as it was."""
    from heartbeat.schedule import cron

    _render(cron.remove(), json_output)


@app.command("show")
@common.handle_errors
def show_command(
    state_dir: common.StateDirOption = None, json_output: common.JsonOption = False
) -> None:
    """Show the crontab entry, its next three runs, and whether the heartbeat kept to it.

    Exits 1 when no entry is installed or the heartbeat missed its schedule.
    """
    from heartbeat.schedule import cron

    cfg = settings_with_folders(state_dir=state_dir)
    result = cron.show(cfg, common.now(cfg))
    _render(result, json_output)
    late = result.watch is not None and result.watch.late
    attention = result.schedule is None or late
    raise typer.Exit(code=int(ExitCode.ATTENTION if attention else ExitCode.OK))
