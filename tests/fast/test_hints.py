"""Hints that fit the agent (issue 19): the Ralph loop, the login and the rerun of *its* kind.

Made-up probes through the real observe → decide (``tests.fast.pipeline``). A
Claude Code or gemini-cli run is never told to wrap itself in ``ralphy --codex``,
a ralphy run on Claude Code is never sent to ``codex login``, and an agent no
profile knows gets a sentence that names none.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import typing as t

import pytest

import memory_schema as ms
from heartbeat import profiles
from heartbeat.check.decide import Decision
from heartbeat.check.rules import AGENTS
from heartbeat.state import SessionState
from tests.fast.pipeline import NOTE, NOW, Pane_, decided, entry, one, settings

CODEX = "codex exec -s workspace-write 'Fix the login redirect'"
CLAUDE = "claude -p 'Fix the login redirect'"
GEMINI = "gemini -p 'Fix the login redirect'"
RALPHY = "ralphy --prd PRD.md"
UNKNOWN = "./run-agent.sh 'Fix the login redirect'"
AGENT_NAMES = ("codex", "ralphy", "claude", "Claude Code", "gemini")

FAILED = Pane_("EXITED: 1\n", "sleep")


def quick(repo: pathlib.Path) -> Pane_:
    """A pane that finished 30 s after it started, in *repo*."""
    return Pane_("EXITED: 0\n", "sleep", created=NOW.timestamp() - 30, path=str(repo))


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> pathlib.Path:
    """A real repository whose only commit is an hour older than the session: a run in it
    that changes nothing read and exited."""
    path = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "PRD.md").write_text("- [x] one\n- [ ] two\n")
    stamp = f"@{int(NOW.timestamp()) - 3600} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "-C", str(path), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "commit", "-qm", "init"], check=True, env=env)
    return path


def read_exit(command: str, repo: pathlib.Path, **kw: t.Any) -> Decision:
    fields = {"dir": str(repo), "tmux_command": command.startswith("tmux ")}
    return one(command, quick(repo), entry=fields, **kw)


class Hint(t.NamedTuple):
    id: str
    command: str
    has: tuple[str, ...]
    lacks: tuple[str, ...]


READ_AND_EXIT = [
    Hint("codex", CODEX, ("`ralphy --codex --prd PRD.md`", "auto_ralph = true"), ()),
    Hint(
        "claude",
        CLAUDE,
        ("Claude Code", "`ralphy --claude --prd PRD.md`", "default engine"),
        ("--codex", "auto_ralph"),
    ),
    Hint(
        "gemini",
        GEMINI,
        ("gemini-cli", "`ralphy --gemini --prd PRD.md`"),
        ("--codex", "auto_ralph"),
    ),
    Hint("ralphy", RALPHY, ("rerun the same command", "`- [ ]`"), ("--codex", "auto_ralph")),
    Hint("unknown", UNKNOWN, ("Ralph loop",), AGENT_NAMES),
]


@pytest.mark.parametrize("case", READ_AND_EXIT, ids=[c.id for c in READ_AND_EXIT])
def test_read_and_exit_hint_fits_the_agent(case: Hint, repo: pathlib.Path) -> None:
    decision = read_exit(case.command, repo)
    assert (decision.diagnosis, decision.restart) == ("read_and_exit", False)
    for text in case.has:
        assert text in decision.hint
    for text in case.lacks:
        assert text not in decision.hint


def test_auto_ralph_wraps_codex_and_promises_nothing_to_others(repo: pathlib.Path) -> None:
    config = settings(auto_ralph=True)
    codex = read_exit(CODEX, repo, config=config)
    assert (codex.diagnosis, codex.restart, codex.ralph) == ("read_and_exit", True, True)
    assert "`ralphy --codex --prd PRD.md`" in codex.hint
    assert "set auto_ralph" not in codex.hint
    claude = read_exit(CLAUDE, repo, config=config)
    assert (claude.diagnosis, claude.restart, claude.ralph) == ("read_and_exit", False, False)
    assert "auto_ralph cannot wrap this command" in claude.hint
    logged_tmux = f'tmux -S /sock new -d -s job -c {repo} "codex exec x"'
    codex_in_tmux = read_exit(logged_tmux, repo, config=config)
    assert (codex_in_tmux.diagnosis, codex_in_tmux.restart) == ("read_and_exit", False)
    assert "auto_ralph cannot wrap this command" in codex_in_tmux.hint


def test_ralphy_that_found_every_box_ticked_says_so(repo: pathlib.Path) -> None:
    """Its verification shows a PRD with no open box left (a rerun has nothing to do)."""
    (repo / "PRD.md").write_text("- [x] one\n- [x] two\n")
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{int(NOW.timestamp()) - 3000} +0000"}
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "tick"], check=True, env=env)
    decision = read_exit(RALPHY, repo)
    assert decision.diagnosis == "read_and_exit"
    assert "every box of PRD.md is ticked: 2/2" in decision.hint


FAILED_AGAIN = [
    Hint("codex", CODEX, ("failed more than once", "`ralphy --codex --prd PRD.md`"), ()),
    Hint("claude", CLAUDE, ("`ralphy --claude --prd PRD.md`",), ("--codex",)),
    Hint("gemini", GEMINI, ("`ralphy --gemini --prd PRD.md`",), ("--codex",)),
    Hint("ralphy", RALPHY, ("failed more than once", "`- [ ]`"), ("--codex",)),
    Hint("unknown", UNKNOWN, ("failed more than once", "Ralph loop"), AGENT_NAMES),
]


@pytest.mark.parametrize("case", FAILED_AGAIN, ids=[c.id for c in FAILED_AGAIN])
def test_failed_again_hint_fits_the_agent(case: Hint) -> None:
    decision = one(case.command, FAILED, SessionState(failures=1))
    assert decision.diagnosis == "failed"
    for text in case.has:
        assert text in decision.hint
    for text in case.lacks:
        assert text not in decision.hint


def test_a_first_failure_of_an_agent_has_no_loop_hint() -> None:
    assert one(CODEX, FAILED).hint == "restarts with the same command from the notes"


def test_a_failed_ralphy_names_the_boxes_it_ticked_for_its_failed_tasks() -> None:
    output = (
        '✖ Task "Write the CSV export" failed: codex exited with code 1\n'
        '✖ Task "Add retries" failed: codex exited with code 1\n'
        "[INFO] Summary:\n  Completed: 0\n  Failed:    2\nEXITED: 1\n"
    )
    decision = one("ralphy --codex --prd docs/PLAN.md", Pane_(output, "sleep"))
    assert decision.diagnosis == "failed"
    assert "'Write the CSV export', 'Add retries'" in decision.hint
    assert "untick them (`- [ ]`) in the PRD so the rerun does them again" in decision.hint


class Login(t.NamedTuple):
    id: str
    command: str
    output: str
    has: str
    lacks: str


LOGINS = [
    Login("codex", CODEX, "ERROR: unexpected status 401 Unauthorized", "`codex login`", "claude"),
    Login(
        "ralphy-default-engine",
        "ralphy --prd PRD.md",
        "[ERROR] Fatal error: 401 Unauthorized",
        "ralphy runs Claude Code: log Claude Code in again",
        "codex login",
    ),
    Login(
        "ralphy-claude",
        "ralphy --claude --prd PRD.md",
        "[ERROR] Fatal error: 401 Unauthorized",
        "/login",
        "codex login",
    ),
    Login(
        "ralphy-codex",
        "ralphy --codex --prd PRD.md",
        "[ERROR] Fatal error: 401 Unauthorized",
        "ralphy runs codex: run `codex login`",
        "/login",
    ),
    Login(
        "ralphy-gemini",
        "ralphy --gemini --prd PRD.md",
        "[ERROR] Fatal error: 401 Unauthorized",
        "GEMINI_API_KEY",
        "codex login",
    ),
    Login("claude", CLAUDE, "Not logged in · Please run /login", "/login", "codex login"),
]


@pytest.mark.parametrize("case", LOGINS, ids=[c.id for c in LOGINS])
def test_login_hint_follows_the_engine(case: Login) -> None:
    decision = one(case.command, Pane_(f"{case.output}\nEXITED: 1\n", "sleep"))
    assert decision.diagnosis == "auth_expired"
    assert case.has in decision.hint
    assert case.lacks not in decision.hint
    assert decision.hint.endswith("then `heartbeat notes resume job`")


def test_parallel_ralphy_on_codex_gets_codex_auth_json_advice() -> None:
    pane = Pane_("[ERROR] Fatal error: 401 Unauthorized\nEXITED: 1\n", "sleep")
    entries = [entry("a", "ralphy --codex --prd PRD.md"), entry("b", CODEX)]
    a, _b = decided(entries, {"a": pane})
    assert "auth.json" in a.hint


def test_a_paused_mark_in_the_note_is_a_pause() -> None:
    """`- ⏸️ job: …` reads as paused, so the check does not restart it (issue 19)."""
    text = "## Active Long-Running Processes\n\n- ⏸️ job: codex exec -s workspace-write 'x'\n"
    [entry] = ms.parse_note(text, NOTE).entries
    [decision] = decided([entry], {})
    assert (decision.diagnosis, decision.restart) == ("paused", False)


def test_every_loop_is_an_engine_ralphy_knows() -> None:
    """The loops of the table use the engine flags of ralphy's profile, for that agent."""
    ralphy = profiles.load().named("ralphy")
    assert ralphy is not None
    for name, row in AGENTS.items():
        if row.loop is None:
            continue
        flag = row.loop.split()[1]
        assert ralphy.engines.get(flag) == name, (name, row.loop)
        assert profiles.load().named(name) is not None


def test_every_loop_flag_is_in_the_installed_ralphys_help() -> None:
    """ralphy-cli's own --help, where the test bed installed it (tests.realagents.install)."""
    from tests.realagents import install

    ralphy = install.bin_dir() / "ralphy"
    if not ralphy.exists():
        pytest.skip("no pinned ralphy-cli installed: python3 -m tests.realagents.install")
    shown = subprocess.run(
        [str(ralphy), "--help"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    assert "--claude                  Use Claude Code (default)" in shown
    for row in AGENTS.values():
        if row.loop is not None:
            assert f"  {row.loop.split()[1]} " in shown, row.loop
