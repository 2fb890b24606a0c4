"""`heartbeat fleet status|report|key|serve`: several machines, one view (DESIGN §9)."""

from __future__ import annotations

import datetime
import os
import pathlib
import sys
import typing as t

import typer

from heartbeat.cli import common

if t.TYPE_CHECKING:
    from heartbeat.fleet import FleetReport, FleetStatus

app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    help="Read every host's heartbeat over ssh: one view of several machines.",
    no_args_is_help=True,
)

SinceOption = t.Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Start of the window: yesterday, 18:00, 12h or an ISO date-time (each host's "
        "default otherwise).",
    ),
]


@app.command("status")
@common.handle_errors
def status_command(
    json_output: common.JsonOption = False,
    no_share: t.Annotated[
        bool,
        typer.Option("--no-share", help="Open a new ssh connection per host (no ControlMaster)."),
    ] = False,
) -> None:
    """Every configured host's `heartbeat status`, over ssh, in parallel, as one table.

    Each host is asked for its own `heartbeat status --json` ([[fleet.hosts]] in
    the config; this machine is `local`). A host that cannot be reached or
    answers wrong is a row with its error, within connect_timeout plus
    command_timeout seconds. Read-only: each host's own scheduled check acts.
    Exit status 1 when a session or a host needs attention.
    """
    from heartbeat.fleet import fleet_status

    cfg = common.settings()
    result, warnings = fleet_status(cfg, share=not no_share)
    _warn(warnings)
    if json_output:
        common.emit_json(result.to_json())
    else:
        typer.echo(render_status(result, _now()))
    raise typer.Exit(code=result.exit_code)


@app.command("report")
@common.handle_errors
def report_command(
    since: SinceOption = None,
    json_output: common.JsonOption = False,
    no_share: t.Annotated[
        bool,
        typer.Option("--no-share", help="Open a new ssh connection per host (no ControlMaster)."),
    ] = False,
) -> None:
    """Every host's `heartbeat report`, merged: what needs you first, across hosts.

    Each host is asked for `heartbeat report --json [--since WHEN]`; the sessions
    are listed with their host, the totals added up. A host that cannot be read
    is at the top of the needs-you list with its error.
    """
    from heartbeat.fleet import fleet_report

    cfg = common.settings()
    result, warnings = fleet_report(cfg, since)
    _warn(warnings)
    if json_output:
        common.emit_json(result.to_json())
    else:
        typer.echo(render_report(result))
    raise typer.Exit(code=result.exit_code)


@app.command("key")
@common.handle_errors
def key_command(
    key: t.Annotated[
        pathlib.Path | None,
        typer.Option("--key", help="The public key (default ~/.ssh/id_ed25519.pub)."),
    ] = None,
    heartbeat: t.Annotated[
        str | None,
        typer.Option(
            "--heartbeat",
            help="heartbeat's path on the hosts (default: this installation's).",
        ),
    ] = None,
) -> None:
    """Print the authorized_keys line that lets a key run only heartbeat's status and report.

    The line has `restrict` (no shell, terminal or forwarding) and the forced
    command `heartbeat fleet serve`, which runs `heartbeat status --json` or
    `heartbeat report --json` and refuses anything else. How to install it goes
    to stderr, so `heartbeat fleet key > line` keeps only the line.
    """
    from heartbeat.config import expand
    from heartbeat.fleet import key_line

    cfg = common.settings()
    path = expand(key) if key else pathlib.Path(os.path.expanduser("~/.ssh/id_ed25519.pub"))
    result = key_line(path, heartbeat)
    typer.echo(result.line)
    for line in result.howto(cfg.fleet.hosts):
        typer.echo(line, err=True)


@app.command("serve")
@common.handle_errors
def serve_command() -> None:
    """The forced command of the fleet's key: runs what SSH_ORIGINAL_COMMAND asks, if allowed.

    Allowed: `heartbeat status --json` and `heartbeat report --json [--since
    WHEN]`; anything else is refused (exit 2). Not for use by hand: `heartbeat
    fleet key` writes it into the authorized_keys line.
    """
    from heartbeat.fleet import serve_argv, serve_exec_argv

    argv = serve_exec_argv(serve_argv(os.environ.get("SSH_ORIGINAL_COMMAND")))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        typer.echo(f"heartbeat: {warning}", err=True)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _ago(value: str | None, now: datetime.datetime) -> str:
    from heartbeat.words import format_duration

    if not value:
        return "never"
    try:
        then = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    if then.tzinfo is None:
        then = then.astimezone()
    return f"{format_duration((now - then).total_seconds(), compact=True)} ago"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [f"{cell:<{widths[i]}}" for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def render_status(result: FleetStatus, now: datetime.datetime) -> str:
    """The merged table: host, session, diagnosis, action, the host's last check and schedule."""
    schedule = {True: "kept", False: "MISSED", None: "-"}
    rows: list[tuple[str, ...]] = [
        ("HOST", "SESSION", "DIAGNOSIS", "ACTION", "LAST CHECK", "SCHEDULE")
    ]
    for row in result.rows():
        if row["error"]:
            rows.append((str(row["host"]), "-", "error", "-", "-", "-"))
            continue
        rows.append(
            (
                str(row["host"]),
                str(row["session"] or "(no sessions)"),
                str(row["diagnosis"] or "-"),
                str(row["action"] or "-"),
                _ago(t.cast("str | None", row["last_check"]), now),
                schedule[t.cast("bool | None", row["keeps_schedule"])],
            )
        )
    lines = [_table(rows)]
    errors = [host for host in result.hosts if host.error]
    if errors:
        lines.append("")
        lines += [f"{host.name}: {host.error}" for host in errors]
    if not result.hosts:
        lines.append("no hosts: add [[fleet.hosts]] to the config (see README, Several machines)")
    return "\n".join(lines)


def render_report(result: FleetReport) -> str:
    """Needs-you first across hosts, then every session with its host, then the totals."""
    lines = ["needs you:"]
    needs = result.needs_you
    if not needs:
        lines.append("  nothing")
    for item in needs:
        who = f"{item['host']}/{item['session']}" if item["session"] else str(item["host"])
        lines.append(f"  {who}: {item['reason']}")
    rows: list[tuple[str, ...]] = [("HOST", "SESSION", "OUTCOME", "COMMITS", "RESTARTS")]
    for session in result.sessions:
        rows.append(
            (
                str(session["host"]),
                str(session.get("name", "?")),
                str(session.get("outcome", "-")),
                str(session.get("commits", "-")),
                str(session.get("restarts", "-")),
            )
        )
    lines += ["", _table(rows), ""]
    totals = result.totals
    lines.append(
        f"{totals['sessions']} sessions, {totals['commits']} commits, "
        f"{totals['restarts']} restarts, {totals['tokens']} tokens "
        f"on {sum(1 for h in result.hosts if h.ok)} of {len(result.hosts)} hosts"
    )
    return "\n".join(lines)
