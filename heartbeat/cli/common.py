"""What typer's commands share: their options as typer reads them, dates, and errors.

The options are ``heartbeat.cli.OPTIONS`` given to typer (``annotated``); errors
become exit codes through ``heartbeat.cli.failure`` (``handle_errors``).
"""

from __future__ import annotations

import datetime
import functools
import pathlib
import sys
import typing as t

import typer

from heartbeat import clock
from heartbeat.cli import OPTIONS, Option, echo, failure
from heartbeat.cli import emit as emit
from heartbeat.cli import emit_json as emit_json
from heartbeat.cli import settings as settings
from heartbeat.errors import HeartbeatError

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from heartbeat.config import Settings

P = t.ParamSpec("P")
R = t.TypeVar("R")

#: Help and usage errors go through rich only to a terminal, where its panels show;
#: piped or captured, click's plain text says the same without loading rich and
#: markdown-it (a third of a ``--help``).
MARKUP: t.Literal["rich"] | None = (
    "rich" if sys.stdout is not None and sys.stdout.isatty() else None
)


def option(one: Option) -> t.Any:
    """*one* as typer's ``Option``."""
    if one.show_default:
        return typer.Option(one.flag, help=one.help)
    return typer.Option(one.flag, help=one.help, show_default=False)


def annotated(one: Option) -> t.Any:
    """The annotation of a parameter that is *one* (a date is read as text: ``parse_date``)."""
    if one.kind is bool:
        return t.Annotated[bool, option(one)]
    kind = str if one.kind is datetime.date else one.kind
    return t.Annotated[kind | None, option(one)]


NotesDirOption = t.Annotated[pathlib.Path | None, option(OPTIONS["notes_dir"])]
SocketOption = t.Annotated[pathlib.Path | None, option(OPTIONS["socket"])]
StateDirOption = t.Annotated[pathlib.Path | None, option(OPTIONS["state_dir"])]
DateOption = t.Annotated[str | None, option(OPTIONS["date"])]
JsonOption = t.Annotated[bool, option(OPTIONS["json_output"])]


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn heartbeat's errors into a one-line message and their exit code (``failure``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as error:
            said = failure(error)
            if said is None:
                raise
            echo(said[0], err=True)
            raise typer.Exit(code=said[1]) from None

    return wrapper


def parse_date(value: str | None, settings: Settings) -> datetime.date:
    """The day *value* names (YYYY-MM-DD), else today in the configured timezone."""
    if value is None:
        return clock.now(settings.timezone).date()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD", param_hint="--date"
        ) from None


def self_watch_line(settings: Settings, now: datetime.datetime) -> str | None:
    """One sentence on whether the scheduled heartbeat itself keeps its schedule."""
    from heartbeat.schedule.watch import self_watch

    try:
        return self_watch(settings, now).message
    except HeartbeatError as error:
        return f"cron: {error}"
