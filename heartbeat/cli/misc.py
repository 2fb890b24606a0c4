"""`heartbeat status`, `verify`, `launch`, `doctor`, `demo`, `config show`; their renderers."""

from __future__ import annotations

import typing as t

import typer

from heartbeat import clock
from heartbeat.cli import (
    check,
    common,
    echo,
    emit,
    emit_json,
    fleet,
    notes,
    renders,
    report,
    schedule,
    settings,
)

if t.TYPE_CHECKING:
    from heartbeat.demo import DemoResult
    from heartbeat.doctor.model import DoctorResult
    from heartbeat.launch import LaunchResult
    from heartbeat.verify import Verification


@common.handle_errors
def status_command(
    json_output: common.JsonOption = False,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
    state_dir: common.StateDirOption = None,
) -> None:
    """What a check would see, read-only, as a table."""
    from heartbeat.check import run_check

    cfg = settings(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    now = clock.pendulum_now(cfg.timezone)
    result = run_check(cfg, now, read_only=True)
    result.self_watch = common.self_watch_line(cfg, now)
    # the JSON's last_check (DESIGN §9) is when this machine's own check last ran
    emit(result, json_output, status=True)
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

    cfg = settings(notes_dir=notes_dir, socket=socket)
    now = clock.pendulum_now(cfg.timezone)
    result = verify_session(cfg, common.parse_date(date, cfg), now, name)
    emit(result, json_output, name=name)
    bad = result.error is not None or bool(result.flags)
    raise typer.Exit(code=int(ExitCode.ATTENTION if bad else ExitCode.OK))


@renders("Verification")
def render_verification(result: Verification, *, name: str) -> None:
    echo(f"{name}: {result.summary()}")
    for line in result.log:
        echo(f"  {line}")
    if result.diff_stat:
        echo("  uncommitted:")
        for line in result.diff_stat.splitlines():
            echo(f"    {line}")


@common.handle_errors
def launch_command(
    name: t.Annotated[str, typer.Argument(help="The tmux session name (letters, digits, _ -).")],
    directory: t.Annotated[
        str, typer.Option("--dir", help="The project folder the agent works in.")
    ],
    task: t.Annotated[
        list[str] | None,
        typer.Argument(
            help="The task for `codex exec -s workspace-write`, after `--`.", show_default=False
        ),
    ] = None,
    ralph: t.Annotated[
        bool, typer.Option("--ralph", help="Run the Ralph loop: `ralphy --codex --prd PRD.md`.")
    ] = False,
    parallel: t.Annotated[
        bool, typer.Option("--parallel", help="Ralph loop with parallel agents (implies --ralph).")
    ] = False,
    prd: t.Annotated[
        str | None,
        typer.Option("--prd", help="The Ralph loop's PRD (default PRD.md; implies --ralph)."),
    ] = None,
    command: t.Annotated[
        str | None,
        typer.Option("--command", help="Run this command instead of an agent (no task words)."),
    ] = None,
    json_output: common.JsonOption = False,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
) -> None:
    """Start an agent in tmux with the seed's anatomy and log it in today's note.

    heartbeat launch auth-fix --dir ~/code/app -- Fix the login redirect
    """
    from heartbeat.launch import agent_command, launch, project_folder

    cfg = settings(notes_dir=notes_dir, socket=socket)
    folder = project_folder(directory)
    line = agent_command(
        task or [], folder, command=command, ralph=ralph, parallel=parallel, prd=prd
    )
    emit(launch(cfg, clock.pendulum_now(cfg.timezone), name, folder, line), json_output)


@renders("LaunchResult")
def render_launch(result: LaunchResult) -> None:
    echo(f"started {result.name} on {result.socket}: {result.command}")
    for warning in result.warnings:
        echo(f"note: {warning}", err=True)
    echo(f"  in {result.dir}; logged in {result.note}")
    echo(f"watch it:  {result.attach}   (detach: Ctrl-b d)")
    echo(f"peek:      {result.peek}")
    echo("check it:  heartbeat status")


@common.handle_errors
def doctor_command(
    json_output: common.JsonOption = False,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
    state_dir: common.StateDirOption = None,
) -> None:
    """Check tmux, the socket, the notes, codex, notifications and cron; say how to fix each."""
    from heartbeat import doctor

    flags = {"notes_dir": notes_dir, "socket": socket, "state_dir": state_dir}
    cfg, config_finding = doctor.load(flags)
    now = clock.pendulum_now(cfg.timezone)
    result = doctor.run_doctor(cfg, now, config_finding=config_finding)
    emit(result, json_output)
    raise typer.Exit(code=result.exit_code)


@renders("DoctorResult")
def render_doctor(result: DoctorResult) -> None:
    for finding in result.findings:
        echo(finding.line())
    counts = result.counts()
    echo(f"\n{counts['fail']} fail, {counts['warn']} warn, {counts['ok']} ok")


@common.handle_errors
def demo_command() -> None:
    """A real check over stand-in agents on a private socket, in seconds; leaves nothing behind.

    Starts sessions that succeed, hit a 429 and lose their token, lists one that
    died, runs a check, shows its table and the note it wrote, then removes its
    tmux server, socket and files. Your socket, notes, state and crontab are
    never touched.
    """
    from heartbeat.demo import run_demo

    render_demo(run_demo(echo))


def render_demo(result: DemoResult) -> None:
    from heartbeat.cli.check import table

    echo("")
    echo(table(result.check))
    echo(f"\nthe note the check wrote ({result.note.name}):")
    echo("  " + result.note_text.rstrip("\n").replace("\n", "\n  "))
    if result.notifications:
        echo("\nnotifications (sent to the demo's stand-in openclaw):")
        for line in result.notifications:
            echo(f"  {line}")
    echo("")
    for session in result.sessions:
        seen = next((s for s in result.check.sessions if s.name == session.name), None)
        shown = f"{seen.diagnosis} → {seen.action}" if seen else "not seen"
        echo(f"{session.name}: {session.story}: {shown}")
    for warning in result.cleanup_warnings:
        echo(f"warning: {warning}", err=True)
    echo(
        f"\ncleaned up: the demo's tmux server and {result.folder} are gone "
        f"({result.seconds:.1f} s). Next: `heartbeat doctor`, then `heartbeat launch`."
    )


config_app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    help="Show the effective settings and where each came from.",
    no_args_is_help=True,
)


@config_app.command("show")
@common.handle_errors
def config_show_command(
    json_output: common.JsonOption = False,
    notes_dir: common.NotesDirOption = None,
    socket: common.SocketOption = None,
    state_dir: common.StateDirOption = None,
) -> None:
    """The effective settings, each with its source: flag, env VAR, config FILE or default."""
    import os

    from heartbeat.config import config_path

    cfg = settings(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    searched = config_path(os.environ)
    if json_output:
        emit_json(
            {
                "config_file": str(cfg.config_file) if cfg.config_file else None,
                "config_path": str(searched),
                "settings": {
                    name: {
                        # a secret is shown as `describe` shows it: "(set)", never the value
                        "value": shown
                        if name == "gateway_token"
                        else _json_value(getattr(cfg, name)),
                        "source": source,
                    }
                    for name, shown, source in cfg.describe()
                },
            }
        )
        return
    found = "found" if cfg.config_file else "not found: defaults and environment apply"
    echo(f"config file: {searched} ({found})")
    rows = [("SETTING", "VALUE", "SOURCE"), *cfg.describe()]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for setting, value, source in rows:
        echo(f"{setting:<{widths[0]}}  {value:<{widths[1]}}  {source}".rstrip())


def _json_value(value: object) -> object:
    import pathlib

    if isinstance(value, pathlib.Path):
        return str(value)
    return value


# --------------------------------------------------------------------------- the application

app = typer.Typer(
    rich_markup_mode=common.MARKUP,
    name="heartbeat",
    help="Keeps long-running AI coding agents in tmux alive and honest, from cron.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("check")(check.command())
app.command("status")(status_command)
app.command("verify")(verify_command)
app.command("report")(report.report_command)
app.add_typer(notes.app, name="notes")
app.add_typer(schedule.cron_app, name="cron")
app.add_typer(schedule.app, name="schedule")
app.add_typer(fleet.app, name="fleet")
app.command("launch")(launch_command)
app.command("doctor")(doctor_command)
app.command("demo")(demo_command)
app.add_typer(config_app, name="config")
