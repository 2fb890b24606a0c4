"""Notes as an assistant really writes them (DESIGN §3, §4): status emoji, checkboxes,
entries carried from yesterday, `notes pause` of a carried entry, wrapper commands whose
output shows the agent's banner."""

from __future__ import annotations

import pathlib
import shlex
import subprocess

import pendulum
import pytest
from libtmux.test.retry import retry_until

from heartbeat.check import CheckResult
from heartbeat.tmux import Tmux
from tests import helpers
from tests.field import check_at, runs, session, sessions, use_field_agents, wait_for

FOREVER = "codex exec -s workspace-write 'scenario:work-forever {task}'"
FAIL = "codex exec -s workspace-write 'scenario:fail {task}'"


def restarted(result: CheckResult, name: str) -> bool:
    found = [s for s in result.sessions if s.name == name]
    return bool(found) and found[0].action == "restarted"


def test_status_emoji_as_an_assistant_writes_them(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    api = FOREVER.format(task="make the API tests pass")
    body = (
        f"- 🟢 **api-tests** — `{api}`\n  - dir: {work}\n  - started: 09:12\n"
        f"- ⏸️ **docs-sweep** — paused, Alex wants to review the plan first: "
        f"`{FAIL.format(task='sweep the docs')}`\n  - dir: {work}\n"
        f"- ✅ **auth-fix** — done 10:40, merged in #412: "
        f"`{FAIL.format(task='fix the login redirect')}`\n  - dir: {work}\n"
        f"- ❌ **migrate** — killed, wrong approach: `{FAIL.format(task='migrate')}`\n"
        f"  - dir: {work}\n"
        f"- 🔴 **billing** — died 11:05, needs a restart: `{FAIL.format(task='billing')}`\n"
        f"  - dir: {work}\n"
    )
    note = notes_dir / f"{helpers.today()}.md"
    note.write_text(
        f"# {helpers.today()}\n\n## 09:10 UTC - morning kickoff\n\nAlex asked for the API "
        "work first.\n\n## Active Long-Running Processes\n\n" + body,
        encoding="utf-8",
    )
    helpers.start(agents, "api-tests", api, work)
    wait_for(agents, "api-tests", "exec")
    pid = helpers.session_pid(agents, "api-tests")
    result = check_at()
    tests_ = session(result, "api-tests")
    assert (tests_.diagnosis, tests_.action) == ("healthy", "none"), tests_
    assert session(result, "billing").action == "restarted", session(result, "billing")
    for name in ("docs-sweep", "auth-fix", "migrate"):
        assert not restarted(result, name), name
    assert session(result, "docs-sweep").diagnosis == "paused"
    assert helpers.session_pid(agents, "api-tests") == pid
    assert sessions(agents) == ["api-tests", "billing"]


def test_checkboxes_ticked_and_open(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    body = (
        f"- [x] `lint-fix` — `{FAIL.format(task='fix the lint errors')}`\n  - dir: {work}\n"
        f"- [ ] `perf` — `{FAIL.format(task='profile the hot path')}`\n  - dir: {work}\n"
    )
    helpers.write_note(notes_dir, body)
    result = check_at()
    assert session(result, "perf").action == "restarted"
    assert not restarted(result, "lint-fix")
    assert sessions(agents) == ["perf"]


def test_an_entry_carried_from_yesterday_into_a_busy_note(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    yesterday = pendulum.now().subtract(days=1).format("YYYY-MM-DD")
    command = FOREVER.format(task="nightly refactor of the billing module")
    old = notes_dir / f"{yesterday}.md"
    old.write_text(
        f"# {yesterday}\n\n## 23:40 UTC - late work\n\nKicked off the refactor before bed.\n\n"
        "## Active Long-Running Processes\n\n"
        f"- **nightly-refactor**: `{command}`\n  - dir: {work}\n  - started: 23:41\n",
        encoding="utf-8",
    )
    today = notes_dir / f"{helpers.today()}.md"
    today.write_text(
        f"# {helpers.today()}\n\n## 07:02 UTC - standup\n\n- Alex: review PR #418\n",
        encoding="utf-8",
    )
    before_old = old.read_bytes()
    helpers.start(agents, "nightly-refactor", command, work)
    wait_for(agents, "nightly-refactor", "exec")
    first = check_at()
    refactor = session(first, "nightly-refactor")
    assert (refactor.diagnosis, refactor.action) == ("healthy", "none"), refactor
    text = today.read_text(encoding="utf-8")
    assert text.startswith(f"# {helpers.today()}\n\n## 07:02 UTC - standup\n\n- Alex: review PR")
    assert "nightly-refactor" in text.split("Active Long-Running Processes", 1)[-1]
    assert old.read_bytes() == before_old
    settled = today.read_bytes()
    second = check_at(300)
    assert session(second, "nightly-refactor").action == "none"
    assert today.read_bytes() == settled  # carried once
    assert sessions(agents) == ["nightly-refactor"]


def test_notes_pause_of_a_carried_entry_holds_it(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    yesterday = pendulum.now().subtract(days=1).format("YYYY-MM-DD")
    command = FAIL.format(task="port the importer")
    helpers.write_note(notes_dir, helpers.canonical("importer", command, work), day=yesterday)
    helpers.start(agents, "importer", command, work)
    helpers.wait_exited(agents, "importer")
    code, out, err = helpers.cli("notes", "pause", "importer", "--for", "2h")
    assert code == 0, (out, err)
    pid = helpers.session_pid(agents, "importer")
    for offset in (0, 1800, 3600):
        importer = session(check_at(offset), "importer")
        assert (importer.diagnosis, importer.action) == ("paused", "none"), importer
    assert helpers.session_pid(agents, "importer") == pid
    assert len(runs(tmp_path)) == 1
    later = session(check_at(2 * 3600 + 300), "importer")
    assert later.action == "restarted", later


WRAPPER = """#!/bin/sh
# run-agent.sh: load the project's .env, then hand over to codex
set -a
[ -f .env ] && . ./.env
set +a
exec codex exec -s workspace-write "$@"
"""


def test_a_wrapper_script_is_known_by_codexs_banner(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`./run-agent.sh …` names no agent; its pane shows codex's banner, then its limit."""
    reset = pendulum.now().add(hours=3)
    monkeypatch.setenv("STANDIN_RESET", reset.format("h:mm A"))  # before the server starts
    work = helpers.work_dir(notes_dir)
    wrapper = work / "run-agent.sh"
    wrapper.write_text(WRAPPER)
    wrapper.chmod(0o755)
    limited = "./run-agent.sh 'scenario:usagelimit tidy the handlers'"
    steady = "./run-agent.sh 'scenario:work-forever keep the docs in sync'"
    helpers.write_note(
        notes_dir,
        f"- **tidy**: `{limited}`\n  - dir: {work}\n- **docs-sync**: `{steady}`\n  - dir: {work}\n",
    )
    helpers.start(agents, "tidy", limited, work)
    helpers.start(agents, "docs-sync", steady, work)
    helpers.wait_exited(agents, "tidy")
    wait_for(agents, "docs-sync", "exec")
    for offset in (0, 900):
        result = check_at(offset)
        tidy = session(result, "tidy")
        assert (tidy.diagnosis, tidy.action) == ("rate_limited", "backoff"), tidy
        docs = session(result, "docs-sync")
        assert (docs.diagnosis, docs.action) == ("healthy", "none"), docs
        assert all(s.diagnosis != "unlogged" for s in result.sessions)
    assert tidy.agent == "codex"


def test_npx_openai_codex_with_a_lost_token_is_blocked(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """`npx @openai/codex exec …` runs codex's own binary: its refresh-token error blocks."""
    use_field_agents(tmp_path, "npx")
    work = helpers.work_dir(notes_dir)
    command = "npx @openai/codex exec -s workspace-write 'scenario:auth rotate the API keys'"
    helpers.write_note(notes_dir, f"- `keys`: `{command}`\n  - dir: {work}\n")
    helpers.start(agents, "keys", command, work)
    helpers.wait_exited(agents, "keys")
    pid = helpers.session_pid(agents, "keys")
    for offset in (0, 600, 7200):
        keys = session(check_at(offset), "keys")
        assert (keys.diagnosis, keys.action) == ("auth_expired", "reported"), keys
    assert helpers.session_pid(agents, "keys") == pid
    assert len(runs(tmp_path)) == 1


def test_a_fenced_continued_tmux_line_under_a_lowercase_h3(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The seed's anatomy pasted as the assistant ran it: fenced, backslash-continued."""
    work = helpers.work_dir(notes_dir)
    task = "scenario:fail split the monolith"
    block = (
        f'tmux -S {agents} new -d -s monolith "cd {work} && \\\n'
        f"PATH={helpers.AGENTS}:\\$PATH codex exec -s workspace-write '{task}'; \\\n"
        "EXIT_CODE=\\$?; echo 'EXITED:' \\$EXIT_CODE; \\\n"
        'sleep 999999"'
    )
    note = notes_dir / f"{helpers.today()}.md"
    note.write_text(
        f"# {helpers.today()} — Tuesday\n\n## 14:05 UTC - kicked off the monolith split\n\n"
        "Alex OK'd it in chat.\n\n### active long-running processes\n\n"
        f"- monolith (codex, Alex's repo):\n\n  ```bash\n  "
        + block.replace("\n", "\n  ")
        + "\n  ```\n\n## 15:30 UTC - lunch\n\nNothing new.\n",
        encoding="utf-8",
    )
    subprocess.run(["sh", "-c", block.replace("\\\n", "")], check=True)
    helpers.wait_exited(agents, "monolith")
    result = check_at()
    monolith = session(result, "monolith")
    assert (monolith.diagnosis, monolith.action) == ("failed", "restarted"), monolith
    assert retry_until(lambda: len(runs(tmp_path)) == 2, 90, raises=False)
    assert sessions(agents) == ["monolith"]
    started = Tmux(agents).run("list-panes", "-t", "=monolith:", "-F", "#{pane_start_command}")
    assert shlex.quote(task) in started.stdout.replace("\\'", "'") or task in started.stdout
    assert "## 15:30 UTC - lunch\n\nNothing new.\n" in note.read_text(encoding="utf-8")
