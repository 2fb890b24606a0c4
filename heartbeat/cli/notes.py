"""`heartbeat notes …`: read and edit the Active Long-Running Processes section."""

from __future__ import annotations

import os
import pathlib
import re
import typing as t

import typer

from heartbeat import clock
from heartbeat.cli import common, echo, emit, renders, settings
from heartbeat.errors import ExitCode

if t.TYPE_CHECKING:
    from heartbeat.notes import NotesResult

app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    help="Read and edit the sessions listed in the daily notes, without touching tmux.",
    no_args_is_help=True,
)

NameArg = t.Annotated[str, typer.Argument(help="The tmux session name.")]


@app.command("list")
@common.handle_errors
def list_command(
    json_output: common.JsonOption = False,
    notes_dir: common.NotesDirOption = None,
    date: common.DateOption = None,
) -> None:
    """List the entries read from the notes, and the problems found in them."""
    from heartbeat import notes

    cfg = settings(notes_dir=notes_dir)
    result = notes.list_entries(cfg, common.parse_date(date, cfg))
    result.warnings = notes.rejected_flags(cfg, result.entries)
    emit(result, json_output, notes_dir=cfg.notes_dir)
    raise typer.Exit(code=int(ExitCode.ATTENTION if result.problems else ExitCode.OK))


@renders("NotesResult")
def render(result: NotesResult, *, notes_dir: pathlib.Path) -> None:
    if not result.entries:
        echo(f"no entries in {notes_dir}")
    for entry in result.entries:
        flag = "" if entry.active else " (inactive)"
        echo(f"{entry.name:<20} {entry.status:<9}{flag} {entry.command}")
        echo(f"{'':<20} {entry.source}" + (f" · dir {entry.dir}" if entry.dir else ""))
    for problem in result.problems:
        echo(f"problem: {problem}", err=True)
    for warning in result.warnings:
        echo(f"warning: {warning}", err=True)


@app.command("add")
@common.handle_errors
def add_command(
    name: NameArg,
    command: t.Annotated[str, typer.Option("--command", help="The command the session runs.")],
    directory: t.Annotated[
        str | None, typer.Option("--dir", help="The session's working folder.")
    ] = None,
    notes_dir: common.NotesDirOption = None,
    date: common.DateOption = None,
) -> None:
    """Add a session to today's note in the canonical form."""
    from heartbeat import notes

    cfg = settings(notes_dir=notes_dir)
    result = notes.add(
        cfg,
        common.parse_date(date, cfg),
        clock.pendulum_now(cfg.timezone),
        name,
        command,
        directory,
    )
    echo(result.message)


def _status_command(name: str, status: str, notes_dir: t.Any, date: str | None) -> None:
    from heartbeat import notes

    cfg = settings(notes_dir=notes_dir)
    result = notes.change(cfg, common.parse_date(date, cfg), name, status)
    echo(result.message)


@app.command("done")
@common.handle_errors
def done_command(
    name: NameArg, notes_dir: common.NotesDirOption = None, date: common.DateOption = None
) -> None:
    """Mark a session done: the heartbeat stops watching it."""
    _status_command(name, "done", notes_dir, date)


@app.command("remove")
@common.handle_errors
def remove_command(
    name: NameArg, notes_dir: common.NotesDirOption = None, date: common.DateOption = None
) -> None:
    """Remove a session from today's note (it is no longer watched)."""
    from heartbeat import notes

    cfg = settings(notes_dir=notes_dir)
    echo(notes.remove(cfg, common.parse_date(date, cfg), name).message)


DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``15m``, ``2h``, ``1d``."""
    match = DURATION_RE.match(text)
    if not match:
        raise typer.BadParameter(
            f"{text!r} is not a duration; write it like 30m, 2h or 1d", param_hint="--for"
        )
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


@app.command("pause")
@common.handle_errors
def pause_command(
    name: NameArg,
    duration: t.Annotated[
        str | None,
        typer.Option("--for", help="Hold restarts this long (30m, 2h); default: until resumed."),
    ] = None,
    notes_dir: common.NotesDirOption = None,
    state_dir: common.StateDirOption = None,
    date: common.DateOption = None,
) -> None:
    """Hold restarts of a session (until `resume`, or for a while with --for)."""
    from heartbeat import notes

    cfg = settings(notes_dir=notes_dir, state_dir=state_dir)
    until = None
    if duration is not None:
        until = (
            clock.pendulum_now(cfg.timezone)
            .add(seconds=parse_duration(duration))
            .format("YYYY-MM-DD HH:mm")
        )
    result = notes.change(cfg, common.parse_date(date, cfg), name, "paused", until=until)
    echo(result.message + (f" until {until}" if until else ""))


@app.command("resume")
@common.handle_errors
def resume_command(
    name: NameArg,
    notes_dir: common.NotesDirOption = None,
    state_dir: common.StateDirOption = None,
    date: common.DateOption = None,
) -> None:
    """Clear a pause, an auth block or a give-up: the next check watches and restarts again."""
    from heartbeat import notes

    cfg = settings(notes_dir=notes_dir, state_dir=state_dir)
    result = notes.resume(cfg, common.parse_date(date, cfg), clock.pendulum_now(cfg.timezone), name)
    echo(result.message)


@app.command("adopt")
@common.handle_errors
def adopt_command(
    name: NameArg,
    socket: t.Annotated[
        pathlib.Path | None,
        typer.Option(
            "--socket",
            help="The server the session runs on (default: the stable socket, then tmux's "
            "default one).",
        ),
    ] = None,
    notes_dir: common.NotesDirOption = None,
    date: common.DateOption = None,
) -> None:
    """Log an agent session that no note lists (a check reports it as unlogged)."""
    from heartbeat.notes import adopt

    cfg = settings(notes_dir=notes_dir)
    where = pathlib.Path(os.path.expanduser(socket)) if socket else None
    echo(
        adopt(
            cfg, common.parse_date(date, cfg), clock.pendulum_now(cfg.timezone), name, where
        ).message
    )
