"""Helpers for end-to-end tests: sessions with the seed's anatomy, notes, git repos."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import typing as t

import pendulum
from libtmux.test.retry import retry_until
from typer.testing import CliRunner

from heartbeat.cli import app
from heartbeat.config import Settings, load_settings
from heartbeat.session import anatomy
from heartbeat.tmux import Tmux

REPO = pathlib.Path(__file__).resolve().parent.parent
AGENTS = REPO / "tests" / "standins" / "bin"


def settings() -> Settings:
    return load_settings()


def today() -> str:
    return pendulum.now().format("YYYY-MM-DD")


def write_note(notes_dir: pathlib.Path, body: str, day: str | None = None) -> pathlib.Path:
    day = day or today()
    path = notes_dir / f"{day}.md"
    path.write_text(f"# {day}\n\n## Active Long-Running Processes\n\n{body}", encoding="utf-8")
    return path


def work_dir(notes_dir: pathlib.Path) -> pathlib.Path:
    """A project beside the notes (a git repository, as codex requires): where restarts run."""
    folder = notes_dir.parent / "work"
    if not (folder / ".git").is_dir():
        git_repo(folder)
    return folder


def canonical(name: str, command: str, directory: pathlib.Path | None = None) -> str:
    """A canonical entry's lines (as `heartbeat notes add` writes them)."""
    from memory_schema import render_entry

    return "".join(render_entry(name, command, dir=str(directory) if directory else None))


def start(socket: pathlib.Path, name: str, command: str, directory: pathlib.Path | None) -> None:
    """Start a session the way the seed (and `heartbeat launch`) does."""
    tmux = Tmux(socket)
    shell = anatomy(name, command, str(directory) if directory else None, settings())
    result = tmux.new_session(name, shell)
    assert result.returncode == 0, result.stderr


def pane_text(socket: pathlib.Path, name: str) -> str:
    result = Tmux(socket).run("capture-pane", "-p", "-J", "-t", f"={name}:", "-S", "-200")
    return result.stdout if result.returncode == 0 else ""


def wait_for_text(socket: pathlib.Path, name: str, text: str, seconds: float = 90) -> None:
    if not retry_until(lambda: text in pane_text(socket, name), seconds, raises=False):
        raise AssertionError(f"{text!r} not seen in {name}: {pane_text(socket, name)[-800:]!r}")


def wait_exited(socket: pathlib.Path, name: str, seconds: float = 90) -> None:
    wait_for_text(socket, name, "EXITED:", seconds)


def session_pid(socket: pathlib.Path, name: str) -> str:
    result = Tmux(socket).run("list-panes", "-t", f"={name}:", "-F", "#{pane_pid}")
    return result.stdout.strip()


def git_repo(path: pathlib.Path) -> pathlib.Path:
    """A real repository with one commit dated two minutes ago."""
    path.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": f"@{int(pendulum.now().timestamp()) - 120} +0000",
        "GIT_COMMITTER_DATE": f"@{int(pendulum.now().timestamp()) - 120} +0000",
    }
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "README.md").write_text("project\n")
    subprocess.run(["git", "-C", str(path), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "commit", "-qm", "init"], check=True, env=env)
    return path


def cli(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def check_json(*args: str) -> tuple[int, dict[str, t.Any]]:
    code, out, err = cli("check", "--json", *args)
    assert out.strip(), err
    return code, json.loads(out)


def by_name(report: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {s["name"]: s for s in report["sessions"]}


def write_config(path: pathlib.Path, **values: object) -> None:
    """A config file of *values*; restarts start afresh unless a test says otherwise.

    The stand-in agents do not keep conversations: resuming one is tested
    against the real agents (tests/realagents), so the stand-in tests restart
    the logged command as it is (``restart_mode = "fresh"``).
    """
    values.setdefault("restart_mode", "fresh")
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        elif isinstance(value, list):
            lines.append(f"{key} = {json.dumps(value)}")
        else:
            lines.append(f"{key} = {json.dumps(str(value))}")
    path.write_text("\n".join(lines) + "\n")
