"""The command line: a thin shell over the core functions.

``main`` runs `heartbeat check` (what cron runs every minute) without building
the typer application (``heartbeat.cli.run.fast_main``); every other command
line, ``--help`` included, goes to typer (``heartbeat.cli.commands.app``).
"""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:
    import typer


def main() -> None:
    """Console-script entry point (`heartbeat`, `python -m heartbeat`)."""
    from heartbeat.cli.run import fast_main, setup_logging

    code = fast_main(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from heartbeat.cli.commands import app

    setup_logging()
    app()


def __getattr__(name: str) -> typer.Typer:
    """``heartbeat.cli.app``: the typer application, built when first asked for."""
    if name == "app":
        from heartbeat.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
