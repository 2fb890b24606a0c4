"""`heartbeat schedule --via launchd`: the LaunchAgent, checked by reading the plist back.

There is no launchd here: ``launchctl`` is a stand-in on PATH that records its
arguments and answers as the real one does (tests/standins.py). HOME is the
test's own, so ``~/Library/LaunchAgents`` is a temporary folder.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import plistlib
import stat
import sys
import typing as t

import pendulum
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from heartbeat.schedule import launchd
from heartbeat.schedule.job import expand, validate_schedule
from heartbeat.state import State, save_state
from tests import helpers
from tests.cronbox import (  # noqa: F401 - fixtures, registered by being imported
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)
from tests.sysstandins import Standins, standins_fixture  # noqa: F401

HEARTBEAT = str(pathlib.Path(sys.executable).parent / "heartbeat")


def plist_file() -> pathlib.Path:
    return pathlib.Path(os.environ["HOME"]) / "Library" / "LaunchAgents" / f"{launchd.LABEL}.plist"


def read_plist() -> dict[str, t.Any]:
    data = plistlib.loads(plist_file().read_bytes())
    assert isinstance(data, dict)
    return data


def service() -> str:
    return f"gui/{os.getuid()}/{launchd.LABEL}"


def test_install_writes_a_plist_that_reads_back(standins: Standins, tmp_path: pathlib.Path) -> None:
    code, out, err = helpers.cli("schedule", "install", "--via", "launchd", "--every", "5m")
    assert code == 0, err
    assert out.startswith("installed and loaded the LaunchAgent local.heartbeat.check\n")
    assert "next runs (local time):" in out
    assert stat.S_IMODE(plist_file().stat().st_mode) == 0o644
    plist = read_plist()
    assert plist["Label"] == launchd.LABEL
    assert plist["ProgramArguments"] == [HEARTBEAT, "check", "--quiet"]
    assert plist["StartCalendarInterval"] == [{"Minute": m} for m in range(0, 60, 5)]
    assert "StartInterval" not in plist
    env = plist["EnvironmentVariables"]
    path = env["PATH"].split(":")
    assert path[:2] == ["/opt/homebrew/bin", "/usr/local/bin"]
    assert path[-2:] == ["/usr/bin", "/bin"]
    assert str(pathlib.Path(HEARTBEAT).parent) in path
    assert env["HEARTBEAT_NOTES_DIR"] == os.environ["HEARTBEAT_NOTES_DIR"]
    assert env["HEARTBEAT_NOTIFY"] == ""
    assert "HOME" not in env
    log = str(tmp_path / "state" / "launchd.log")
    assert (plist["StandardOutPath"], plist["StandardErrorPath"]) == (log, log)
    assert (tmp_path / "state").is_dir(), "launchd appends to a log in the state folder"
    assert standins.calls("launchctl") == [
        ["launchctl", "print", service()],
        ["launchctl", "bootstrap", f"gui/{os.getuid()}", str(plist_file())],
    ]


def test_installing_twice_changes_nothing(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "launchd")[0] == 0
    before = plist_file().stat()
    standins.forget_calls()
    code, out, err = helpers.cli("schedule", "install", "--via", "launchd", "--every", "5m")
    assert code == 0, err
    assert "already installed and loaded as asked; nothing changed" in out
    assert [call[1] for call in standins.calls("launchctl")] == ["print"]
    after = plist_file().stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_changed_plist_is_booted_out_and_in_again(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "launchd")[0] == 0
    standins.forget_calls()
    code, out, err = helpers.cli("schedule", "install", "--via", "launchd", "--every", "1h")
    assert code == 0, err
    assert out.startswith("replaced and reloaded the LaunchAgent")
    assert [call[1] for call in standins.calls("launchctl")] == ["print", "bootout", "bootstrap"]
    assert read_plist()["StartCalendarInterval"] == [{"Minute": 0}]
    assert list(standins.state()["loaded"]) == [service()]


def test_a_plist_that_is_not_loaded_is_loaded_again(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "launchd")[0] == 0
    standins.set(loaded={})  # a reboot before the agent was enabled, or a manual bootout
    standins.forget_calls()
    code, out, _ = helpers.cli("schedule", "install", "--via", "launchd")
    assert code == 0
    assert out.startswith("replaced and reloaded the LaunchAgent")
    assert [call[1] for call in standins.calls("launchctl")] == ["print", "bootstrap"]
    assert list(standins.state()["loaded"]) == [service()]


def test_remove_leaves_nothing_behind(standins: Standins) -> None:
    agents = plist_file().parent
    assert helpers.cli("schedule", "install", "--via", "launchd")[0] == 0
    (agents / "com.example.other.plist").write_bytes(plistlib.dumps({"Label": "x"}))
    code, out, err = helpers.cli("schedule", "remove", "--via", "launchd")
    assert code == 0, err
    assert "booted out and removed the LaunchAgent" in out
    assert ["launchctl", "bootout", service()] in standins.calls("launchctl")
    assert sorted(p.name for p in agents.iterdir()) == ["com.example.other.plist"]
    assert standins.state()["loaded"] == {}
    standins.forget_calls()
    code, out, _ = helpers.cli("schedule", "remove", "--via", "launchd")
    assert code == 0
    assert "nothing to remove" in out
    assert [call[1] for call in standins.calls("launchctl")] == ["print"]


def test_show_says_whether_launchd_has_it_and_whether_checks_keep_up(
    standins: Standins, tmp_path: pathlib.Path
) -> None:
    code, out, _ = helpers.cli("schedule", "show", "--via", "launchd")
    assert code == 1
    assert "no heartbeat LaunchAgent" in out
    assert helpers.cli("schedule", "install", "--via", "launchd", "--every", "10m")[0] == 0
    now = pendulum.now()
    save_state(tmp_path / "state", State(last_check=now.subtract(minutes=1).timestamp()), 0)
    code, out, err = helpers.cli("schedule", "show", "--via", "launchd", "--json")
    assert code == 0, err
    [shown] = json.loads(out)["schedulers"]
    assert shown["via"] == "launchd"
    assert shown["running"] is True
    assert shown["status"].startswith("loaded (state = not running")
    assert shown["schedule"] == "*/10 * * * *"
    assert len(shown["next_runs"]) == 3
    assert shown["self_watch"]["status"] == "ok"
    assert shown["files"] == [str(plist_file())]
    standins.set(loaded={})
    code, out, _ = helpers.cli("schedule", "show", "--via", "launchd")
    assert code == 1
    assert "launchd: not loaded (launchctl exited 113: Could not find service" in out


def test_without_launchctl_the_error_says_to_use_another_scheduler(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = helpers.cli("schedule", "install", "--via", "launchd")
    assert code == 2
    assert "'launchctl' is not on PATH" in err
    assert "--via cron" in err
    assert not plist_file().exists()


# ------------------------------------------------------------------ the calendar


KEY_ORDER = ("Minute", "Hour", "Day", "Month", "Weekday")


def launchd_fires(entries: list[dict[str, int]], start: datetime.datetime, days: int) -> set[str]:
    """Every minute in ``days`` from ``start`` at which launchd would start the job: an
    entry fires when every key it names matches (Weekday 7 is Sunday too)."""
    wanted = [
        tuple(None if k not in e else e[k] % 7 if k == "Weekday" else e[k] for k in KEY_ORDER)
        for e in entries
    ]
    fired = set()
    for offset in range(days * 24 * 60):
        moment = start + datetime.timedelta(minutes=offset)
        have = (moment.minute, moment.hour, moment.day, moment.month, moment.isoweekday() % 7)
        if any(
            all(w is None or w == h for w, h in zip(want, have, strict=True)) for want in wanted
        ):
            fired.add(moment.isoformat())
    return fired


def cron_fires(expression: str, start: datetime.datetime, days: int) -> set[str]:
    from croniter import croniter

    end = start + datetime.timedelta(days=days)
    runs = croniter(expression, start - datetime.timedelta(seconds=1))
    fired = set()
    while (moment := runs.get_next(datetime.datetime)) < end:
        fired.add(moment.isoformat())
    return fired


class CalendarRow(t.NamedTuple):
    test_id: str
    expression: str


CALENDAR_ROWS = [
    CalendarRow("every-7-minutes", "*/7 * * * *"),
    CalendarRow("hourly-nickname", "@hourly"),
    CalendarRow("working-hours", "*/30 9-17 * * mon-fri"),
    CalendarRow("day-or-weekday", "15 3 1,15 * sun"),
    CalendarRow("sunday-as-7", "0 12 * * 7"),
    CalendarRow("months", "0 0 * 1,7 *"),
]


@pytest.mark.parametrize("row", CALENDAR_ROWS, ids=[r.test_id for r in CALENDAR_ROWS])
def test_calendar_fires_exactly_when_cron_does(row: CalendarRow) -> None:
    """Every minute of eight days across a year's end: launchd's entries against cron's runs."""
    entries = launchd.calendar(validate_schedule(row.expression))
    start = datetime.datetime(2026, 12, 27, tzinfo=datetime.UTC)
    assert launchd_fires(entries, start, 8) == cron_fires(row.expression, start, 8)


def test_every_minute_is_an_interval_and_a_huge_calendar_is_refused() -> None:
    from heartbeat.errors import UsageError

    assert launchd.calendar("* * * * *") == []
    assert launchd.schedule_of({"StartInterval": 60}) == "* * * * *"
    with pytest.raises(UsageError, match="launchd calendar"):
        launchd.calendar("0-58 0-22 1,2 * *")


def field(low: int, high: int) -> st.SearchStrategy[str]:
    """One cron field over ``low..high``: a wildcard, a step, a list or a range."""
    value = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        st.integers(2, 9).map(lambda n: f"*/{n}"),
        st.lists(value, min_size=1, max_size=3).map(lambda v: ",".join(map(str, v))),
        st.tuples(value, value).map(lambda r: f"{min(r)}-{max(r)}"),
    )


@settings(max_examples=200, deadline=None)
@given(
    fields=st.tuples(field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 6)),
)
def test_the_schedule_read_back_from_a_plist_is_the_one_written(
    fields: tuple[str, str, str, str, str],
) -> None:
    from heartbeat.errors import UsageError

    try:
        expression = validate_schedule(" ".join(fields))
        entries = launchd.calendar(expression)
    except UsageError:
        assume(False)
        return
    plist = {"StartCalendarInterval": entries} if entries else {"StartInterval": 60}
    written = plistlib.loads(plistlib.dumps(plist))
    assert expand(launchd.schedule_of(written)) == expand(expression)
