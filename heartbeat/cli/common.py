"""What every command shares: options, settings, the clock, and error handling.

Errors become exit codes here and nowhere else (``handle_errors``).
"""

from __future__ import annotations

import datetime
import functools
import pathlib
import sys
import typing as t

import typer

from heartbeat.cli.run import emit_json as emit_json
from heartbeat.cli.run import settings as settings
from heartbeat.cli.run import setup_logging as setup_logging
from heartbeat.errors import ExitCode, HeartbeatError

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import pendulum

    from heartbeat.config import Settings

P = t.ParamSpec("P")
R = t.TypeVar("R")

#: Help and usage errors go through rich only to a terminal, where its panels show;
#: piped or captured, click's plain text says the same without loading rich and
#: markdown-it (a third of a ``--help``).
MARKUP: t.Literal["rich"] | None = (
    "rich" if sys.stdout is not None and sys.stdout.isatty() else None
)

NotesDirOption = t.Annotated[
    pathlib.Path | None,
    typer.Option(
        "--notes-dir",
        help="Folder of the daily notes (env HEARTBEAT_NOTES_DIR).",
        show_default=False,
    ),
]
SocketOption = t.Annotated[
    pathlib.Path | None,
    typer.Option("--socket", help="tmux socket (env HEARTBEAT_SOCKET; default ~/.tmux/sock)."),
]
StateDirOption = t.Annotated[
    pathlib.Path | None,
    typer.Option("--state-dir", help="State folder (env HEARTBEAT_STATE_DIR)."),
]
DateOption = t.Annotated[
    str | None,
    typer.Option("--date", help="Act as if today were YYYY-MM-DD (default: today)."),
]
JsonOption = t.Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn HeartbeatError and NoteError into a one-line message and their exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from memory_schema import EntryNotFound, NoteError

        try:
            return func(*args, **kwargs)
        except HeartbeatError as error:
            typer.echo(f"heartbeat: {error}", err=True)
            raise typer.Exit(code=int(error.exit_code)) from None
        except NoteError as error:
            hint = "; `heartbeat notes list` shows them" if isinstance(error, EntryNotFound) else ""
            typer.echo(f"heartbeat: {error}{hint}", err=True)
            raise typer.Exit(code=int(ExitCode.USAGE)) from None

    return wrapper


def now(settings: Settings) -> pendulum.DateTime:
    """The current time in the configured timezone (the one clock of the CLI)."""
    import pendulum

    zone = pendulum.timezone(settings.timezone) if settings.timezone else None
    return pendulum.now(zone) if zone else pendulum.now()


def parse_date(value: str | None, settings: Settings) -> datetime.date:
    if value is None:
        current = now(settings)
        return datetime.date(current.year, current.month, current.day)
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD", param_hint="--date"
        ) from None


def self_watch_line(settings: Settings, now: pendulum.DateTime) -> str | None:
    """One sentence on whether the cron heartbeat itself keeps its schedule."""
    try:
        from heartbeat import cron
    except ImportError:  # pragma: no cover - cron support is part of the package
        return None
    watch = getattr(cron, "self_watch", None)
    if watch is None:
        return None
    try:
        result = watch(settings, now)
    except HeartbeatError as error:
        return f"cron: {error}"
    return str(getattr(result, "message", result))
