"""The morning report in the field (DESIGN §8): nights the repository's own tests do not run.

A machine that slept, a session restarted twice that then finished with commits, a usage
limit held across midnight, a session the user paused, a session renamed at midnight, the
WHEN forms a user types, ``--write`` on a CRLF note with frontmatter, ``digest_at`` over two
days, and the JSON's keys and types. Checks run in-process with an injected clock
(``run_check``), on a day after today; the report is read with ``heartbeat report --json``.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import typing as t

import pendulum
import pytest
from libtmux.test.retry import retry_until

from heartbeat.check import CheckResult, run_check
from heartbeat.config import load_settings
from heartbeat.tmux import Tmux
from tests import helpers
from tests.field import kill_servers, runs, session, sessions

if t.TYPE_CHECKING:
    import pathlib

DAY = pendulum.today().add(days=1)
FOREVER = "codex exec -s workspace-write 'scenario:work-forever keep the importer green'"
OUTCOMES = {
    "completed",
    "failed",
    "blocked",
    "held",
    "running",
    "gave_up",
    "misconfigured",
    "stalled",
    "waiting_input",
    "not_owned",
    "paused",
    "died",
}
ISO_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)$")


def at(hour: int, minute: int = 0, day: pendulum.DateTime = DAY) -> pendulum.DateTime:
    return day.set(hour=hour, minute=0, second=0, microsecond=0).add(minutes=minute)


def check(when: pendulum.DateTime) -> CheckResult:
    return run_check(load_settings(), when, date=when.date(), sleep=lambda _: None)


def every(start: pendulum.DateTime, end: pendulum.DateTime, minutes: int = 5) -> list[t.Any]:
    times = []
    when = start
    while when <= end:
        times.append(when)
        when = when.add(minutes=minutes)
    return times


def report(since: pendulum.DateTime, until: pendulum.DateTime) -> tuple[int, dict[str, t.Any]]:
    code, out, err = helpers.cli(
        "report", "--json", "--since", since.isoformat(), "--until", until.isoformat()
    )
    assert out.strip(), err
    return code, json.loads(out)


def rows(data: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {s["name"]: s for s in data["sessions"]}


def configure(tmp_path: pathlib.Path, **values: object) -> None:
    helpers.write_config(
        tmp_path / "config.toml",
        path_prefix=str(helpers.AGENTS),
        second_look_seconds=0,
        stall_minutes=10**6,  # an injected hour passes in a second
        **values,
    )


def note_of(notes_dir: pathlib.Path, body: str, day: pendulum.DateTime = DAY) -> pathlib.Path:
    return helpers.write_note(notes_dir, body, day=day.format("YYYY-MM-DD"))


def wait_runs(tmp_path: pathlib.Path, count: int) -> None:
    if not retry_until(lambda: len(runs(tmp_path)) >= count, 90, raises=False):
        raise AssertionError(f"{count} runs expected: {runs(tmp_path)}")


def git(repo: pathlib.Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def states(row: dict[str, t.Any]) -> list[str]:
    return [segment["state"] for segment in row["timeline"]]


# -- a machine that slept -------------------------------------------------------------------------


def test_a_night_the_machine_slept_is_unknown_never_guessed(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Checks 01:00–01:30, none until 05:00 (asleep), then to 06:00; `lost` died unseen."""
    configure(tmp_path)
    repo = helpers.git_repo(tmp_path / "repo")
    note_of(
        notes_dir,
        helpers.canonical("steady", FOREVER, repo) + helpers.canonical("lost", FOREVER, repo),
    )
    for name in ("steady", "lost"):
        helpers.start(agents, name, FOREVER, repo)
        helpers.wait_for_text(agents, name, "OpenAI Codex")
    for when in every(at(1), at(1, 30)):
        check(when)
    Tmux(agents).run("kill-session", "-t", "=lost")  # while the machine slept
    results = [check(when) for when in every(at(5), at(6))]
    assert session(results[0], "lost").action == "restarted"

    _code, data = report(at(1), at(6))

    gap = int(3.5 * 3600)  # 01:30 → 05:00
    for name in ("steady", "lost"):
        row = rows(data)[name]
        assert row["unknown_seconds"] == gap, (name, row["timeline"])
        unknown = [seg for seg in row["timeline"] if seg["state"] == "unknown"]
        assert len(unknown) == 1, row["timeline"]
        assert pendulum.parse(unknown[0]["start"]) == at(1, 30)
        assert pendulum.parse(unknown[0]["end"]) == at(5)
    steady = rows(data)["steady"]
    assert (steady["outcome"], steady["restarts"]) == ("running", 0)
    assert steady["running_seconds"] == 5 * 3600 - gap
    assert states(steady) == ["running", "unknown", "running"]
    lost = rows(data)["lost"]
    assert lost["restarts"] == 1
    assert lost["down_seconds"] < gap  # never guessed as down for the whole night
    assert lost["outcome"] == "running"
    kill_servers(agents)


# -- restarted twice, then completed --------------------------------------------------------------


def test_restarted_twice_then_completed_with_commits(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(tmp_path)
    monkeypatch.setenv("STANDIN_FLAKY", "2")
    repo = helpers.git_repo(tmp_path / "repo")
    command = "codex exec -s danger-full-access 'scenario:flaky Add the CSV export'"
    note_of(notes_dir, helpers.canonical("csv", command, repo))
    helpers.start(agents, "csv", command, repo)
    wait_runs(tmp_path, 1)
    helpers.wait_exited(agents, "csv")
    first = session(check(at(10)), "csv")
    assert (first.diagnosis, first.action) == ("failed", "restarted")
    wait_runs(tmp_path, 2)
    helpers.wait_exited(agents, "csv")
    second = session(check(at(10, 5)), "csv")
    assert (second.diagnosis, second.action) == ("failed", "restarted")
    wait_runs(tmp_path, 3)
    helpers.wait_for_text(agents, "csv", "EXITED: 0")
    # and the user's own dozen commits while it ran
    for n in range(12):
        (repo / f"note-{n}.txt").write_text(f"{n}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"manual commit number {n}")
    for when in every(at(10, 10), at(10, 30)):
        check(when)

    code, data = report(at(10), at(10, 30))

    csv = rows(data)["csv"]
    assert csv["outcome"] == "completed", csv
    assert csv["needs_you"] is None
    assert csv["restarts"] == 2
    assert len(csv["restart_reasons"]) == 2
    assert csv["commits"] == 13  # the agent's own and the dozen
    assert len(csv["commit_subjects"]) == 10  # up to ten
    assert all(isinstance(s, str) and s for s in csv["commit_subjects"])
    assert states(csv)[-1] == "done"
    assert data["totals"]["restarts"] == 2
    assert data["totals"]["commits"] == 13
    assert code == 0  # nobody needs you
    kill_servers(agents)


# -- a usage limit held across midnight -----------------------------------------------------------


def ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def test_a_usage_limit_held_across_midnight(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(tmp_path)
    morning = DAY.add(days=1)
    monkeypatch.setenv(
        "STANDIN_RESET",
        f"{morning:%b} {morning.day}{ordinal(morning.day)}, {morning.year} 9:00 AM",
    )
    (tmp_path / "codex-night").mkdir()
    command = (
        f"CODEX_HOME={tmp_path / 'codex-night'} codex exec -s workspace-write "
        "'scenario:usagelimit Port the handlers'"
    )
    repo = helpers.git_repo(tmp_path / "repo")
    note_of(notes_dir, helpers.canonical("night", command, repo))
    helpers.start(agents, "night", command, repo)
    helpers.wait_exited(agents, "night")
    for when in every(at(22), at(2, day=morning)):
        result = check(when)
        assert session(result, "night").diagnosis == "rate_limited", when
    assert len(runs(tmp_path)) == 1  # held: never restarted before the reset

    _code, data = report(at(22), at(2, day=morning))

    night = rows(data)["night"]
    assert (night["outcome"], night["needs_you"]) == ("held", None)
    assert night["held_seconds"] == 4 * 3600
    assert night["unknown_seconds"] == 0
    assert night["restarts"] == 0
    assert set(states(night)) == {"held"}
    assert "night" not in data["needs_you"]
    kill_servers(agents)


# -- paused by the user ---------------------------------------------------------------------------


def test_a_session_the_user_paused_is_paused_and_never_restarted(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    configure(tmp_path)
    repo = helpers.git_repo(tmp_path / "repo")
    note = note_of(notes_dir, helpers.canonical("job", FOREVER, repo))
    helpers.start(agents, "job", FOREVER, repo)
    helpers.wait_for_text(agents, "job", "OpenAI Codex")
    for when in every(at(9), at(9, 30)):
        check(when)
    # the user pauses it in the note and stops it
    text = note.read_text()
    paused, count = re.subn(r"(- `job` — )[a-z_]+", r"\1paused", text)
    assert count == 1, text
    note.write_text(paused)
    Tmux(agents).run("kill-session", "-t", "=job")
    for when in every(at(9, 35), at(10)):
        assert session(check(when), "job").action in ("none", "reported"), when
    assert len(runs(tmp_path)) == 1

    code, data = report(at(9), at(10))

    job = rows(data)["job"]
    assert (job["outcome"], job["needs_you"], job["restarts"]) == ("paused", None, 0)
    assert "job" not in data["needs_you"]
    assert code == 0
    kill_servers(agents)


# -- renamed at midnight --------------------------------------------------------------------------


def test_a_session_renamed_at_midnight_is_one_session(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    configure(tmp_path)
    repo = helpers.git_repo(tmp_path / "repo")
    note_of(notes_dir, helpers.canonical("importer", FOREVER, repo))
    helpers.start(agents, "importer", FOREVER, repo)
    helpers.wait_for_text(agents, "importer", "OpenAI Codex")
    morning = DAY.add(days=1)
    for when in every(at(23), at(23, 55)):
        check(when)
    done = Tmux(agents).run("rename-session", "-t", "=importer", "importer-v2")
    assert done.returncode == 0, done.stderr
    for when in every(at(0, day=morning), at(1, day=morning)):
        check(when)
    assert sessions(agents) == ["importer-v2"]  # followed, never started again

    _code, data = report(at(23), at(1, day=morning))

    named = [s for s in data["sessions"] if s["name"] in ("importer", "importer-v2")]
    assert len(named) == 1, [s["name"] for s in data["sessions"]]
    row = named[0]
    assert (row["outcome"], row["restarts"]) == ("running", 0)
    assert row["down_seconds"] == 0 and row["unknown_seconds"] == 0
    assert row["running_seconds"] == 2 * 3600
    assert data["totals"]["sessions"] == 1
    kill_servers(agents)


# -- WHEN -----------------------------------------------------------------------------------------


def zone_at_five_pm() -> str:
    """A fixed-offset zone in which it is now 17:xx (not too close to 18:00)."""
    while pendulum.now("UTC").minute >= 58:
        time.sleep(5)
    for offset in range(-12, 15):
        name = "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
        if pendulum.now(name).hour == 17:
            return name
    raise AssertionError("no zone at 17:00")


def since_of(*args: str) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    code, out, err = helpers.cli("report", "--json", *args)
    assert code in (0, 1), err
    data = json.loads(out)
    for key in ("since", "until"):
        assert ISO_OFFSET.match(data[key]), data[key]
    return t.cast(pendulum.DateTime, pendulum.parse(data["since"])), t.cast(
        pendulum.DateTime, pendulum.parse(data["until"])
    )


def test_when_forms_are_read_in_the_configured_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    zone = zone_at_five_pm()
    monkeypatch.setenv("HEARTBEAT_TZ", zone)
    now = pendulum.now(zone)
    yesterday = now.subtract(days=1).start_of("day")

    since, until = since_of("--since", "yesterday")
    assert since == yesterday
    assert abs((until - now).total_seconds()) < 600

    since, _ = since_of("--since", "18:00")  # 17:xx now: the most recent past 18:00
    assert since == yesterday.set(hour=18)

    since, _ = since_of("--since", "12h")
    assert abs((since - now.subtract(hours=12)).total_seconds()) < 600

    local = now.subtract(days=3).set(hour=8, minute=15, second=0, microsecond=0)
    since, _ = since_of("--since", local.format("YYYY-MM-DDTHH:mm:ss"))
    assert since == local  # no offset: local time
    assert since.utcoffset() == local.utcoffset()

    offset = "2026-12-05T08:00:00+05:30"
    since, until = since_of("--since", offset, "--until", "2026-12-05T20:00:00-03:00")
    assert since == pendulum.parse(offset)
    assert until == pendulum.parse("2026-12-05T20:00:00-03:00")


@pytest.mark.parametrize(
    "when",
    ["tomorrow-ish", "25:00", "12x", "2026-13-40T08:00", "-5h", "$(touch /tmp/x)"],
)
def test_a_when_heartbeat_cannot_read_is_a_clear_usage_error(when: str) -> None:
    code, out, err = helpers.cli("report", "--json", "--since", when)
    assert code == 2, (out, err)
    assert out == ""
    assert err.strip()
    assert when in err or "since" in err.lower()


def test_until_before_since_is_a_usage_error() -> None:
    code, out, err = helpers.cli(
        "report", "--json", "--since", "2026-12-05T10:00:00", "--until", "2026-12-05T09:00:00"
    )
    assert code == 2, (out, err)
    assert out == ""
    assert err.strip()


# -- --write on a CRLF note with frontmatter ------------------------------------------------------


def test_write_on_a_crlf_note_with_frontmatter_changes_nothing_else(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    configure(tmp_path)
    repo = helpers.git_repo(tmp_path / "repo")
    entry = helpers.canonical("job", FOREVER, repo)
    today = pendulum.today().format("YYYY-MM-DD")
    lines = [
        "---",
        "title: Thursday  # a comment python-frontmatter would drop",
        "tags: [b, a]",
        "---",
        f"# {today} — journée",
        "",
        "## Active Long-Running Processes",
        "",
        *entry.splitlines(),
        "",
        "## 14:05 UTC - Réunion",
        "",
        "trailing spaces   ",
        "",
        "---",
        "",
        "last words",
    ]
    original = ("\r\n".join(lines) + "\r\n").encode()
    note = notes_dir / f"{today}.md"
    note.write_bytes(original)
    before = pendulum.now().subtract(seconds=1)

    code, _out, err = helpers.cli("report", "--write")
    assert code in (0, 1), err
    written = note.read_bytes()
    assert written.count(b"## Heartbeat digest") == 1
    assert b"\n" not in written.replace(b"\r\n", b""), "a bare LF in a CRLF note"

    def without_digest(data: bytes) -> bytes:
        start = data.index(b"## Heartbeat digest")
        nxt = data.find(b"\r\n## ", start)
        return data[:start] + (data[nxt + 2 :] if nxt != -1 else b"")

    # only the digest was added: at the end after the note's own last byte, or as a section
    assert written.startswith(original) or without_digest(written) == original
    assert without_digest(written).rstrip(b"\r\n") == original.rstrip(b"\r\n")

    code, _out, err = helpers.cli("report", "--write")  # again: replaced, not added
    assert code in (0, 1), err
    again = note.read_bytes()
    assert again.count(b"## Heartbeat digest") == 1
    assert without_digest(again) == without_digest(written)
    assert b"\n" not in again.replace(b"\r\n", b"")

    # the default window now runs from the digest just written
    since, _ = since_of()
    assert since >= before.subtract(seconds=1)


# -- digest_at over two days ----------------------------------------------------------------------


def test_digest_at_writes_one_digest_and_one_notification_a_day(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    notify_log: pathlib.Path,
) -> None:
    configure(tmp_path, digest_at="08:00")
    monkeypatch.delenv("HEARTBEAT_DIGEST_AT")
    repo = helpers.git_repo(tmp_path / "repo")
    note = note_of(notes_dir, helpers.canonical("job", FOREVER, repo))
    helpers.start(agents, "job", FOREVER, repo)
    helpers.wait_for_text(agents, "job", "OpenAI Codex")

    def digests() -> int:
        text = notify_log.read_text() if notify_log.exists() else ""
        return sum("digest" in line.lower() for line in text.splitlines())

    for when in every(at(7, 40), at(7, 55)):
        check(when)
    assert "## Heartbeat digest" not in note.read_text()
    assert digests() == 0
    for when in [at(8), at(8, 5), at(9), at(13), at(23, 55)]:
        check(when)
    assert note.read_text().count("## Heartbeat digest") == 1
    assert digests() == 1
    tomorrow = DAY.add(days=1)
    other = notes_dir / f"{tomorrow.format('YYYY-MM-DD')}.md"
    for when in [at(0, 5, tomorrow), at(7, 59, tomorrow)]:
        check(when)
    assert "## Heartbeat digest" not in (other.read_text() if other.exists() else "")
    for when in [at(8, 10, tomorrow), at(8, 15, tomorrow), at(12, 0, tomorrow)]:
        check(when)
    assert other.read_text().count("## Heartbeat digest") == 1
    assert note.read_text().count("## Heartbeat digest") == 1
    assert digests() == 2
    kill_servers(agents)


# -- the JSON keys and types, PRD boxes -----------------------------------------------------------

PRD = (
    "# PRD\n\n"
    "- [X] Scaffold the package\n"
    "- [ ] Parse the CSV header\n"
    "  - [ ] Handle a BOM\n"
    "- [ ] Write the exporter\n"
    "\nNot a box: [ ] in a sentence.\n"
)


def test_the_json_has_every_key_of_design_8_with_its_type(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    configure(tmp_path)
    repos = {n: helpers.git_repo(tmp_path / f"repo-{n}") for n in ("loop", "done", "live")}
    (repos["loop"] / "PRD.md").write_text(PRD)
    git(repos["loop"], "add", "PRD.md")
    git(repos["loop"], "commit", "-qm", "Scaffold the package")
    commands = {
        "loop": "ralphy --codex --prd PRD.md",
        "done": "codex exec -s danger-full-access 'scenario:ok Add the health endpoint'",
        "live": FOREVER,
    }
    note_of(notes_dir, "".join(helpers.canonical(n, c, repos[n]) for n, c in commands.items()))
    for name, command in commands.items():
        helpers.start(agents, name, command, repos[name])
    helpers.wait_exited(agents, "loop")
    helpers.wait_exited(agents, "done")
    for when in every(at(11), at(12)):
        check(when)

    code, data = report(at(11), at(12))

    assert set(data) >= {"since", "until", "needs_you", "totals", "sessions"}
    for key in ("since", "until"):
        assert ISO_OFFSET.match(data[key]), data[key]
    assert isinstance(data["needs_you"], list)
    assert all(isinstance(n, str) for n in data["needs_you"])
    assert set(data["totals"]) >= {"sessions", "commits", "restarts", "tokens"}
    assert all(isinstance(data["totals"][k], int) for k in ("sessions", "commits", "restarts"))
    assert isinstance(data["totals"]["tokens"], int)
    keys = {
        "name", "agent", "dir", "outcome", "needs_you", "commits", "commit_subjects",
        "diffstat", "prd", "restarts", "restart_reasons", "running_seconds", "held_seconds",
        "down_seconds", "unknown_seconds", "tokens", "limits", "timeline",
    }  # fmt: skip
    for row in data["sessions"]:
        assert set(row) >= keys, (row["name"], keys - set(row))
        assert isinstance(row["name"], str) and isinstance(row["agent"], str)
        assert isinstance(row["dir"], str)
        assert row["outcome"] in OUTCOMES
        assert row["needs_you"] is None or isinstance(row["needs_you"], str)
        assert isinstance(row["commits"], int)
        assert isinstance(row["commit_subjects"], list) and len(row["commit_subjects"]) <= 10
        assert isinstance(row["restarts"], int) and isinstance(row["restart_reasons"], list)
        for key in ("running_seconds", "held_seconds", "down_seconds", "unknown_seconds"):
            assert isinstance(row[key], int | float) and row[key] >= 0, key
        if row["tokens"] is not None:
            assert set(row["tokens"]) >= {"input", "cached_input", "output", "total", "source"}
            assert row["tokens"]["source"] in ("rollout", "transcript", "pane")
        assert isinstance(row["limits"], list)
        for limit in row["limits"]:
            assert set(limit) >= {"window_minutes", "used_percent", "resets_at"}
        assert row["timeline"], row["name"]
        for segment in row["timeline"]:
            assert set(segment) >= {"start", "end", "state"}
            assert ISO_OFFSET.match(segment["start"]) and ISO_OFFSET.match(segment["end"])
        if row["prd"] is not None:
            assert set(row["prd"]) >= {"done", "ticked_without_commit", "open"}
    by = rows(data)
    assert sorted(by) == ["done", "live", "loop"]
    # totals add up
    assert data["totals"]["sessions"] == 3
    assert data["totals"]["commits"] == sum(r["commits"] for r in data["sessions"])
    assert data["totals"]["restarts"] == sum(r["restarts"] for r in data["sessions"])
    counted = [r["tokens"]["total"] for r in data["sessions"] if r["tokens"]]
    assert data["totals"]["tokens"] == sum(c for c in counted if c)
    # the PRD: its three counts add up to the boxes in the file as it is now
    text = (repos["loop"] / "PRD.md").read_text()
    boxes = len(re.findall(r"(?m)^\s*- \[[ xX]\] ", text))
    prd = by["loop"]["prd"]
    assert prd is not None
    assert prd["done"] + prd["ticked_without_commit"] + prd["open"] == boxes == 4
    assert prd["ticked_without_commit"] >= 1  # ralphy ticked boxes its codex never did
    assert by["loop"]["needs_you"] is not None
    # needs-you first, and the top list is the rows that need you
    assert set(data["needs_you"]) == {r["name"] for r in data["sessions"] if r["needs_you"]}
    assert [r["name"] for r in data["sessions"]][: len(data["needs_you"])] == data["needs_you"]
    assert by["done"]["outcome"] == "completed" and by["done"]["commits"] >= 1
    assert by["live"]["outcome"] == "running"
    assert code == 1
    kill_servers(agents)
