"""Docs cannot drift: every command's --help runs, and the README's commands are CI's."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import typing as t

import pytest
import typer
from typer.testing import CliRunner

from heartbeat.cli import app

REPO = pathlib.Path(__file__).resolve().parent.parent


def _commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    found: list[list[str]] = [[]]

    def walk(command: t.Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            found.append([*path, name])
            walk(sub, [*path, name])

    walk(root, [])
    return found


COMMANDS = _commands()


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "heartbeat" for p in COMMANDS])
def test_every_command_has_help(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    # a command's help says what it does, not just its options
    assert len(result.output.strip().splitlines()) > 3


def test_the_documented_commands_exist() -> None:
    names = {" ".join(p) for p in COMMANDS}
    for documented in (
        "check",
        "status",
        "launch",
        "verify",
        "doctor",
        "demo",
        "notes list",
        "notes add",
        "notes done",
        "notes remove",
        "notes pause",
        "notes resume",
        "cron install",
        "cron remove",
        "cron show",
        "config show",
    ):
        assert documented in names


def _readme_blocks() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.*?)\n```", text, re.S)


def test_readme_starts_with_the_install_and_ci_runs_its_test_command() -> None:
    blocks = [block.strip() for block in _readme_blocks()]
    run = blocks[0]
    assert run.startswith("python3 -m venv .venv && .venv/bin/pip install")
    assert "heartbeat demo" in run
    tests = [block for block in blocks if "pytest" in block]
    assert len(tests) == 1
    ci = (REPO / ".ci" / "run").read_text()
    assert tests[0] in ci


def test_installed_entry_point_and_module_run() -> None:
    """Cron runs the real binary: the console script and `python -m heartbeat` both work."""
    exe = pathlib.Path(sys.executable).parent / "heartbeat"
    for argv in ([str(exe), "--help"], [sys.executable, "-m", "heartbeat", "--help"]):
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "check" in result.stdout
    bad = subprocess.run(
        [str(exe), "check", "--date", "not-a-date"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert "YYYY-MM-DD" in bad.stderr
    assert "Traceback" not in bad.stderr
