"""The typer application: every command, their options and their help.

Sub-commands import their core modules when they run, so ``--help`` and
``status`` do not pay for what only a restart, cron or verification needs.
"""

from __future__ import annotations

import typer

import heartbeat.cli.misc as misc
from heartbeat.cli import check, common, fleet, notes, report, schedule

app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    name="heartbeat",
    help="Keeps long-running AI coding agents in tmux alive and honest, from cron.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("check")(check.command())
app.command("status")(misc.status_command)
app.command("verify")(misc.verify_command)
app.command("report")(report.report_command)
app.add_typer(notes.app, name="notes")
app.add_typer(schedule.cron_app, name="cron")
app.add_typer(schedule.app, name="schedule")
app.add_typer(fleet.app, name="fleet")
app.command("launch")(misc.launch_command)
app.command("doctor")(misc.doctor_command)
app.command("demo")(misc.demo_command)
app.add_typer(misc.config_app, name="config")
