"""`heartbeat launch`, `heartbeat doctor`, `heartbeat demo` and `heartbeat config show`."""

from __future__ import annotations

import typing as t

import typer

from heartbeat.cli import common

if t.TYPE_CHECKING:
    from heartbeat.demo import DemoResult


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

    cfg = common.settings(notes_dir=notes_dir, socket=socket)
    folder = project_folder(directory)
    line = agent_command(
        task or [], folder, command=command, ralph=ralph, parallel=parallel, prd=prd
    )
    result = launch(cfg, common.now(cfg), name, folder, line)
    if json_output:
        common.emit_json(result.to_json())
        return
    typer.echo(f"started {result.name} on {result.socket}: {result.command}")
    for warning in result.warnings:
        typer.echo(f"note: {warning}", err=True)
    typer.echo(f"  in {result.dir}; logged in {result.note}")
    typer.echo(f"watch it:  {result.attach}   (detach: Ctrl-b d)")
    typer.echo(f"peek:      {result.peek}")
    typer.echo("check it:  heartbeat status")


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
    result = doctor.run_doctor(cfg, common.now(cfg), config_finding=config_finding)
    if json_output:
        common.emit_json(result.to_json())
    else:
        for finding in result.findings:
            typer.echo(finding.line())
        counts = result.counts()
        typer.echo(f"\n{counts['fail']} fail, {counts['warn']} warn, {counts['ok']} ok")
    raise typer.Exit(code=result.exit_code)


@common.handle_errors
def demo_command() -> None:
    """A real check over stand-in agents on a private socket, in seconds; leaves nothing behind.

    Starts sessions that succeed, hit a 429 and lose their token, lists one that
    died, runs a check, shows its table and the note it wrote, then removes its
    tmux server, socket and files. Your socket, notes, state and crontab are
    never touched.
    """
    from heartbeat.demo import run_demo

    result = run_demo(typer.echo)
    _render_demo(result)


def _render_demo(result: DemoResult) -> None:
    from heartbeat.report import render_table

    typer.echo("")
    typer.echo(render_table(result.check))
    typer.echo(f"\nthe note the check wrote ({result.note.name}):")
    typer.echo("  " + result.note_text.rstrip("\n").replace("\n", "\n  "))
    if result.notifications:
        typer.echo("\nnotifications (sent to the demo's stand-in openclaw):")
        for line in result.notifications:
            typer.echo(f"  {line}")
    typer.echo("")
    for session in result.sessions:
        seen = next((s for s in result.check.sessions if s.name == session.name), None)
        shown = f"{seen.diagnosis} → {seen.action}" if seen else "not seen"
        typer.echo(f"{session.name}: {session.story}: {shown}")
    for warning in result.cleanup_warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
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

    cfg = common.settings(notes_dir=notes_dir, socket=socket, state_dir=state_dir)
    searched = config_path(os.environ)
    if json_output:
        common.emit_json(
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
    typer.echo(f"config file: {searched} ({found})")
    rows = [("SETTING", "VALUE", "SOURCE"), *cfg.describe()]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for setting, value, source in rows:
        typer.echo(f"{setting:<{widths[0]}}  {value:<{widths[1]}}  {source}".rstrip())


def _json_value(value: object) -> object:
    import pathlib

    if isinstance(value, pathlib.Path):
        return str(value)
    return value
