"""Issue 21, the morning report: a day run for real, checks over it, then `heartbeat report`.

Real tmux, stand-in agents, real git. The day is tomorrow, 06:00 to 09:00, by the clock
injected into ``run_check`` (the sessions run now, before it; stall detection is off, since
an injected hour passes in a second). Five sessions: ``api`` finishes with a commit,
``web`` is a Ralph loop that ticks its PRD's boxes without committing, ``quota`` is held
by a usage limit, ``flaky`` dies and is restarted, ``auth`` is blocked on its login. No
check runs from 07:00 to 08:10 (the machine slept): that stretch is unknown. The first
check at or after ``digest_at`` (08:00) writes the digest and notifies once.
"""

from __future__ import annotations

import json
import os
import subprocess
import typing as t

import pendulum
import pytest

from heartbeat.check import run_check
from heartbeat.config import load_settings
from heartbeat.history import journal_path
from heartbeat.tmux import Tmux
from tests import helpers

if t.TYPE_CHECKING:
    import pathlib

DAY = pendulum.today().add(days=1)
PRD = "# PRD\n\n- [x] Set up the project\n- [ ] Write the CSV export\n- [ ] Add the logout page\n"
COMMANDS = {
    "api": "codex exec -s danger-full-access 'scenario:ok Add the CSV export'",
    "web": "ralphy --codex --prd PRD.md",
    # accounts of their own: sessions sharing a limited or refused account are held with it
    "quota": "CODEX_HOME={home}-quota codex exec -s workspace-write 'scenario:usagelimit Add "
    "paging'",
    "flaky": "codex exec -s workspace-write 'scenario:work-forever Refactor the client'",
    "auth": "CODEX_HOME={home}-auth codex exec -s workspace-write 'scenario:auth Fix the login "
    "redirect'",
}


def at(hour: int, minute: int = 0, day: pendulum.DateTime = DAY) -> pendulum.DateTime:
    return day.set(hour=hour, minute=0).add(minutes=minute)


def check(when: pendulum.DateTime) -> t.Any:
    return run_check(load_settings(), when, date=when.date(), sleep=lambda _: None)


def ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def commit_prd(repo: pathlib.Path) -> None:
    (repo / "PRD.md").write_text(PRD)
    then = f"@{int(pendulum.now().timestamp()) - 60} +0000"
    env = {"GIT_AUTHOR_DATE": then, "GIT_COMMITTER_DATE": then}
    subprocess.run(["git", "-C", str(repo), "add", "PRD.md"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-qm", "prd"],
        check=True,
        env={**os.environ, **env},
    )


@pytest.fixture
def day_run(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    notify_log: pathlib.Path,
) -> dict[str, t.Any]:
    """The day: five sessions, checks every five minutes but for the night's gap."""
    reset = DAY.add(days=2)
    monkeypatch.setenv(
        "STANDIN_RESET", f"{reset:%b} {reset.day}{ordinal(reset.day)}, {reset.year} 9:00 AM"
    )
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        stall_minutes=10**6,
        digest_at="08:00",
    )
    monkeypatch.delenv("HEARTBEAT_DIGEST_AT")
    repos = {name: helpers.git_repo(tmp_path / f"repo-{name}") for name in COMMANDS}
    commit_prd(repos["web"])
    (tmp_path / "codex-quota").mkdir()
    (tmp_path / "codex-auth").mkdir()
    commands = {n: c.format(home=tmp_path / "codex") for n, c in COMMANDS.items()}
    helpers.write_note(
        notes_dir,
        "".join(helpers.canonical(n, c, repos[n]) for n, c in commands.items()),
        day=DAY.format("YYYY-MM-DD"),
    )
    for name, command in commands.items():
        helpers.start(agents, name, command, repos[name])
    for name in ("api", "web", "quota", "auth"):
        helpers.wait_exited(agents, name)
    helpers.wait_for_text(agents, "flaky", "OpenAI Codex")
    results = {}
    morning = [at(6, 5 * k) for k in range(13)]  # 06:00 … 07:00
    later = [at(8, 10 + 5 * k) for k in range(11)]  # 08:10 … 09:00
    for when in morning + later:
        if when == at(6, 30):
            Tmux(agents).run("kill-session", "-t", "=flaky")
        results[when.format("HH:mm")] = check(when)
        if when == at(6, 30):
            flaky = next(s for s in results["06:30"].sessions if s.name == "flaky")
            assert flaky.action == "restarted", flaky.detail
            helpers.wait_for_text(agents, "flaky", "OpenAI Codex")
    return {"results": results, "repos": repos, "agents": agents}


def report_json(*args: str) -> tuple[int, dict[str, t.Any]]:
    code, out, err = helpers.cli(
        "report", "--since", at(6).isoformat(), "--until", at(9).isoformat(), "--json", *args
    )
    assert out.strip(), err
    return code, json.loads(out)


def test_the_morning_report_of_a_day(
    day_run: dict[str, t.Any], notes_dir: pathlib.Path, notify_log: pathlib.Path
) -> None:
    results = day_run["results"]
    assert any(s.name == "flaky" and s.action == "restarted" for s in results["06:30"].sessions)
    code, report = report_json()
    assert code == 1  # someone needs you
    sessions = {s["name"]: s for s in report["sessions"]}
    assert sorted(sessions) == sorted(COMMANDS)
    assert report["needs_you"] == ["auth", "web"]  # blocked first, then the PRD
    assert [s["name"] for s in report["sessions"]][:2] == ["auth", "web"]
    assert report["since"] == at(6).isoformat() and report["until"] == at(9).isoformat()

    api = sessions["api"]
    assert (api["outcome"], api["needs_you"], api["agent"]) == ("completed", None, "codex")
    assert api["commits"] == 1 and len(api["commit_subjects"]) == 1
    printed = helpers.pane_text(day_run["agents"], "api").split("tokens used", 1)[1].split()[0]
    assert api["tokens"] == {
        "input": None,
        "cached_input": None,
        "output": None,
        "total": int(printed.replace(",", "")),
        "source": "pane",
    }

    web = sessions["web"]
    assert web["outcome"] == "failed"
    assert web["prd"] == {"done": 1, "ticked_without_commit": 2, "open": 0}
    assert web["needs_you"].startswith("PRD boxes ticked without a commit: 'Write the CSV")
    assert web["commits"] == 0

    auth = sessions["auth"]
    assert auth["outcome"] == "blocked"
    assert auth["needs_you"].startswith("blocked: ") and "codex login" in auth["needs_you"]

    quota = sessions["quota"]
    assert (quota["outcome"], quota["needs_you"]) == ("held", None)
    asleep = 70 * 60  # 07:00 → 08:10, no check
    assert quota["held_seconds"] == 3 * 3600 - asleep
    assert quota["unknown_seconds"] == asleep

    flaky = sessions["flaky"]
    assert (flaky["outcome"], flaky["restarts"]) == ("running", 1)
    assert "died" in flaky["restart_reasons"][0]
    assert flaky["running_seconds"] == 3 * 3600 - asleep
    assert [seg["state"] for seg in flaky["timeline"]] == ["running", "unknown", "running"]
    assert flaky["timeline"][1]["start"] == at(7).isoformat()
    assert flaky["timeline"][1]["end"] == at(8, 10).isoformat()

    for name in COMMANDS:  # a finished session cannot change unseen: it stays done
        assert sessions[name]["unknown_seconds"] == (0 if name == "api" else asleep), name
    assert [seg["state"] for seg in api["timeline"]] == ["done"]
    assert report["totals"] == {
        "sessions": 5,
        "commits": 1,
        "restarts": 1,
        "tokens": api["tokens"]["total"],
    }

    # the digest: written once, by the first check at or after 08:00, and notified once
    note = notes_dir / f"{DAY.format('YYYY-MM-DD')}.md"
    text = note.read_text()
    assert text.count("## Heartbeat digest") == 1
    assert "- `auth` — blocked: " in text
    notices = notify_log.read_text().splitlines()
    assert sum("heartbeat digest" in line for line in notices) == 1
    digests = [
        json.loads(line)
        for line in journal_path(load_settings().state_dir).read_text().splitlines()
        if '"digest"' in line
    ]
    assert [d["time"] for d in digests] == [at(8, 10).isoformat(timespec="seconds")]


def test_report_renders_the_table_and_the_timelines(day_run: dict[str, t.Any]) -> None:
    code, out, err = helpers.cli(
        "report", "--since", at(6).isoformat(), "--until", at(9).isoformat()
    )
    assert code == 1, err
    assert "Session" in out and "Outcome" in out and "Needs you" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()}
    for name in COMMANDS:
        assert name in rows
    timeline = [line for line in out.splitlines() if line.startswith("flaky ") and "=" in line]
    assert timeline, out
    cells = timeline[0].split()[-1]
    assert set(cells) == {"=", "?"} and cells.startswith("=") and cells.endswith("=")
    assert "? unknown (no check)" in out and "! needs you" in out
    assert "\033[" not in out  # not a terminal: plain text


def test_write_twice_leaves_one_digest_and_the_rest_of_the_note_byte_for_byte(
    day_run: dict[str, t.Any], notes_dir: pathlib.Path
) -> None:
    note = notes_dir / f"{DAY.format('YYYY-MM-DD')}.md"
    with note.open("a") as handle:
        handle.write("\n## 09:05 UTC - notes of my own\n\nkeep me\n")
    before = note.read_text()
    head, _, rest = before.partition("## Heartbeat digest")
    tail = rest[rest.index("\n## ") :]
    for _ in range(2):
        code, _out, err = helpers.cli(
            "report", "--since", at(6).isoformat(), "--until", at(9).isoformat(), "--write"
        )
        assert code == 1, err
    after = note.read_text()
    assert after.count("## Heartbeat digest") == 1
    assert after.startswith(head) and after.endswith(tail)


def test_a_quiet_check_adds_only_its_time_and_digest_at_writes_once_a_day(
    day_run: dict[str, t.Any], notes_dir: pathlib.Path, notify_log: pathlib.Path
) -> None:
    path = journal_path(load_settings().state_dir)
    lines = path.read_text().splitlines()
    quiet = [json.loads(line) for line in lines if "T08:50:00" in line or "T08:55:00" in line]
    assert [row["kind"] for row in quiet] == ["check", "check"]
    note = notes_dir / f"{DAY.format('YYYY-MM-DD')}.md"
    written = note.read_bytes()
    check(at(9, 5))
    assert note.read_bytes() == written  # no second digest that day, nothing else to say
    # the next day: its own digest, its own notification
    next_day = DAY.add(days=1)
    check(at(7, 55, next_day))
    check(at(8, 0, next_day))
    check(at(8, 5, next_day))
    notices = notify_log.read_text().splitlines()
    assert sum("heartbeat digest" in line for line in notices) == 2
    other = notes_dir / f"{next_day.format('YYYY-MM-DD')}.md"
    assert other.read_text().count("## Heartbeat digest") == 1


def test_status_json_says_when_this_hosts_check_last_ran(notes_dir: pathlib.Path) -> None:
    code, out, err = helpers.cli("status", "--json")
    assert json.loads(out)["last_check"] is None, err
    now = pendulum.now().subtract(minutes=3)
    run_check(load_settings(), now, sleep=lambda _: None)
    code, out, err = helpers.cli("status", "--json")
    assert json.loads(out)["last_check"] == now.isoformat(timespec="seconds"), err
    assert code == 0
