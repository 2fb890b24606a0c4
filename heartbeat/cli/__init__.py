"""The command line: a thin shell over the core functions.

``main`` runs `heartbeat check` (what cron runs every minute) without building
the typer application (``heartbeat.cli.run.fast_main``); every other command
line, ``--help`` included, goes to typer (``heartbeat.cli.commands.app``).
"""

from __future__ import annotations

import gc
import os
import sys
import typing as t

if t.TYPE_CHECKING:
    import typer


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
    """Exit with *code* now: the atexit handlers run and the output is flushed first.

    What is skipped is only the interpreter's teardown (modules, collection).
    A flush that fails (a closed pipe) leaves the ordinary way, which reports it.
    """
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


def _check() -> int | None:
    """`heartbeat check` without typer (``fast_main``): its exit code, or None for typer."""
    from heartbeat.cli.run import fast_main

    # A check lives a fraction of a second and makes few cycles: the collector,
    # run over every object its imports create, would cost it about 5 % (DESIGN §6).
    gc.disable()
    try:
        return fast_main(sys.argv[1:])
    finally:
        gc.enable()


def _typer() -> None:
    from heartbeat.cli.commands import app
    from heartbeat.cli.run import setup_logging

    setup_logging()
    app()


def __getattr__(name: str) -> typer.Typer:
    """``heartbeat.cli.app``: the typer application, built when first asked for."""
    if name == "app":
        from heartbeat.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
