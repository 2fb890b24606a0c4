"""`heartbeat cron`: the managed crontab block, against the real crontab binary.

Each test gets a crontab of its own (``crontab_sandbox``, tests/cronbox.py): a
private spool in a mount namespace, else the throwaway user's table; never the
crontab of the user who runs the tests.
"""

from __future__ import annotations

import datetime
import http.server
import itertools
import json
import os
import pathlib
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import typing as t

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from heartbeat.cli import app
from heartbeat.config import load_settings
from heartbeat.errors import UsageError
from heartbeat.ping import ping
from heartbeat.schedule import cron, job
from heartbeat.schedule.watch import WatchStatus, judge, self_watch
from heartbeat.state import State, save_state
from tests.cronbox import (  # noqa: F401 - fixtures, registered by being imported
    CrontabSandbox,
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

REPO = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "cron" / "heartbeat.crontab"


runner = CliRunner()


def invoke(*args: str) -> t.Any:
    return runner.invoke(app, list(args))


def managed_blocks(data: bytes | None) -> int:
    return (data or b"").count(cron.BEGIN.encode())


def entry_line(data: bytes | None) -> str:
    block = cron.find_blocks((data or b"").decode())[0]
    assert block.entry is not None
    return block.entry


# --------------------------------------------------------------------------- schedules


class EveryRow(t.NamedTuple):
    test_id: str
    every: str
    expected: str


EVERY_ROWS = [
    EveryRow("one-minute", "1m", "* * * * *"),
    EveryRow("five-minutes", "5m", "*/5 * * * *"),
    EveryRow("fifty-nine-minutes", "59m", "*/59 * * * *"),
    EveryRow("one-hour", "1h", "0 * * * *"),
    EveryRow("two-hours-upper-case", "2H", "0 */2 * * *"),
    EveryRow("twenty-three-hours", "23h", "0 */23 * * *"),
]


@pytest.mark.parametrize("row", EVERY_ROWS, ids=[r.test_id for r in EVERY_ROWS])
def test_every_maps_to_a_cron_expression(row: EveryRow) -> None:
    assert job.every_to_schedule(row.every) == row.expected
    assert job.validate_schedule(row.expected) == row.expected


class BadRow(t.NamedTuple):
    test_id: str
    flag: str
    value: str
    says: str


BAD_ROWS = [
    BadRow("zero-minutes", "--every", "0m", "1m to 59m"),
    BadRow("sixty-minutes", "--every", "60m", "1m to 59m"),
    BadRow("twenty-four-hours", "--every", "24h", "1h to 23h"),
    BadRow("seconds", "--every", "30s", "--every"),
    BadRow("no-unit", "--every", "5", "--every"),
    BadRow("four-fields", "--schedule", "* * * *", "4 fields"),
    BadRow("seconds-field", "--schedule", "0 * * * * *", "6 fields"),
    BadRow("croniter-only-L", "--schedule", "0 0 L * *", "'L'"),
    BadRow("jenkins-H", "--schedule", "H * * * *", "'H'"),
    BadRow("never-occurs", "--schedule", "0 0 31 2 *", "never occurs"),
    BadRow("out-of-range", "--schedule", "61 * * * *", "out of range"),
    BadRow("reboot", "--schedule", "@reboot", "@-words only"),
]


@pytest.mark.parametrize("row", BAD_ROWS, ids=[r.test_id for r in BAD_ROWS])
def test_a_bad_schedule_is_a_usage_error_naming_the_flag(row: BadRow) -> None:
    every = row.value if row.flag == "--every" else None
    schedule = row.value if row.flag == "--schedule" else None
    with pytest.raises(UsageError) as caught:
        job.resolve_schedule(every, schedule)
    assert str(caught.value).startswith(f"{row.flag} ")
    assert row.says in str(caught.value)


@pytest.mark.parametrize("row", BAD_ROWS, ids=[r.test_id for r in BAD_ROWS])
def test_cli_exits_2_on_a_bad_schedule_and_leaves_the_crontab(
    row: BadRow, crontab_sandbox: CrontabSandbox
) -> None:
    crontab_sandbox.write(b"# mine\n")
    result = invoke("cron", "install", row.flag, row.value)
    assert result.exit_code == 2
    assert row.flag in result.stderr
    assert result.stdout == ""
    assert crontab_sandbox.read() == b"# mine\n"


def test_every_and_schedule_together_is_a_usage_error() -> None:
    result = invoke("cron", "install", "--every", "5m", "--schedule", "* * * * *")
    assert result.exit_code == 2
    assert "either --every or --schedule" in result.stderr


def test_schedules_are_normalised_and_nicknames_kept() -> None:
    assert job.validate_schedule("  0   9 * *  mon-fri ") == "0 9 * * mon-fri"
    assert job.validate_schedule("@Hourly") == "@hourly"


def test_next_runs_are_aware_local_times_whatever_zone_now_is() -> None:
    tokyo = pendulum.datetime(2026, 11, 25, 9, 2, 30, tz="Asia/Tokyo")
    runs = job.next_runs("*/5 * * * *", tokyo)
    zone = job.local_zone()
    assert [run.timezone_name for run in runs] == [zone.name] * 3
    assert [run.in_timezone("Asia/Tokyo").format("HH:mm") for run in runs] == [
        "09:05",
        "09:10",
        "09:15",
    ]
    with pytest.raises(ValueError, match="naive"):
        job.next_runs("*/5 * * * *", datetime.datetime(2026, 11, 25, 9, 2))


# --------------------------------------------------------------------------- the entry


def test_entry_escapes_percent_and_quotes_values() -> None:
    line = cron.render_entry(
        "*/5 * * * *",
        ["/opt/my tools/heartbeat"],
        "/opt/homebrew/bin:/usr/bin:/bin",
        [("HEARTBEAT_NOTES_DIR", "/notes/100% sure"), ("HEARTBEAT_NOTIFY", "")],
        pathlib.Path("/state/50%/cron.log"),
    )
    assert line == (
        "*/5 * * * * env PATH=/opt/homebrew/bin:/usr/bin:/bin "
        "HEARTBEAT_NOTES_DIR='/notes/100\\% sure' HEARTBEAT_NOTIFY='' "
        "'/opt/my tools/heartbeat' check --quiet >> /state/50\\%/cron.log 2>&1"
    )
    assert "%" not in line.replace("\\%", "")


def test_entry_refuses_a_value_with_a_line_break() -> None:
    with pytest.raises(UsageError, match="line break"):
        cron.render_entry(
            "* * * * *", ["/bin/heartbeat"], "/bin", [("TZ", "a\nb")], pathlib.Path("/l")
        )


def test_entry_bakes_settings_paths_and_tools(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEARTBEAT_STATE_DIR", "state-here")  # relative: made absolute
    cfg = load_settings()
    line = cron.build_entry(cfg, "*/5 * * * *")
    words = shlex.split(line.replace("\\%", "%"))
    assert words[:6] == ["*/5", "*", "*", "*", "*", "env"]
    env = dict(w.split("=", 1) for w in words[6:] if "=" in w and not w.startswith("/"))
    path = env["PATH"].split(":")
    assert path[:2] == ["/opt/homebrew/bin", "/usr/local/bin"]
    assert path[-2:] == ["/usr/bin", "/bin"]
    tmux = shutil.which("tmux")
    assert tmux is not None
    assert str(pathlib.Path(tmux).parent) in path
    assert env["HEARTBEAT_STATE_DIR"] == str(tmp_path / "state-here")
    assert env["HEARTBEAT_NOTES_DIR"] == os.environ["HEARTBEAT_NOTES_DIR"]
    assert env["HEARTBEAT_NOTIFY"] == ""
    assert "HOME" not in env
    heartbeat = pathlib.Path(sys.executable).parent / "heartbeat"
    assert words[-6:] == [
        str(heartbeat),
        "check",
        "--quiet",
        ">>",
        str(tmp_path / "state-here/cron.log"),
        "2>&1",
    ]
    assert str(heartbeat.parent) in path


def test_entry_pins_the_cwd_relative_notes_default(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under cron the cwd is HOME: `./memory` would be another folder there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEARTBEAT_NOTES_DIR")
    cfg = load_settings()
    assert cfg.notes_dir == tmp_path / "memory"
    line = cron.build_entry(cfg, "*/5 * * * *")
    assert f"HEARTBEAT_NOTES_DIR={tmp_path / 'memory'}" in line


def test_template_is_the_entry_install_writes() -> None:
    """cron/heartbeat.crontab cannot drift from what `install` writes."""
    lines = [line for line in TEMPLATE.read_text().splitlines() if not line.startswith("#")]
    assert len(lines) == 1
    expected = cron.render_entry(
        "*/5 * * * *",
        ["/home/you/.local/bin/heartbeat"],
        "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin",
        [("HEARTBEAT_NOTES_DIR", "/home/you/.openclaw/workspace/memory")],
        pathlib.Path("/home/you/.local/state/heartbeat/cron.log"),
    )
    assert lines[0] == expected
    assert cron.installed_schedule(TEMPLATE.read_text()) == ("*/5 * * * *", "hand-written entry")


# --------------------------------------------------------------------------- splicing


SAFE_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300).filter(
    lambda text: "heartbeat (managed)" not in text
)


@settings(max_examples=300, deadline=None)
@given(before=SAFE_TEXT, after=SAFE_TEXT)
def test_splice_in_then_out_keeps_every_other_byte(before: str, after: str) -> None:
    block = cron.render_block("* * * * * heartbeat check")
    table = before if not before or before.endswith("\n") else before + "\n"
    installed = cron.splice(table, block)
    assert installed.count(cron.BEGIN) == 1
    assert cron.splice(installed, block) == installed
    assert cron.splice(installed, "") == table
    # A block someone kept text after: replaced and removed in place.
    middle = installed + after
    assert cron.splice(middle, "") == table + after
    other = cron.render_block("*/5 * * * * heartbeat check")
    assert cron.splice(middle, other) == table + other + after


class BrokenRow(t.NamedTuple):
    test_id: str
    table: str
    says: str


BROKEN_ROWS = [
    BrokenRow("begin-only", f"{cron.BEGIN}\n* * * * * x\n", "without its end"),
    BrokenRow("end-only", f"* * * * * x\n{cron.END}\n", "without its begin"),
    BrokenRow("two-begins", f"{cron.BEGIN}\n{cron.BEGIN}\n{cron.END}\n", "two begin"),
]


@pytest.mark.parametrize("row", BROKEN_ROWS, ids=[r.test_id for r in BROKEN_ROWS])
def test_a_broken_block_is_left_for_the_user(
    row: BrokenRow, crontab_sandbox: CrontabSandbox
) -> None:
    crontab_sandbox.write(row.table.encode())
    for command in (["install"], ["remove"]):
        result = invoke("cron", *command)
        assert result.exit_code == 2
        assert row.says in result.stderr
        assert "crontab -e" in result.stderr
    assert crontab_sandbox.read() == row.table.encode()


# --------------------------------------------------------------------------- real crontab


def test_no_crontab_is_an_empty_table(crontab_sandbox: CrontabSandbox) -> None:
    assert crontab_sandbox.read() is None
    assert cron.read_table() == cron.Table("", exists=False)
    result = invoke("cron", "show")
    assert result.exit_code == 1
    assert "no heartbeat entry in your crontab" in result.stdout
    assert "heartbeat cron install" in result.stdout


def test_install_twice_gives_one_block_and_writes_once(
    crontab_sandbox: CrontabSandbox,
) -> None:
    first = invoke("cron", "install")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("installed the heartbeat entry")
    table = crontab_sandbox.read()
    assert managed_blocks(table) == 1
    assert entry_line(table).startswith("*/5 * * * * env PATH=")
    stamp = crontab_sandbox.file.stat()
    second = invoke("cron", "install", "--every", "5m")
    assert second.exit_code == 0, second.stderr
    assert "already installed as asked; crontab unchanged" in second.stdout
    assert crontab_sandbox.read() == table
    again = crontab_sandbox.file.stat()
    assert (again.st_ino, again.st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)


class TableRow(t.NamedTuple):
    test_id: str
    table: bytes


TABLE_ROWS = [
    TableRow(
        "entries-comments-env",
        b"# m h dom mon dow command\nSHELL=/bin/bash\nMAILTO=me@example.org\n\n"
        b"0 3 * * * /usr/bin/backup --quiet  # nightly\n@reboot tmux -S ~/.tmux/sock new -d\n",
    ),
    TableRow("blank-lines-at-end", b"0 * * * * true\n\n\n"),
    TableRow("not-utf8", b"# caf\xe9 latin-1\n0 0 * * * echo \xff\n"),
    TableRow("percent", b"0 0 * * * date +\\%F >> /tmp/d.log\n"),
    TableRow("only-a-comment", b"# nothing scheduled\n"),
]


@pytest.mark.parametrize("row", TABLE_ROWS, ids=[r.test_id for r in TABLE_ROWS])
def test_install_then_remove_gives_back_the_crontab_byte_for_byte(
    row: TableRow, crontab_sandbox: CrontabSandbox
) -> None:
    crontab_sandbox.write(row.table)
    assert crontab_sandbox.read() == row.table
    assert invoke("cron", "install").exit_code == 0
    installed = crontab_sandbox.read()
    assert installed is not None
    assert installed.startswith(row.table)
    assert managed_blocks(installed) == 1
    result = invoke("cron", "remove")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("removed the heartbeat entry")
    assert crontab_sandbox.read() == row.table
    again = invoke("cron", "remove")
    assert again.exit_code == 0
    assert "nothing to remove" in again.stdout


def test_remove_works_with_a_broken_config(
    crontab_sandbox: CrontabSandbox, tmp_path: pathlib.Path
) -> None:
    """Taking the heartbeat out must not depend on the configuration being right."""
    assert invoke("cron", "install").exit_code == 0
    (tmp_path / "config.toml").write_text("this is = = not toml\n")
    assert invoke("cron", "show").exit_code == 2
    result = invoke("cron", "remove")
    assert result.exit_code == 0, result.stderr
    assert crontab_sandbox.read() is None


def test_install_flags_are_pinned_in_the_entry(
    crontab_sandbox: CrontabSandbox, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder given as a flag wins over the environment, `~` expanded, path absolute."""
    home = pathlib.Path(os.environ["HOME"])
    flags = ["--notes-dir", "~/notes", "--socket", str(tmp_path / "sock")]
    result = invoke("cron", "install", *flags)
    assert result.exit_code == 0, result.stderr
    line = entry_line(crontab_sandbox.read())
    assert f"HEARTBEAT_NOTES_DIR={home}/notes " in line
    assert f"HEARTBEAT_SOCKET={tmp_path}/sock " in line
    assert line.count("HEARTBEAT_NOTES_DIR=") == 1


def test_a_crlf_table_is_refused_not_mangled(crontab_sandbox: CrontabSandbox) -> None:
    r"""Debian's `crontab -l` lists a CR as the two characters `\r`: writing that
    listing back would change those bytes, so install and remove refuse instead."""
    stored = b'MAILTO=""\r\n# windows editor\r\n*/10 * * * * date\r\n'
    block = cron.render_block("* * * * * heartbeat check").encode()
    for command, table in (("install", stored), ("remove", stored + block)):
        crontab_sandbox.write(table)
        listed = crontab_sandbox.read()
        spool = crontab_sandbox.file.read_bytes() if crontab_sandbox.private else None
        result = invoke("cron", command)
        if listed == table:  # a crontab -l that lists CRs as they are: nothing to refuse
            assert result.exit_code == 0, result.stderr
            continue
        assert result.exit_code == 2
        assert "Windows line endings" in result.stderr
        assert "crontab -e" in result.stderr
        assert crontab_sandbox.read() == listed
        if spool is not None:
            assert crontab_sandbox.file.read_bytes() == spool


def test_remove_of_the_only_block_leaves_no_crontab(crontab_sandbox: CrontabSandbox) -> None:
    assert invoke("cron", "install").exit_code == 0
    assert invoke("cron", "remove").exit_code == 0
    assert crontab_sandbox.read() is None


def test_a_table_without_final_newline_gains_only_that_newline(
    crontab_sandbox: CrontabSandbox,
) -> None:
    """crontab(1) refuses a table without a final newline ("missing newline before
    EOF"), so one edited by hand in the spool cannot be written back as it was:
    install adds the newline before its block, and remove leaves that one byte."""
    crontab_sandbox.write_raw(b"# mine\n*/10 * * * * echo hi")
    assert crontab_sandbox.read() == b"# mine\n*/10 * * * * echo hi"
    assert invoke("cron", "install").exit_code == 0
    installed = crontab_sandbox.read()
    assert installed is not None
    assert installed.startswith(b"# mine\n*/10 * * * * echo hi\n" + cron.BEGIN.encode())
    assert invoke("cron", "remove").exit_code == 0
    assert crontab_sandbox.read() == b"# mine\n*/10 * * * * echo hi\n"


def test_another_schedule_replaces_the_block_in_place(crontab_sandbox: CrontabSandbox) -> None:
    crontab_sandbox.write(b"# before\n")
    assert invoke("cron", "install").exit_code == 0
    with_block = crontab_sandbox.read()
    assert with_block is not None
    crontab_sandbox.write(with_block + b"# after\n")
    result = invoke("cron", "install", "--schedule", "*/3 8-22 * * mon-fri")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("replaced the heartbeat entry")
    table = crontab_sandbox.read()
    assert table is not None
    assert table.startswith(b"# before\n" + cron.BEGIN.encode())
    assert table.endswith(cron.END.encode() + b"\n# after\n")
    assert managed_blocks(table) == 1
    assert entry_line(table).startswith("*/3 8-22 * * mon-fri env ")


def test_percent_in_a_path_is_escaped_in_the_crontab(
    crontab_sandbox: CrontabSandbox, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "100% state"
    monkeypatch.setenv("HEARTBEAT_STATE_DIR", str(state))
    assert invoke("cron", "install").exit_code == 0
    line = entry_line(crontab_sandbox.read())
    assert f"HEARTBEAT_STATE_DIR='{tmp_path}/100\\% state'" in line
    assert line.endswith(f">> '{tmp_path}/100\\% state/cron.log' 2>&1")
    assert "%" not in line.replace("\\%", "")
    assert state.is_dir(), "install creates the state folder cron.log goes to"


def test_install_shows_the_next_three_runs_in_local_time(
    crontab_sandbox: CrontabSandbox,
) -> None:
    before = pendulum.now()
    result = invoke("cron", "install", "--every", "10m", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["change"] == "installed"
    runs = [pendulum.parse(run) for run in data["next_runs"]]
    assert len(runs) == 3
    assert all(isinstance(run, pendulum.DateTime) for run in runs)
    starts = [t.cast("pendulum.DateTime", run) for run in runs]
    assert before < starts[0] <= before.add(minutes=10)
    assert [b - a for a, b in itertools.pairwise(starts)] == [pendulum.duration(minutes=10)] * 2
    assert all(run.minute % 10 == 0 for run in starts)
    offset = pendulum.now().in_timezone(job.local_zone()).utcoffset()
    assert {run.utcoffset() for run in starts} == {offset}

    text = invoke("cron", "show")
    lines = text.stdout.splitlines()
    shown = lines[lines.index("next runs (local time):") + 1 :][:3]
    assert [line.split()[1:3] for line in shown] == [
        [run.format("YYYY-MM-DD"), run.format("HH:mm")] for run in starts
    ]


class WatchRow(t.NamedTuple):
    test_id: str
    minutes_ago: int | None
    status: WatchStatus
    exit_code: int
    says: str


WATCH_ROWS = [
    WatchRow("never-checked", None, WatchStatus.NEVER, 0, "no check recorded yet"),
    WatchRow("checked-just-now", 1, WatchStatus.OK, 0, "keeps its schedule"),
    WatchRow("late-by-hours", 180, WatchStatus.LATE, 1, "missed its schedule"),
]


@pytest.mark.parametrize("row", WATCH_ROWS, ids=[r.test_id for r in WATCH_ROWS])
def test_show_says_whether_the_heartbeat_kept_its_schedule(
    row: WatchRow, crontab_sandbox: CrontabSandbox, tmp_path: pathlib.Path
) -> None:
    assert invoke("cron", "install", "--every", "5m").exit_code == 0
    now = pendulum.now()
    if row.minutes_ago is not None:
        state = State(last_check=now.subtract(minutes=row.minutes_ago).timestamp())
        assert save_state(tmp_path / "state", state, now.timestamp()) is None
    result = invoke("cron", "show")
    assert result.exit_code == row.exit_code, result.stderr
    assert cron.BEGIN in result.stdout
    assert row.says in result.stdout
    data = json.loads(invoke("cron", "show", "--json").stdout)
    assert data["self_watch"]["status"] == row.status


def test_show_recognises_a_hand_written_entry(crontab_sandbox: CrontabSandbox) -> None:
    crontab_sandbox.write(TEMPLATE.read_bytes())
    result = invoke("cron", "show")
    assert result.exit_code == 0, result.stderr
    assert "hand-written crontab entry runs `heartbeat check` (*/5 * * * *)" in result.stdout
    assert "next runs (local time):" in result.stdout


def test_crontab_missing_from_path_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = invoke("cron", "install")
    assert result.exit_code == 2
    assert "'crontab' is not on PATH; install cron" in result.stderr
    watch = self_watch(load_settings(), pendulum.now())
    assert watch.status is WatchStatus.UNKNOWN
    assert "install cron" in watch.message


def test_installed_heartbeat_binary_shows_the_entry(crontab_sandbox: CrontabSandbox) -> None:
    """cron runs the real console script: drive it as a subprocess once."""
    assert invoke("cron", "install", "--every", "15m").exit_code == 0
    binary = pathlib.Path(sys.executable).parent / "heartbeat"
    result = subprocess.run(
        [str(binary), "cron", "show"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "*/15 * * * * env PATH=" in result.stdout
    assert f"{binary} check --quiet >>" in result.stdout
    assert result.stdout.count(":") > 3
    assert "next runs (local time):" in result.stdout


# --------------------------------------------------------------------------- self-watch


class JudgeRow(t.NamedTuple):
    test_id: str
    schedule: str | None
    last: str | None
    now: str
    status: WatchStatus
    due: str | None
    missed: int


JUDGE_ROWS = [
    JudgeRow("on-time", "*/5 * * * *", "10:00:02", "10:03", WatchStatus.OK, "10:05", 0),
    JudgeRow("due-within-grace", "*/5 * * * *", "10:00:02", "10:09", WatchStatus.OK, "10:10", 0),
    JudgeRow("grace-edge", "*/5 * * * *", "10:00:02", "10:10", WatchStatus.OK, "10:15", 0),
    JudgeRow("just-late", "*/5 * * * *", "10:00:02", "10:10:01", WatchStatus.LATE, "10:05", 1),
    JudgeRow("three-missed", "*/5 * * * *", "10:00:02", "10:21", WatchStatus.LATE, "10:05", 3),
    JudgeRow("hourly-ok", "0 * * * *", "10:00:05", "10:50", WatchStatus.OK, "11:00", 0),
    JudgeRow("hourly-late", "0 * * * *", "09:00:05", "11:06", WatchStatus.LATE, "10:00", 2),
    JudgeRow("never", "*/5 * * * *", None, "10:03", WatchStatus.NEVER, "10:05", 0),
    JudgeRow("not-installed", None, "10:00", "10:03", WatchStatus.NOT_INSTALLED, None, 0),
]


@pytest.mark.parametrize("row", JUDGE_ROWS, ids=[r.test_id for r in JUDGE_ROWS])
def test_judge_compares_the_last_check_with_the_slot_after_it(row: JudgeRow) -> None:
    zone = job.local_zone()

    def at(clock: str) -> pendulum.DateTime:
        parsed = datetime.time.fromisoformat(clock)
        return pendulum.datetime(2026, 11, 25, parsed.hour, parsed.minute, parsed.second, tz=zone)

    last = None if row.last is None else at(row.last).timestamp()
    watch = judge(row.schedule, last, at(row.now), grace_minutes=5)
    assert watch.status is row.status, watch.message
    assert watch.late is (row.status is WatchStatus.LATE)
    assert watch.missed == row.missed
    if row.due is None:
        assert watch.due is None
    else:
        assert watch.due == at(row.due)
    if watch.late:
        assert f"{row.missed} run" in watch.message
        assert "cron daemon running" in watch.message
    json.dumps(watch.to_json())


def test_self_watch_reads_the_crontab_and_the_state(
    crontab_sandbox: CrontabSandbox, tmp_path: pathlib.Path
) -> None:
    cfg = load_settings()
    now = pendulum.now()
    assert self_watch(cfg, now).status is WatchStatus.NOT_INSTALLED
    assert invoke("cron", "install", "--every", "1m").exit_code == 0
    save_state(cfg.state_dir, State(last_check=now.subtract(hours=1).timestamp()), 0)
    watch = self_watch(cfg, now)
    assert watch.status is WatchStatus.LATE
    assert watch.missed >= 50
    assert str(cfg.state_dir / "cron.log") in watch.message
    fresh = self_watch(cfg, now, state=State(last_check=now.timestamp()))
    assert fresh.status is WatchStatus.OK


# --------------------------------------------------------------------------- ping


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers GET with the status in the path (``/status/500``) and records requests."""

    seen: t.ClassVar[list[tuple[str, str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("User-Agent", "")))
        status = int(self.path.rsplit("/", 1)[-1]) if "/status/" in self.path else 200
        body = b"OK"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    Recorder.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_ping_gets_the_url(http_server: str) -> None:
    assert ping(f"{http_server}/ping/5f6a-uuid?rid=1") is None
    assert len(Recorder.seen) == 1
    method, path, agent = Recorder.seen[0]
    assert (method, path) == ("GET", "/ping/5f6a-uuid?rid=1")
    assert agent.startswith("heartbeat/")


def test_ping_reports_an_http_error_without_the_secret_path(http_server: str) -> None:
    message = ping(f"{http_server}/5f6a-uuid/status/500")
    assert message is not None
    assert "HTTP 500" in message
    assert "5f6a-uuid" not in message
    assert http_server.removeprefix("http://") in message


def test_ping_to_a_closed_port_returns_an_error(unused_port: int) -> None:
    message = ping(f"http://127.0.0.1:{unused_port}/ping", timeout=2)
    assert message is not None
    assert "failed" in message
    assert "refused" in message.lower()


# a hang guard: without its timeout the ping would wait for an answer forever
@pytest.mark.timeout(60)
def test_ping_that_gets_no_answer_times_out() -> None:
    """A listener that never accepts: the connection is queued, the answer never comes."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        message = ping(f"http://127.0.0.1:{port}/", timeout=0.5)
    assert message is not None
    assert "timed out" in message


class PingRow(t.NamedTuple):
    test_id: str
    url: str
    says: str


PING_ROWS = [
    PingRow("file-scheme", "file:///etc/passwd", "http or https"),
    PingRow("no-scheme", "hc-ping.com/uuid", "http or https"),
    PingRow("bad-port", "http://127.0.0.1:99999/", "failed"),
    PingRow("bad-ipv6", "http://[::1/", "not a URL"),
]


@pytest.mark.parametrize("row", PING_ROWS, ids=[r.test_id for r in PING_ROWS])
def test_ping_never_raises_on_a_bad_url(row: PingRow) -> None:
    message = ping(row.url, timeout=1)
    assert message is not None
    assert row.says in message


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_one_value_range_means_that_value_as_cron_reads_it() -> None:
    """croniter reads `1-1` as every value of the field; cron as 1: the expression is
    normalised to what cron means before anything else reads it."""
    expression = job.validate_schedule("0 9 1-1 * mon-mon")
    assert expression == "0 9 1 * mon"
    runs = job.next_runs(expression, pendulum.datetime(2026, 11, 25, tz="UTC"), 3)
    assert {(run.day == 1 or run.day_of_week == pendulum.MONDAY) for run in runs} == {True}
