"""`heartbeat launch`, `heartbeat doctor`, `heartbeat demo` and `heartbeat config show`."""

from __future__ import annotations

import typing as t

import typer

from heartbeat.cli import common


@common.handle_errors
def launch_command(
    name: t.Annotated[str, typer.Argument(help="The tmux session name (letters, digits, _ -).")],
    directory: t.Annotated[
        str, typer.Option("--dir", help="The project folder the agent works in.")
    ],
    task: t.Annotated[
        list[str] | None,
        typer.Argument(
            help="The task for `codex exec --full-auto`, after `--`.", show_default=False
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
