"""`heartbeat check` without typer: the same output, messages and exit codes as with it.

``heartbeat.cli.main`` reads check's own command line itself
(``heartbeat.cli.check.fast_main``) and leaves everything else to typer. Each
case runs the installed console script (the fast path, what cron runs) and
the typer application the same way ``main`` runs it when the fast path
declines, from the same notes, state and tmux, and compares stdout, stderr
and the exit code byte for byte (clock times masked: the two runs may straddle
a minute).
"""

from __future__ import annotations

import datetime
import os
import pathlib
import re
import shutil
import subprocess
import sys
import typing as t

import pytest

from heartbeat.check import check_lock
from heartbeat.cli.check import check_options
from heartbeat.config import load_settings
from memory_schema import render_entry
from tests import helpers

#: What main() does when the fast path declines: the same logging, then typer.
TYPER_PATH = (
    "import sys\n"
    "from heartbeat.cli import setup_logging\n"
    "from heartbeat.cli.misc import app\n"
    "setup_logging()\n"
    "app(prog_name='heartbeat')\n"
)
WORK = "codex exec -s workspace-write 'scenario:work-forever {name}'"
CLOCK = re.compile(r"\b\d\d:\d\d\b|\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d|\b\d+[smhd]\b")


def script() -> str:
    beside = pathlib.Path(sys.executable).parent / "heartbeat"
    found = str(beside) if beside.exists() else shutil.which("heartbeat")
    assert found, "the heartbeat console script is not installed (pip install -e '.[test]')"
    return found


class Run(t.NamedTuple):
    code: int
    stdout: str
    stderr: str


def run(argv: list[str], env: dict[str, str]) -> Run:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    return Run(done.returncode, CLOCK.sub("T", done.stdout), CLOCK.sub("T", done.stderr))


def both(args: list[str], env: dict[str, str], reset: t.Callable[[], None]) -> tuple[Run, Run]:
    """The fast path's run and typer's, each from the same notes and state."""
    reset()
    fast = run([script(), *args], env)
    reset()
    typed = run([sys.executable, "-c", TYPER_PATH, *args], env)
    return fast, typed


class World:
    """Notes and state restored before each run: a real check changes them."""

    def __init__(self, tmp_path: pathlib.Path, notes_dir: pathlib.Path, note: str) -> None:
        self.notes_dir, self.note = notes_dir, note
        self.state = load_settings().state_dir
        self.path = notes_dir / f"{helpers.today()}.md"

    def reset(self) -> None:
        shutil.rmtree(self.state, ignore_errors=True)
        self.path.write_text(
            f"# {helpers.today()}\n\n## Active Long-Running Processes\n\n{self.note}"
        )


class Case(t.NamedTuple):
    id: str
    args: list[str]
    env: dict[str, str]
    #: The note's entries ("" none; "gone": one whose session is not there).
    note: str


GONE = "".join(render_entry("job", WORK.format(name="job"), "running"))
PAUSED = "".join(render_entry("nap", WORK.format(name="nap"), "paused"))
CASES = [
    Case("quiet-nothing", ["check", "--quiet"], {}, ""),
    Case("quiet-news", ["check", "--quiet", "--no-restart"], {}, GONE),
    Case("quiet-no-reply", ["check", "--quiet"], {"HEARTBEAT_NO_REPLY": "1"}, ""),
    Case("table", ["check", "--no-restart"], {}, GONE + PAUSED),
    Case("json", ["check", "--json", "--no-restart"], {}, GONE + PAUSED),
    Case("dry-run", ["check", "--dry-run"], {}, GONE),
    Case("dry-run-json", ["check", "--json", "--dry-run"], {}, GONE),
    Case("dated", ["check", "--date=2026-01-02", "--json", "--dry-run"], {}, GONE),
    Case("bad-zone", ["check", "--quiet"], {"HEARTBEAT_TZ": "Mars/Olympus"}, GONE),
    Case("no-notes", ["check", "--notes-dir", "/nonexistent/memory"], {}, ""),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_fast_path_prints_and_exits_as_typer_does(
    case: Case, tmp_path: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    world = World(tmp_path, notes_dir, case.note)
    env = {**os.environ, **case.env}
    fast, typed = both(case.args, env, world.reset)
    assert fast == typed
    assert fast.stdout or fast.stderr or case.id == "quiet-nothing"


def test_a_running_session_is_reported_alike(
    agents: pathlib.Path, tmp_path: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    """A real stand-in agent in tmux: its probe, its diagnosis and its last lines."""
    helpers.start(agents, "live", WORK.format(name="live"), None)
    helpers.wait_for_text(agents, "live", "OpenAI Codex")
    world = World(tmp_path, notes_dir, helpers.canonical("live", WORK.format(name="live")))
    for args in (["check"], ["check", "--json", "--dry-run"], ["check", "--quiet"]):
        fast, typed = both(args, dict(os.environ), world.reset)
        assert fast.code == typed.code == 0, (fast, typed)
        assert fast.stderr == typed.stderr == ""
        # the pane moves on between the two runs: compare what does not
        assert fast.stdout.splitlines()[:1] == typed.stdout.splitlines()[:1]


def test_a_held_lock_is_the_same_message_and_exit_code(notes_dir: pathlib.Path) -> None:
    helpers.write_note(notes_dir, GONE)
    with check_lock(load_settings().state_dir):
        fast = run([script(), "check", "--quiet"], dict(os.environ))
        typed = run([sys.executable, "-c", TYPER_PATH, "check", "--quiet"], dict(os.environ))
    assert fast == typed
    assert fast.code == 3
    assert "another heartbeat check is running" in fast.stderr


class Argv(t.NamedTuple):
    id: str
    argv: list[str]
    #: What the fast path reads (None: typer reads it).
    options: dict[str, object] | None


ARGVS = [
    Argv("bare", ["check"], {}),
    Argv(
        "every-flag",
        ["check", "--dry-run", "--json", "--no-restart", "--quiet"],
        {"dry_run": True, "json_output": True, "no_restart": True, "quiet": True},
    ),
    Argv(
        "values",
        ["check", "--date", "2026-01-02", "--notes-dir=/n", "--socket", "/s", "--state-dir=/t"],
        {
            "date": datetime.date(2026, 1, 2),
            "notes_dir": pathlib.Path("/n"),
            "socket": pathlib.Path("/s"),
            "state_dir": pathlib.Path("/t"),
        },
    ),
    Argv("help", ["check", "--help"], None),
    Argv("help-late", ["check", "--quiet", "--help"], None),
    Argv("other-command", ["status"], None),
    Argv("no-command", [], None),
    Argv("unknown-option", ["check", "--verbose"], None),
    Argv("repeated", ["check", "--quiet", "--quiet"], None),
    Argv("repeated-value", ["check", "--socket", "/a", "--socket", "/b"], None),
    Argv("bad-date", ["check", "--date", "2026-13-01"], None),
    Argv("missing-value", ["check", "--date"], None),
    Argv("empty-value", ["check", "--notes-dir="], None),
    Argv("dash-value", ["check", "--notes-dir", "--quiet"], None),
    Argv("flag-with-value", ["check", "--quiet=1"], None),
    Argv("stray-argument", ["check", "job"], None),
    Argv("separator", ["check", "--"], None),
    Argv("abbreviated", ["check", "--qui"], None),
]


@pytest.mark.parametrize("case", ARGVS, ids=[a.id for a in ARGVS])
def test_the_fast_path_reads_only_what_it_knows(case: Argv) -> None:
    assert check_options(case.argv) == case.options
