"""The command line: a thin shell over the core functions.

``main`` runs `heartbeat check` (what cron runs every minute) without building
the typer application (``heartbeat.cli.check.fast_main``); every other command
line, ``--help`` included, goes to typer (``heartbeat.cli.misc.app``).

What every command shares without typer lives here: the options they share
(``OPTIONS``), settings, logging, output (``echo``, ``emit``, each result's one
renderer) and the one mapping from errors to exit codes (``failure``).

The speed box (STYLE 12b, DESIGN §6): this module and ``heartbeat.cli.check``
are what a quiet check imports of the command line. Inside them an import
waits for the function that needs it, so that a check pays for no CLI framework
(typer, click, rich), no date library (pendulum) and no logging it does not use;
``tests/test_perf_guards.py`` holds the list of what it must not import.
"""

from __future__ import annotations

import datetime
import gc
import json
import os
import pathlib
import re
import sys
import typing as t

from heartbeat.debuglog import LazyLogger
from heartbeat.errors import ExitCode, HeartbeatError

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import typer

    from heartbeat.config import Settings


def main() -> None:
    """`heartbeat ARGS` in this process: exits with SystemExit, as typer does."""
    code = _check()
    if code is not None:
        sys.exit(code)
    _typer()


def script() -> None:
    """The console script (`heartbeat`).

    As ``main``, but a finished check leaves at once (``leave``): a check's
    own work is over in a tenth of a second, and tearing down the interpreter
    and every module it imported would add a sixth to that (DESIGN §6).
    """
    code = _check()
    if code is None:
        _typer()
        return
    leave(code)


def leave(code: int) -> t.NoReturn:
    """Exit with *code* now: logging is shut down and the output flushed first.

    What is skipped is only the interpreter's teardown (modules, collection).
    A check registers no exit handler of its own; the one a library it may load
    registers — logging's, which flushes the debug log — is called by its public
    name. A flush that fails (a closed pipe) leaves the ordinary way, which
    reports it.
    """
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


def _check() -> int | None:
    """`heartbeat check` without typer (``fast_main``): its exit code, or None for typer."""
    from heartbeat.cli.check import fast_main

    # A check lives a fraction of a second and makes few cycles: the collector,
    # run over every object its imports create, would cost it about 5 % (DESIGN §6).
    gc.disable()
    try:
        return fast_main(sys.argv[1:])
    finally:
        gc.enable()


def _typer() -> None:
    from heartbeat.cli.misc import app

    setup_logging()
    app()


def __getattr__(name: str) -> typer.Typer:
    """``heartbeat.cli.app``: the typer application, built when first asked for."""
    if name == "app":
        from heartbeat.cli.misc import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- options


class Option(t.NamedTuple):
    """One option as data: the fast path reads it, and typer is given it."""

    #: The parameter's name in the command's function.
    name: str
    flag: str
    #: bool (a flag), str, pathlib.Path or datetime.date (YYYY-MM-DD; typer is given a
    #: str, and the command says what is wrong with one).
    kind: type
    help: str
    show_default: bool = True


#: The options that commands share, by parameter name.
OPTIONS = {
    option.name: option
    for option in (
        Option(
            "date", "--date", datetime.date, "Act as if today were YYYY-MM-DD (default: today)."
        ),
        Option("json_output", "--json", bool, "Print one JSON object."),
        Option(
            "notes_dir",
            "--notes-dir",
            pathlib.Path,
            "Folder of the daily notes (env HEARTBEAT_NOTES_DIR).",
            show_default=False,
        ),
        Option(
            "socket",
            "--socket",
            pathlib.Path,
            "tmux socket (env HEARTBEAT_SOCKET; default ~/.tmux/sock).",
        ),
        Option("state_dir", "--state-dir", pathlib.Path, "State folder (env HEARTBEAT_STATE_DIR)."),
    )
}


def settings(
    notes_dir: pathlib.Path | None = None,
    socket: pathlib.Path | None = None,
    state_dir: pathlib.Path | None = None,
) -> Settings:
    from heartbeat.config import load_settings

    return load_settings({"notes_dir": notes_dir, "socket": socket, "state_dir": state_dir})


# --------------------------------------------------------------------------- logging


def setup_logging(state_dir: pathlib.Path | None = None) -> None:
    """Warnings to stderr; a rotating debug log in the state folder (``DebugLog``).

    Applied now when ``logging`` is already loaded, else just before the first
    record (``LazyLogger.configure``): a check that logs nothing imports no
    logging. The debug log is for post-mortems of cron runs.
    """
    if "logging" in sys.modules:
        _configure_logging(state_dir)
        return
    earlier = LazyLogger.configure

    def configure() -> None:
        if earlier is not None:
            earlier()
        _configure_logging(state_dir)

    LazyLogger.configure = configure


def _configure_logging(state_dir: pathlib.Path | None) -> None:
    import logging

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
    from heartbeat.logfile import DebugLog

    if state_dir is None or any(isinstance(h, DebugLog) for h in root.handlers):
        return
    handler = DebugLog(state_dir / "heartbeat.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


# --------------------------------------------------------------------------- output

#: What click's ``echo`` removes from text written to something that is not a terminal.
ANSI_RE = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")
#: Each result's one text renderer, by the result's class name (``renders``).
RENDERERS: dict[str, Callable[..., None]] = {}


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """*text* and a newline, as click's ``echo`` writes it (no ANSI codes unless to a
    terminal): the one way every command prints, typer's or not."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # pragma: no cover - no standard streams (pythonw)
        return
    out = text + "\n" if nl else text
    try:
        terminal = stream.isatty()
    except Exception:  # pragma: no cover - click's rule: a stream that cannot say is not one
        terminal = False
    if not terminal:
        out = ANSI_RE.sub("", out)
    ascii_only = (getattr(stream, "encoding", "") or "").lower() in {"ascii", "us-ascii", "646"}
    if ascii_only and hasattr(stream, "buffer"):
        # click replaces a misconfigured ASCII stream by UTF-8 rather than fail
        stream.flush()
        stream.buffer.write(out.encode("utf-8", "replace"))
        stream.buffer.flush()
        return
    stream.write(out)
    stream.flush()


def emit_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def renders(kind: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as the text renderer of results of class *kind*."""

    def register(renderer: Callable[..., None]) -> Callable[..., None]:
        RENDERERS[kind] = renderer
        return renderer

    return register


class Result(t.Protocol):
    def to_json(self) -> t.Any: ...


def emit(result: Result, json_output: bool, **how: t.Any) -> None:
    """Print *result*: its ``to_json()`` as one JSON object, else its renderer's text
    (``renders``; *how* goes to the renderer, e.g. ``status=True``)."""
    if json_output:
        emit_json(result.to_json())
    else:
        RENDERERS[type(result).__name__](result, **how)


# --------------------------------------------------------------------------- errors


def failure(error: Exception) -> tuple[str, int] | None:
    """The one line and the exit code an error becomes; None for one that is a bug.

    The one place errors become exit codes: typer's commands (``common.handle_errors``)
    and the fast path (``check.fast_main``) both ask it. HeartbeatError carries its
    code; a NoteError (``memory_schema``) is a usage error.
    """
    if isinstance(error, HeartbeatError):
        return f"heartbeat: {error}", int(error.exit_code)
    if "memory_schema" not in sys.modules:
        return None
    from memory_schema import EntryNotFound, NoteError

    if not isinstance(error, NoteError):
        return None
    hint = "; `heartbeat notes list` shows them" if isinstance(error, EntryNotFound) else ""
    return f"heartbeat: {error}{hint}", int(ExitCode.USAGE)
