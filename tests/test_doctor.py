"""`heartbeat doctor`: each finding with its fix; exit 1 when any fails; read-only.

Real tmux (the plugin's server), the stand-in codex (its `codex login status`),
real files and permissions. The crontab is given as text to the core function
(the user's real crontab is only read, by the CLI test).
"""

from __future__ import annotations

import json
import os
import pathlib
import socket as socketlib
import sys
import typing as t

import pendulum
import pytest

import memory_schema as ms
from heartbeat.config import load_settings
from heartbeat.doctor import DoctorResult, Level, load, parse_entry, run_doctor
from heartbeat.schedule import cron
from heartbeat.state import State, save_state
from tests import helpers
from tests.cronbox import (  # noqa: F401 - fixtures, registered by being imported
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)
from tests.sysstandins import Standins, standins_fixture  # noqa: F401

if t.TYPE_CHECKING:
    import libtmux


@pytest.fixture
def agents(monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.setenv("PATH", f"{helpers.AGENTS}:{os.environ['PATH']}")
    return helpers.AGENTS


def doctor(table: str | None = "", now: pendulum.DateTime | None = None) -> DoctorResult:
    settings, config = load()
    return run_doctor(settings, now or pendulum.now(), table=table, config_finding=config)


def levels(result: DoctorResult, check: str) -> set[Level]:
    return {f.level for f in result.by_check(check)}


def text(result: DoctorResult, check: str) -> str:
    return "\n".join(f.line() for f in result.by_check(check))


def test_a_working_setup_has_no_failure(
    agents: pathlib.Path, socket_path: pathlib.Path, session: libtmux.Session
) -> None:
    result = doctor()
    assert [f.line() for f in result.findings if f.level is Level.FAIL] == []
    assert result.exit_code == 0
    assert text(result, "tmux").startswith("ok    tmux ")
    assert "answers:" in text(result, "socket")
    assert str(session.name) in text(result, "socket")
    assert levels(result, "notes") == {Level.OK}
    assert "no note for today yet" in text(result, "note")
    assert "Logged in" in text(result, "codex")
    assert levels(result, "ralphy") == {Level.OK}
    assert "notifications are off (env HEARTBEAT_NOTIFY)" in text(result, "notify")
    assert levels(result, "crontab") == {Level.WARN}
    assert "heartbeat cron install" in text(result, "crontab")
    checks = [f.check for f in result.findings]
    for check in ("config", "tmux", "socket", "notes", "note", "state", "codex", "codex_log"):
        assert check in checks


def test_doctor_changes_nothing(
    agents: pathlib.Path, socket_path: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """No tmux server is started, no note, state or socket folder is created."""
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = doctor()
    assert not socket_path.exists()
    assert "no tmux server" in text(result, "socket") or "does not exist" in text(result, "socket")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def _stale_socket(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s" / "sock"
    path.parent.mkdir(mode=0o700)
    listener = socketlib.socket(socketlib.AF_UNIX)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody answers: a server that died
    monkeypatch.setenv("HEARTBEAT_SOCKET", str(path))


def _setup(what: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = tmp_path / "memory"
    today = ms.note_path(notes, pendulum.now().date())
    if what == "notes-missing":
        notes.rmdir()
    elif what == "notes-loose":
        notes.chmod(0o777)
    elif what == "note-binary":
        today.write_bytes(b"# day\n\xff\xfe not text\n")
    elif what == "note-problem":
        today.write_text(
            "# day\n\n## Active Long-Running Processes\n\n- `api`: `codex exec 'oops`\n"
        )
    elif what == "note-loose":
        today.write_text("# day\n")
        today.chmod(0o666)
    elif what == "logged-out":
        (tmp_path / "codex").mkdir()
        (tmp_path / "codex" / "stand-in-logged-out").touch()
    elif what == "stale-socket":
        _stale_socket(tmp_path, monkeypatch)
    elif what == "socket-folder-missing":
        monkeypatch.setenv("HEARTBEAT_SOCKET", str(tmp_path / "nowhere" / "sock"))
    elif what == "notify-missing":
        monkeypatch.setenv("HEARTBEAT_NOTIFY", "no-such-notifier --text {message}")
    elif what == "bad-config":
        (tmp_path / "config.toml").write_text("stall_minutes = 'soon'\n")
    elif what == "no-tmux":
        monkeypatch.setenv("PATH", str(helpers.AGENTS))
    elif what == "no-ralphy":
        monkeypatch.setenv("PATH", os.environ["PATH"].replace(f"{helpers.AGENTS}:", ""))
    elif what == "corrupt-state":
        (tmp_path / "state").mkdir()
        (tmp_path / "state" / "state.json").write_text("{not json")
    elif what == "codex-log":
        log = tmp_path / "codex" / "log" / "codex-tui.log"
        log.parent.mkdir(parents=True)
        log.write_text("x" * 4096)
    else:  # pragma: no cover - a typo in the table below
        raise AssertionError(what)


class Case(t.NamedTuple):
    setup: str
    check: str
    level: Level
    says: str
    fix: str


CASES = [
    Case("notes-missing", "notes", Level.FAIL, "does not exist", "mkdir -p"),
    Case("notes-loose", "notes", Level.FAIL, "writable by others (mode 777)", "chmod go-w"),
    Case("note-binary", "note", Level.FAIL, "cannot be read", "UTF-8"),
    Case("note-problem", "note", Level.WARN, "cannot be read (first: line 5", "notes list"),
    Case("note-loose", "note", Level.FAIL, "writable by others", "chmod go-w"),
    Case("logged-out", "codex", Level.FAIL, "Not logged in", "`codex login` (not"),
    Case("stale-socket", "socket", Level.WARN, "no tmux server is running", "rm "),
    Case("socket-folder-missing", "socket", Level.WARN, "does not exist yet", "mkdir -m 700"),
    Case("notify-missing", "notify", Level.FAIL, "no-such-notifier is not on PATH", "install"),
    Case("bad-config", "config", Level.FAIL, "stall_minutes", "fix the file"),
    Case("no-tmux", "tmux", Level.FAIL, "tmux is not on PATH", "apt-get install tmux"),
    Case("no-ralphy", "ralphy", Level.WARN, "ralphy is not on PATH", "ralphy-cli"),
    Case("corrupt-state", "state", Level.WARN, "corrupt", "nothing to do"),
    Case("codex-log", "codex_log", Level.OK, "(4 KiB;", ""),
]


@pytest.mark.parametrize("case", CASES, ids=[c.setup for c in CASES])
def test_each_problem_is_found_with_its_fix(
    case: Case,
    agents: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _setup(case.setup, tmp_path, monkeypatch)
    result = doctor()
    found = [
        f for f in result.by_check(case.check) if f.level is case.level and case.says in f.what
    ]
    assert found, [f.line() for f in result.findings]
    assert case.fix in found[0].fix
    assert result.exit_code == (1 if case.level is Level.FAIL else 0)


# ------------------------------------------------------------------ cron


def venv_heartbeat() -> str:
    return str(pathlib.Path(sys.executable).parent / "heartbeat")


class CronCase(t.NamedTuple):
    table: str
    crontab: Level
    cron_path: Level | None
    says: str


def _cron_cases() -> list[CronCase]:
    hb = venv_heartbeat()
    installed = cron.render_block(cron.build_entry(load_settings(), "*/5 * * * *", command=[hb]))
    return [
        CronCase("", Level.WARN, None, "no heartbeat entry"),
        CronCase("MAILTO=me\n" + installed, Level.OK, Level.OK, "finds every tool"),
        CronCase(
            f"*/5 * * * * env PATH=/usr/bin:/bin {hb} check >> /tmp/x 2>&1\n",
            Level.OK,
            Level.FAIL,
            "lacks codex",
        ),
        CronCase(
            f"PATH={helpers.AGENTS}:/usr/bin:/bin\n*/10 * * * * {hb} check\n",
            Level.OK,
            Level.OK,
            "a PATH= line of the crontab",
        ),
        CronCase(
            f"*/5 * * * * env PATH={helpers.AGENTS}:/usr/bin:/bin /gone/bin/heartbeat check\n",
            Level.OK,
            Level.FAIL,
            "/gone/bin/heartbeat, which cron cannot run",
        ),
        CronCase(f"{cron.BEGIN}\n* * * * * {hb} check\n", Level.FAIL, None, "broken"),
    ]


CRON_IDS = ["none", "installed", "cron-path", "table-path", "program-gone", "broken"]


@pytest.mark.parametrize("index", range(len(CRON_IDS)), ids=CRON_IDS)
def test_the_crontab_entry_and_the_path_cron_gives(index: int, agents: pathlib.Path) -> None:
    case = _cron_cases()[index]
    result = doctor(case.table)
    assert levels(result, "crontab") == {case.crontab}, text(result, "crontab")
    if case.cron_path is None:
        assert result.by_check("cron_path") == []
    else:
        assert case.cron_path in levels(result, "cron_path"), text(result, "cron_path")
    assert case.says in text(result, "crontab") + text(result, "cron_path")


def test_cron_path_fix_names_the_missing_folder(agents: pathlib.Path) -> None:
    table = f"*/5 * * * * env PATH=/usr/bin:/bin {venv_heartbeat()} check\n"
    [finding] = doctor(table).by_check("cron_path")
    assert str(helpers.AGENTS) in finding.fix
    assert "heartbeat cron install" in finding.fix


class EntryCase(t.NamedTuple):
    line: str
    path: str | None
    program: str | None


ENTRY_CASES = [
    EntryCase("*/5 * * * * env PATH=/a:/b HOME=/h /x/heartbeat check", "/a:/b", "/x/heartbeat"),
    EntryCase("@hourly PATH=/a heartbeat check", "/a", "heartbeat"),
    EntryCase("0 * * * * env 'PATH=/a b:/c' /h\\%x check", "/a b:/c", "/h%x"),
    EntryCase("* * * * * env -i PATH=/p /bin/hb check", "/p", "/bin/hb"),
    EntryCase("* * * * * heartbeat check", None, "heartbeat"),
    EntryCase("* * * * * env 'PATH=/unbalanced check", None, None),
    EntryCase("not a cron line", None, None),
]


@pytest.mark.parametrize(
    "case", ENTRY_CASES, ids=["env", "nickname", "quoted", "env-i", "bare", "quotes", "junk"]
)
def test_parse_entry(case: EntryCase) -> None:
    assert parse_entry(case.line) == (case.path, case.program)


# ------------------------------------------------------------------ the last check


class LastCheck(t.NamedTuple):
    minutes_ago: float | None
    table: str
    level: Level
    says: str


LAST_CHECKS = [
    LastCheck(None, "", Level.WARN, "no check has run yet"),
    LastCheck(3, "", Level.OK, "last check 3 min ago"),
    LastCheck(None, "* * * * * heartbeat check\n", Level.WARN, "no check recorded yet"),
    LastCheck(0.5, "* * * * * heartbeat check\n", Level.OK, "keeps its schedule"),
    LastCheck(60, "* * * * * heartbeat check\n", Level.FAIL, "missed its schedule"),
]


@pytest.mark.parametrize(
    "case", LAST_CHECKS, ids=["never", "no-cron", "cron-never", "on-time", "late"]
)
def test_the_age_of_the_last_check(
    case: LastCheck, agents: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    now = pendulum.now()
    if case.minutes_ago is not None:
        stamp = now.timestamp() - case.minutes_ago * 60
        assert save_state(tmp_path / "state", State(last_check=stamp), stamp) is None
    [finding] = doctor(case.table, now).by_check("last_check")
    assert finding.level is case.level
    assert case.says in finding.what


# ------------------------------------------------------------------ the command line


def test_cli_lines_and_exit_status(agents: pathlib.Path, tmp_path: pathlib.Path) -> None:
    (tmp_path / "memory").rmdir()
    code, out, err = helpers.cli("doctor")
    assert code == 1, err
    lines = [line for line in out.splitlines() if line.strip()]
    findings = lines[:-1]
    assert all(line.split()[0] in {"ok", "warn", "fail"} for line in findings), out
    failing = [line for line in findings if line.startswith("fail  ")]
    assert any("notes folder" in line and "  — create it" in line for line in failing)
    assert lines[-1].endswith(" ok") and f"{len(failing)} fail" in lines[-1]


def test_cli_json_agrees_with_its_exit_status(agents: pathlib.Path) -> None:
    code, out, err = helpers.cli("doctor", "--json")
    report = json.loads(out)
    fails = [f for f in report["findings"] if f["level"] == "fail"]
    assert code == report["exit_code"] == (1 if fails else 0), err
    assert report["counts"]["fail"] == len(fails)
    assert {"check", "level", "what", "fix"} <= set(report["findings"][0])


def test_a_bad_config_does_not_stop_the_doctor(
    agents: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "config.toml").write_text("[heartbeat\n")
    code, out, _ = helpers.cli("doctor", "--json")
    report = json.loads(out)
    config = [f for f in report["findings"] if f["check"] == "config"]
    assert config[0]["level"] == "fail"
    assert str(tmp_path / "config.toml") in config[0]["what"]
    assert len(report["findings"]) > 5
    assert code == 1


# ------------------------------------------------------------------ macOS and the schedulers


class PrivacyRow(t.NamedTuple):
    test_id: str
    folder: str
    warned: str | None


PRIVACY_ROWS = [
    PrivacyRow("documents", "~/Documents/app", "~/Documents"),
    PrivacyRow("desktop-absolute", "{home}/Desktop/x/y", "~/Desktop"),
    PrivacyRow("downloads-itself", "~/Downloads", "~/Downloads"),
    PrivacyRow("icloud-drive", "~/Library/Mobile Documents/com~apple~CloudDocs/p", "~/Library"),
    PrivacyRow("external-volume", "/Volumes/Work/app", "an external volume (/Volumes/Work)"),
    PrivacyRow("code-folder", "~/code/app", None),
    PrivacyRow("documents-lookalike", "~/Documents-old/app", None),
    PrivacyRow("volumes-itself", "/Volumes", None),
]


@pytest.mark.parametrize("row", PRIVACY_ROWS, ids=[r.test_id for r in PRIVACY_ROWS])
def test_macos_privacy_folders_are_warned_about(
    row: PrivacyRow, agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    home = pathlib.Path(os.environ["HOME"])
    folder = row.folder.format(home=home)
    helpers.write_note(notes_dir, helpers.canonical("job", "codex exec 'go'", pathlib.Path(folder)))
    settings, config = load()
    on_mac = run_doctor(
        settings, pendulum.now(), table="", config_finding=config, platform="darwin"
    ).by_check("privacy")
    on_linux = run_doctor(
        settings, pendulum.now(), table="", config_finding=config, platform="linux"
    ).by_check("privacy")
    assert on_linux == []
    if row.warned is None:
        assert on_mac == []
        return
    [finding] = on_mac
    assert finding.level is Level.WARN
    assert f"session job works in {folder}, inside {row.warned}" in finding.what
    assert "Operation not permitted" in finding.what
    assert "Full Disk Access" in finding.fix
    assert os.path.realpath(sys.executable) in finding.fix
    assert "~/code" in finding.fix


def test_cron_on_a_mac_is_said_to_skip_runs_while_asleep(agents: pathlib.Path) -> None:
    table = f"*/5 * * * * {venv_heartbeat()} check\n"
    settings, config = load()
    result = run_doctor(
        settings, pendulum.now(), table=table, config_finding=config, platform="darwin"
    )
    said = text(result, "scheduler")
    assert "skips the checks while the Mac sleeps" in said
    assert "heartbeat schedule install" in said
    helpers.write_note(
        helpers.settings().notes_dir,
        helpers.canonical("job", "codex exec 'go'", pathlib.Path("/Volumes/W/a")),
    )
    result = run_doctor(
        settings, pendulum.now(), table=table, config_finding=config, platform="darwin"
    )
    [privacy] = result.by_check("privacy")
    assert "Full Disk Access to /usr/sbin/cron" in privacy.fix


def _standin_doctor(table: str = "") -> DoctorResult:
    settings, config = load()
    return run_doctor(settings, pendulum.now(), table=table, config_finding=config)


def test_a_loaded_launch_agent_is_the_scheduler(agents: pathlib.Path, standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "launchd")[0] == 0
    result = _standin_doctor()
    [found] = [f for f in result.by_check("scheduler") if f.level is Level.OK]
    assert "launchd runs the heartbeat every 5 minutes" in found.what
    assert found.what.endswith(": loaded")
    assert levels(result, "job_path") == {Level.OK}
    assert levels(result, "crontab") == {Level.OK}
    assert "no crontab entry: launchd runs the checks" in text(result, "crontab")
    assert "launchd runs it every 5 minutes" in text(result, "last_check")
    standins.set(loaded={})
    [lost] = _standin_doctor().by_check("scheduler")
    assert lost.level is Level.FAIL
    assert "but it is not loaded" in lost.what
    assert "heartbeat schedule install --via launchd" in lost.fix


def test_an_inactive_systemd_timer_fails_and_two_schedulers_are_one_too_many(
    agents: pathlib.Path, standins: Standins
) -> None:
    assert helpers.cli("schedule", "install", "--via", "systemd")[0] == 0
    table = f"*/5 * * * * env PATH={helpers.AGENTS}:/usr/bin:/bin {venv_heartbeat()} check\n"
    result = _standin_doctor(table)
    said = text(result, "scheduler")
    assert "systemd runs the heartbeat every 5 minutes" in said
    assert "the timer is active" in said
    assert "more than one scheduler runs the heartbeat (cron, systemd)" in said
    standins.set(active=[])
    [lost] = [f for f in _standin_doctor().by_check("scheduler") if f.level is Level.FAIL]
    assert "but the timer is not active" in lost.what


def test_an_automation_the_gateway_lost_fails(agents: pathlib.Path, standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "openclaw")[0] == 0
    assert levels(_standin_doctor(), "scheduler") == {Level.OK}
    standins.set(jobs=[])
    [lost] = _standin_doctor().by_check("scheduler")
    assert (lost.level, "no longer has it" in lost.what) == (Level.FAIL, True)
    standins.set(gateway=False)
    [unknown] = _standin_doctor().by_check("scheduler")
    assert unknown.level is Level.WARN
    assert "gateway not reachable" in unknown.what


def test_notifications_that_did_not_arrive_are_mentioned(
    agents: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    pending = {"pending": [{"text": "heartbeat: job died", "attempts": 1}], "sent": []}
    (state / "outbox.json").write_text(json.dumps(pending))
    [waiting] = [f for f in doctor().by_check("notify") if f.level is Level.WARN]
    assert "1 notification(s) did not arrive and wait in the outbox" in waiting.what
