"""What every command shares: options, settings, the clock, and error handling.

Errors become exit codes here and nowhere else (``handle_errors``).
"""

from __future__ import annotations

import datetime
import functools
import json
import pathlib
import sys
import typing as t

import typer

from heartbeat.errors import ExitCode, HeartbeatError

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import pendulum

    from heartbeat.config import Settings

P = t.ParamSpec("P")
R = t.TypeVar("R")

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


def settings(
    notes_dir: pathlib.Path | None = None,
    socket: pathlib.Path | None = None,
    state_dir: pathlib.Path | None = None,
) -> Settings:
    from heartbeat.config import load_settings

    return load_settings({"notes_dir": notes_dir, "socket": socket, "state_dir": state_dir})


def setup_logging(state_dir: pathlib.Path | None = None) -> None:
    """Configure logging once: warnings to stderr; a rotating debug log in the state folder.

    The debug log (``heartbeat.log``, 1 MiB × 3) is for post-mortems of cron runs;
    a state folder that cannot be written only loses that log.
    """
    import logging
    import logging.handlers

    # a debug log that cannot be written must not print tracebacks that cron mails
    logging.raiseExceptions = False
    root = logging.getLogger()
    if not any(getattr(h, "_heartbeat", False) for h in root.handlers):
        stderr = logging.StreamHandler()
        stderr.setLevel(logging.WARNING)
        stderr.setFormatter(logging.Formatter("heartbeat: %(message)s"))
        stderr._heartbeat = True  # type: ignore[attr-defined]
        root.addHandler(stderr)
        root.setLevel(logging.WARNING)  # libraries (markdown_it logs every block rule) stay quiet
        for own in ("heartbeat", "memory_schema"):
            logging.getLogger(own).setLevel(logging.DEBUG)
    if state_dir is None or any(getattr(h, "_heartbeat_file", False) for h in root.handlers):
        return
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = logging.handlers.RotatingFileHandler(
            state_dir / "heartbeat.log", maxBytes=1 << 20, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._heartbeat_file = True  # type: ignore[attr-defined]
    root.addHandler(handler)


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


def emit_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


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
