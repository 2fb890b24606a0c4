"""`heartbeat check`, `heartbeat status` and `heartbeat verify`."""

from __future__ import annotations

import typing as t

import typer

from heartbeat.cli import common


@common.handle_errors
def check_command(
    date: common.DateOption = None,
    dry_run: t.Annotated[
        bool, typer.Option("--dry-run", help="Say what a check would do; change nothing.")
    ] = False,
    json_output: common.JsonOption = False,
    no_restart: t.Annotated[
        bool, typer.Option("--no-restart", help="Report and write back, but restart nothing.")
    ] = False,
    quiet: t.Annotated[
        bool,
        typer.Option("--quiet", help="Print only what changed and the problems (for cron's log)."),
    ] = False,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
    state_dir: common.StateDirOption = None,
) -> None:
    """One pass: read the notes, probe every session, act, write back and notify."""
    from heartbeat.cli import run

    cfg = common.settings(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    code = run.check(
        cfg,
        common.parse_date(date, cfg) if date else None,
        dry_run=dry_run,
        json_output=json_output,
        no_restart=no_restart,
        quiet=quiet,
    )
    raise typer.Exit(code=code)


@common.handle_errors
def status_command(
    json_output: common.JsonOption = False,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
    state_dir: common.StateDirOption = None,
) -> None:
    """What a check would see, read-only, as a table."""
    from heartbeat.check import run_check

    cfg = common.settings(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    now = common.now(cfg)
    result = run_check(cfg, now, read_only=True)
    result.self_watch = common.self_watch_line(cfg, now)
    if json_output:
        # DESIGN §9: when this machine's own scheduled check last ran (`fleet status` reads it)
        data = result.to_json()
        if "last_check" not in data:
            data["last_check"] = _last_check(cfg)
        common.emit_json(data)
        raise typer.Exit(code=result.exit_code)
    _emit(result, json_output, status=True)


def _last_check(cfg: t.Any) -> str | None:
    """The state's last check as ISO 8601 in local time, or None before the first."""
    import datetime

    from heartbeat.state import load_state

    last = load_state(cfg.state_dir).last_check
    if last is None:
        return None
    return datetime.datetime.fromtimestamp(last).astimezone().isoformat(timespec="seconds")


def _emit(result: t.Any, json_output: bool, *, status: bool) -> None:
    if json_output:
        common.emit_json(result.to_json())
    else:
        from heartbeat.report import render_table

        typer.echo(render_table(result, status=status))
    raise typer.Exit(code=result.exit_code)


@common.handle_errors
def verify_command(
    name: t.Annotated[str, typer.Argument(help="The session to verify.")],
    json_output: common.JsonOption = False,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
    date: common.DateOption = None,
) -> None:
    """Verify a session's work through git: commits since start, diff, PRD boxes."""
    from heartbeat.errors import ExitCode
    from heartbeat.verify import verify_session

    cfg = common.settings(notes_dir=notes_dir, socket=socket)
    result = verify_session(cfg, common.parse_date(date, cfg), common.now(cfg), name)
    if json_output:
        common.emit_json(result.to_json())
    else:
        typer.echo(f"{name}: {result.summary()}")
        for line in result.log:
            typer.echo(f"  {line}")
        if result.diff_stat:
            typer.echo("  uncommitted:")
            for line in result.diff_stat.splitlines():
                typer.echo(f"    {line}")
    bad = result.error is not None or bool(result.flags)
    raise typer.Exit(code=int(ExitCode.ATTENTION if bad else ExitCode.OK))
