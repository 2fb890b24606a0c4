"""`heartbeat schedule --via systemd`: the user timer and its service, read back.

No user manager runs here: ``systemctl`` is a stand-in on PATH that records its
arguments, keeps what is loaded, enabled and active, and answers as systemctl
does (tests/standins.py). The unit files are parsed back, checked with the
real ``systemd-analyze verify`` where it is installed, and their ``OnCalendar=``
is compared with cron's runs through ``systemd-analyze calendar``.
"""

from __future__ import annotations

import configparser
import datetime
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import typing as t

import pytest

from heartbeat import schedule
from heartbeat.schedule import systemd
from heartbeat.schedule.job import validate_schedule
from tests import helpers
from tests.cronbox import (  # noqa: F401 - fixtures, registered by being imported
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)
from tests.sysstandins import Standins, standins_fixture  # noqa: F401

HEARTBEAT = str(pathlib.Path(sys.executable).parent / "heartbeat")


def units() -> pathlib.Path:
    return pathlib.Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user"


def parse(path: pathlib.Path) -> configparser.ConfigParser:
    """A unit file as an INI file (systemd's own syntax is a superset)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def unquote(value: str) -> list[str]:
    """Words of a unit-file value: double quotes and backslashes as systemd reads them,
    ``%%`` as one ``%`` (systemd's specifier escape), ``$$`` as one ``$``."""
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(value)]


def test_install_writes_a_service_and_a_timer_that_name_this_heartbeat(
    standins: Standins, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state 100%"
    monkeypatch.setenv("HEARTBEAT_STATE_DIR", str(state))
    code, out, err = helpers.cli("schedule", "install", "--via", "systemd", "--every", "5m")
    assert code == 0, err
    assert out.startswith("installed and started the systemd timer heartbeat.timer\n")
    service = parse(units() / "heartbeat.service")
    assert service["Service"]["Type"] == "oneshot"
    # the end of the oneshot stops only the check: a tmux server it started lives on
    assert service["Service"]["KillMode"] == "process"
    assert unquote(service["Service"]["ExecStart"]) == [HEARTBEAT, "check", "--quiet"]
    env = dict(word.split("=", 1) for word in unquote(service["Service"]["Environment"]))
    assert env["PATH"].split(":")[:2] == ["/opt/homebrew/bin", "/usr/local/bin"]
    assert env["PATH"].endswith(":/usr/bin:/bin")
    assert env["HEARTBEAT_STATE_DIR"] == str(state)
    assert env["HEARTBEAT_NOTIFY"] == ""
    log = f"append:{state}/systemd.log"
    assert service["Service"]["StandardOutput"].replace("%%", "%") == log
    assert service["Service"]["StandardError"].replace("%%", "%") == log
    timer = parse(units() / "heartbeat.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* *:00/5:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert [call[2:] for call in standins.calls("systemctl")] == [
        ["is-active", "heartbeat.timer"],
        ["daemon-reload"],
        ["enable", "--now", "heartbeat.timer"],
    ]
    assert standins.state()["active"] == ["heartbeat.timer"]
    assert state.is_dir()


def test_installing_twice_changes_nothing(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "systemd")[0] == 0
    stamps = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(units().glob("heartbeat*"))]
    standins.forget_calls()
    code, out, err = helpers.cli("schedule", "install", "--via", "systemd", "--every", "5m")
    assert code == 0, err
    assert "already installed and active as asked; nothing changed" in out
    assert [call[2:] for call in standins.calls("systemctl")] == [["is-active", "heartbeat.timer"]]
    again = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(units().glob("heartbeat*"))]
    assert again == stamps


def test_a_changed_schedule_reloads_and_restarts_the_timer(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "systemd")[0] == 0
    standins.forget_calls()
    code, out, err = helpers.cli(
        "schedule", "install", "--via", "systemd", "--schedule", "*/3 8-22 * * mon-fri"
    )
    assert code == 0, err
    assert out.startswith("replaced and restarted the systemd timer")
    verbs = [call[2] for call in standins.calls("systemctl")]
    assert verbs == ["is-active", "daemon-reload", "enable", "restart"]
    timer = parse(units() / "heartbeat.timer")
    assert timer["Timer"]["OnCalendar"] == (
        "Mon,Tue,Wed,Thu,Fri *-*-* 08,09,10,11,12,13,14,15,16,17,18,19,20,21,22:00/3:00"
    )


def test_remove_leaves_nothing_behind(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "systemd")[0] == 0
    (units() / "other.service").write_text("[Service]\nExecStart=/bin/true\n")
    code, out, err = helpers.cli("schedule", "remove", "--via", "systemd")
    assert code == 0, err
    assert "stopped, disabled and removed the systemd timer" in out
    left = sorted(str(p.relative_to(units())) for p in units().rglob("*") if not p.is_dir())
    assert left == ["other.service"]
    assert standins.state()["active"] == []
    assert [call[2] for call in standins.calls("systemctl")][-2:] == ["disable", "daemon-reload"]
    standins.forget_calls()
    code, out, _ = helpers.cli("schedule", "remove", "--via", "systemd")
    assert (code, "nothing to remove" in out) == (0, True)
    assert standins.calls("systemctl") == []


def test_show_says_whether_the_timer_is_active(standins: Standins) -> None:
    code, out, _ = helpers.cli("schedule", "show", "--via", "systemd")
    assert code == 1
    assert "no heartbeat systemd timer" in out
    assert helpers.cli("schedule", "install", "--via", "systemd", "--every", "15m")[0] == 0
    code, out, err = helpers.cli("schedule", "show", "--via", "systemd")
    assert code == 0, err
    assert "systemd: active (ActiveState = active" in out
    assert "Result = success" in out
    assert "next runs (local time):" in out
    assert "no check recorded yet; the systemd timer runs it every 15 minutes" in out
    standins.set(active=[])
    code, out, _ = helpers.cli("schedule", "show", "--via", "systemd")
    assert code == 1
    assert "systemd: not active" in out


def test_a_failing_manager_is_a_clear_error(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "systemd")[0] == 0
    standins.set(manager=False)
    code, _, err = helpers.cli("schedule", "install", "--via", "systemd", "--every", "2m")
    assert code == 2
    assert "`systemctl --user daemon-reload` failed: systemctl exited 1: Failed to connect" in err
    assert "loginctl enable-linger" in err


# ------------------------------------------------------------------ the real systemd tools


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    return found


class UnitRow(t.NamedTuple):
    test_id: str
    state_dir: str
    schedule: str


UNIT_ROWS = [
    UnitRow("plain", "state", "*/5 * * * *"),
    UnitRow("space-and-percent", "state 100% $HOME", "0 */2 * * *"),
    UnitRow("day-or-weekday", "state", "15 3 1,15 * sun"),
]


@pytest.mark.parametrize("row", UNIT_ROWS, ids=[r.test_id for r in UNIT_ROWS])
def test_systemd_analyze_verify_accepts_the_units(
    row: UnitRow, standins: Standins, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real verifier: syntax, the absolute ExecStart that exists, the log path."""
    analyze = _systemd_analyze()
    monkeypatch.setenv("HEARTBEAT_STATE_DIR", str(tmp_path / row.state_dir))
    code, _, err = helpers.cli(
        "schedule", "install", "--via", "systemd", "--schedule", row.schedule
    )
    assert code == 0, err
    result = subprocess.run(
        [analyze, "verify", "heartbeat.service", "heartbeat.timer"],
        cwd=units(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ours = [line for line in result.stderr.splitlines() if "heartbeat." in line]
    assert (result.returncode, ours) == (0, []), result.stderr


_ELAPSE = re.compile(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


@pytest.mark.parametrize(
    "expression",
    ["*/7 * * * *", "0 */2 * * *", "*/30 9-17 * * mon-fri", "15 3 1,15 * sun", "0 0 1 1,7 *"],
)
def test_on_calendar_runs_when_cron_does(expression: str) -> None:
    """systemd's own calendar arithmetic against croniter, for the next runs of each line."""
    from croniter import croniter

    analyze = _systemd_analyze()
    lines = systemd.on_calendar(validate_schedule(expression))
    result = subprocess.run(
        [analyze, "calendar", "--iterations=6", *lines],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "TZ": "UTC"},
    )
    assert result.returncode == 0, result.stderr
    found = sorted(
        datetime.datetime.fromisoformat(f"{stamp}+00:00")
        for stamp in _ELAPSE.findall(result.stdout)
    )
    assert len(found) == 6 * len(lines)
    runs = croniter(expression, found[0] - datetime.timedelta(seconds=1))
    expected = [runs.get_next(datetime.datetime) for _ in range(6)]
    assert found[:6] == expected


# ------------------------------------------------------------------ the native choice


class NativeRow(t.NamedTuple):
    test_id: str
    platform: str
    manager: bool
    via: str


NATIVE_ROWS = [
    NativeRow("macos", "darwin", True, "launchd"),
    NativeRow("linux-user-manager", "linux", True, "systemd"),
    NativeRow("linux-no-manager", "linux", False, "cron"),
]


@pytest.mark.parametrize("row", NATIVE_ROWS, ids=[r.test_id for r in NATIVE_ROWS])
def test_the_native_scheduler_is_chosen_and_said(row: NativeRow, standins: Standins) -> None:
    standins.set(manager=row.manager)
    choice = schedule.native(row.platform)
    assert choice.via == row.via
    assert choice.why
    asked = [call[1:] for call in standins.calls("systemctl")]
    assert asked == ([] if row.platform == "darwin" else [["--user", "show-environment"]])


def test_install_without_via_uses_the_user_manager_and_says_so(standins: Standins) -> None:
    code, out, err = helpers.cli("schedule", "install")
    assert code == 0, err
    assert out.startswith("using systemd: a systemd user manager runs here\n")
    assert (units() / "heartbeat.timer").exists()
    code, out, _ = helpers.cli("schedule", "show")
    assert "the systemd timer and its service:" in out
    code, out, _ = helpers.cli("schedule", "remove")
    assert code == 0
    assert not (units() / "heartbeat.timer").exists()


class UsageRow(t.NamedTuple):
    test_id: str
    args: list[str]
    says: str


USAGE_ROWS = [
    UsageRow("unknown-via", ["install", "--via", "anacron"], "--via 'anacron' is not a scheduler"),
    UsageRow("show-unknown-via", ["show", "--via", "at"], "choose one of launchd, systemd"),
    UsageRow("both", ["install", "--every", "5m", "--schedule", "* * * * *"], "either --every"),
    UsageRow("bad-every", ["install", "--via", "systemd", "--every", "90m"], "1m to 59m"),
]


@pytest.mark.parametrize("row", USAGE_ROWS, ids=[r.test_id for r in USAGE_ROWS])
def test_usage_errors_exit_2_and_install_nothing(row: UsageRow, standins: Standins) -> None:
    code, out, err = helpers.cli("schedule", *row.args)
    assert (code, out) == (2, "")
    assert row.says in err
    assert standins.calls() == []
    assert not units().exists()
