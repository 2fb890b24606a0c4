"""`heartbeat launch`, `notes list` and `doctor` ask the real codex 0.169.0 what it accepts."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from heartbeat import profiles
from heartbeat.installed import installed
from tests import helpers
from tests.realagents import bed, scenarios

if t.TYPE_CHECKING:
    import pathlib

    from tests.realagents.fakeapi import FakeAPI

pytestmark = pytest.mark.realagent

OK = scenarios.Scenario("codex", "launch", "codex exec -s workspace-write 'x'", "ok")


@pytest.fixture
def codex_env(
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> bed.Bed:
    """The real codex on PATH, configured against the fake API (as a user's codex would be)."""
    the_bed = bed.prepare(OK, tmp_path, fake_api, agents_bin, tag=tmp_path.name[-30:])
    for key, value in the_bed.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{agents_bin}:{os.environ['PATH']}")
    helpers.write_config(tmp_path / "config.toml", path_prefix=str(agents_bin))
    return the_bed


def test_the_installed_codex_is_asked_its_version_and_the_flags_it_rejects(
    codex_env: bed.Bed, tmp_path: pathlib.Path
) -> None:
    codex = profiles.load().named("codex")
    assert codex is not None
    state = tmp_path / "state"
    agent = installed(codex, os.environ["PATH"], state)
    assert (agent.version, agent.rejects) == ("0.169.0", ("--full-auto",))
    assert agent.tested == "0.169.0" and not agent.newer_than_tested
    assert (state / "agents.json").is_file()  # asked once per version


def test_launch_starts_a_codex_that_runs_to_completion(
    codex_env: bed.Bed, socket_path: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    code, out, err = helpers.cli(
        "launch", "greet", "--dir", str(codex_env.workdir), "--", "Add a greeting"
    )
    assert code == 0, err
    assert "codex exec -s workspace-write 'Add a greeting'" in out
    bed.wait_for(socket_path, "greet", "EXITED: ")
    assert "EXITED: 0" in bed.capture(socket_path, "greet")
    _, report = helpers.check_json("--dry-run")
    assert helpers.by_name(report)["greet"]["diagnosis"] in {"completed", "read_and_exit"}


def test_a_seed_command_is_launched_as_the_installed_codex_accepts_it(
    codex_env: bed.Bed, socket_path: pathlib.Path
) -> None:
    code, out, err = helpers.cli(
        "launch",
        "seed",
        "--dir",
        str(codex_env.workdir),
        "--command",
        "codex exec --full-auto 'Add a greeting'",
    )
    assert code == 0, err
    assert "codex exec -s workspace-write 'Add a greeting'" in out
    assert "rejects `--full-auto`" in err
    bed.wait_for(socket_path, "seed", "EXITED: ")
    assert "EXITED: 0" in bed.capture(socket_path, "seed")


def test_notes_list_warns_about_a_logged_seed_command(
    codex_env: bed.Bed, notes_dir: pathlib.Path
) -> None:
    command = "codex exec --full-auto 'Fix the login redirect'"
    helpers.write_note(notes_dir, helpers.canonical("auth-fix", command, codex_env.workdir))
    code, out, err = helpers.cli("notes", "list", "--json")
    assert code == 0, err
    [warning] = json.loads(out)["warnings"]
    assert "codex 0.169.0 rejects" in warning["message"]
    assert "codex exec -s workspace-write 'Fix the login redirect'" in warning["message"]
    code, out, _ = helpers.cli("doctor", "--json")
    findings = [f for f in json.loads(out)["findings"] if f["check"] == "agents"]
    assert any("codex 0.169.0" in f["what"] for f in findings), findings
    assert any("rejects (exit 2 at once)" in f["what"] for f in findings), findings


def test_launch_gives_claude_code_a_session_id_its_transcript_is_named_by(
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    tmp_path: pathlib.Path,
    socket_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The id launch gives is the one Claude Code records: a restart can resume it."""
    scenario = scenarios.Scenario("claude", "launch", "claude -p 'x'", "ok")
    the_bed = bed.prepare(scenario, tmp_path, fake_api, agents_bin, tag=tmp_path.name[-30:])
    for key, value in the_bed.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{agents_bin}:{os.environ['PATH']}")
    helpers.write_config(tmp_path / "config.toml", path_prefix=str(agents_bin))
    code, out, err = helpers.cli(
        "launch", "ask", "--dir", str(the_bed.workdir), "--command", "claude -p 'Say hello'"
    )
    assert code == 0, err
    given = out.split("--session-id ", 1)[1].split()[0]
    bed.wait_for(socket_path, "ask", "EXITED: ")
    assert list((the_bed.home / ".claude" / "projects").glob(f"*/{given}.jsonl"))
    _, report = helpers.check_json("--dry-run")
    assert helpers.by_name(report)["ask"]["agent_session"] == given
