"""`heartbeat cron install|remove|show`: the managed crontab block."""

from __future__ import annotations

import typer

app = typer.Typer(help="Install, show or remove the crontab entry that runs `heartbeat check`.")
