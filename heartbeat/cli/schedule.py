"""`heartbeat schedule install|remove|show`, and `heartbeat cron …`, its cron spelling.

`heartbeat cron install|remove|show` is `schedule … --via cron`: the same cron
scheduler (``heartbeat.schedule.cron``) and the same ``ScheduleResult``, spelt
as `cron` always answered (``spelling="cron"``: its JSON keys, its exit rule),
without the note on other schedulers that `schedule install` adds.
"""

from __future__ import annotations

import dataclasses
import pathlib
import typing as t

import typer

from heartbeat import clock
from heartbeat.cli import common, echo, emit, renders
from heartbeat.errors import ExitCode

if t.TYPE_CHECKING:
    from heartbeat.config import Settings
    from heartbeat.schedule import ScheduleResult, Schedulers

app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    help="Run `heartbeat check` from launchd, a systemd timer, OpenClaw or cron.",
    no_args_is_help=True,
)
cron_app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    help="Install, show or remove the crontab entry that runs `heartbeat check`.",
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
EveryOption = t.Annotated[
    str | None,
    typer.Option("--every", help="Run every 1m..59m or 1h..23h (default 5m).", show_default=False),
]
ScheduleOption = t.Annotated[
    str | None,
    typer.Option("--schedule", help="Any five-field cron expression instead of --every."),
]


@renders("ScheduleResult")
def render(result: ScheduleResult) -> None:
    if result.why:
        echo(f"using {result.via}: {result.why}")
    echo(result.message)
    if result.text:
        echo(result.text if result.text.endswith("\n") else result.text + "\n", nl=False)
    if result.next_runs:
        echo("next runs (local time):")
        for run in result.next_runs:
            echo(f"  {run.format('ddd YYYY-MM-DD HH:mm zz')}")
    # a managed crontab block without a readable schedule: `cron show` names its log
    if result.job_log and (result.installed or result.spelling == "cron"):
        echo(f"output of each run: {result.job_log}")
    if result.status:
        echo(f"{result.via}: {result.status}")
    if result.watch is not None and result.watch.status != "not_installed":
        echo(result.watch.message)
    for note in result.notes:
        echo(f"note: {note}")


@renders("Schedulers")
def render_all(found: Schedulers) -> None:
    for index, result in enumerate(found.results):
        if index:
            echo("")
        render(result)


def settings_with_folders(**folders: pathlib.Path | None) -> Settings:
    """Settings with the folder flags given, ``~`` expanded (typer does not).

    Passed to ``load_settings`` as strings: its flag coercion takes path strings.
    """
    from heartbeat.config import expand, load_settings

    return load_settings({k: str(expand(v)) if v else None for k, v in folders.items()})


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


def _exit(needs_you: bool) -> t.NoReturn:
    raise typer.Exit(code=int(ExitCode.ATTENTION if needs_you else ExitCode.OK))


# --------------------------------------------------------------------------- schedule


@app.command("install")
@common.handle_errors
def install_command(
    via: ViaOption = None,
    every: EveryOption = None,
    schedule: ScheduleOption = None,
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
    from heartbeat.schedule.job import resolve_schedule

    scheduling.check_via(via)
    expression = resolve_schedule(every, schedule)
    cfg = settings_with_folders(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    now = clock.pendulum_now(cfg.timezone)
    emit(scheduling.install(cfg, expression, now, via=via), json_output)


@app.command("remove")
@common.handle_errors
def remove_command(
    via: ViaOption = None,
    state_dir: common.StateDirOption = None,
    json_output: common.JsonOption = False,
) -> None:
    """Take the heartbeat out of --via (default: every scheduler that runs it)."""
    from heartbeat import schedule as scheduling

    emit(scheduling.remove(_lenient_settings(state_dir), via=via), json_output)


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
    found = scheduling.show(cfg, clock.pendulum_now(cfg.timezone), via=via)
    emit(found, json_output)
    _exit(found.needs_you)


# --------------------------------------------------------------------------- cron


def _as_cron(result: ScheduleResult) -> ScheduleResult:
    return dataclasses.replace(result, spelling="cron")


@cron_app.command("install")
@common.handle_errors
def cron_install_command(
    every: EveryOption = None,
    schedule: ScheduleOption = None,
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
    from heartbeat.schedule import scheduler
    from heartbeat.schedule.job import resolve_schedule

    expression = resolve_schedule(every, schedule)
    cfg = settings_with_folders(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    now = clock.pendulum_now(cfg.timezone)
    emit(_as_cron(scheduler("cron").install(cfg, expression, now)), json_output)


@cron_app.command("remove")
@common.handle_errors
def cron_remove_command(json_output: common.JsonOption = False) -> None:
    """Take the heartbeat's block out of your crontab; every other line stays as it was."""
    from heartbeat.schedule import cron

    emit(_as_cron(cron.remove()), json_output)  # needs no settings, not even a readable one


@cron_app.command("show")
@common.handle_errors
def cron_show_command(
    state_dir: common.StateDirOption = None, json_output: common.JsonOption = False
) -> None:
    """Show the crontab entry, its next three runs, and whether the heartbeat kept to it.

    Exits 1 when no entry is installed or the heartbeat missed its schedule.
    """
    from heartbeat.schedule import scheduler

    cfg = settings_with_folders(state_dir=state_dir)
    result = _as_cron(scheduler("cron").show(cfg, clock.pendulum_now(cfg.timezone)))
    emit(result, json_output)
    _exit(result.needs_you)
