"""heartbeat.proc.run, the one subprocess runner: real programs, real timeouts."""

from __future__ import annotations

import os
import pathlib
import signal
import time
import typing as t

import pytest

from heartbeat import proc
from heartbeat.words import format_duration

#: Generous: a run that is killed at 1 s must come back long before this.
HANG_GUARD = 30


def script(tmp_path: pathlib.Path, body: str, name: str = "prog") -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_output_status_and_input_come_back(tmp_path: pathlib.Path) -> None:
    prog = script(tmp_path, 'read line; echo "out:$line"; echo "err:$1" >&2; exit 3')
    result = proc.run([prog, "arg with space"], timeout=HANG_GUARD, input="hello\n")
    assert (result.returncode, result.stdout, result.stderr) == (
        3,
        "out:hello\n",
        "err:arg with space\n",
    )
    assert not result.ok
    assert result.reason() == "prog exited 3: err:arg with space"
    with pytest.raises(proc.ProcError, match="prog exited 3"):
        result.check()


def test_bytes_that_are_not_utf8_survive_with_surrogateescape(tmp_path: pathlib.Path) -> None:
    data = "caf\udce9\n"  # b"caf\xe9\n" read with surrogateescape
    result = proc.run(["cat"], timeout=HANG_GUARD, input=data, errors="surrogateescape")
    assert result.stdout.encode("utf-8", "surrogateescape") == b"caf\xe9\n"
    shown = proc.run(["cat"], timeout=HANG_GUARD, input="caf\xe9\n")
    assert shown.stdout == "caf\xe9\n", "text is UTF-8 both ways by default"


class Missing(t.NamedTuple):
    test_id: str
    argv: list[str]
    error: str
    missing: bool


@pytest.mark.parametrize(
    "row",
    [
        Missing("not-on-path", ["no-such-program-here"], "not found on PATH", True),
        Missing("no-such-file", ["/nonexistent/prog"], "not found", True),
        Missing("empty", [], "nothing to run", False),
    ],
    ids=lambda row: row.test_id,
)
def test_a_program_that_cannot_run_is_a_result_not_an_exception(row: Missing) -> None:
    result = proc.run(row.argv, timeout=HANG_GUARD)
    assert (result.returncode, result.error, result.missing) == (None, row.error, row.missing)
    assert not result.ok


def test_a_file_that_may_not_be_executed_says_so(tmp_path: pathlib.Path) -> None:
    prog = tmp_path / "prog"
    prog.write_text("#!/bin/sh\necho hi\n")
    prog.chmod(0o644)
    result = proc.run([str(prog)], timeout=HANG_GUARD)
    assert result.error == "Permission denied"
    assert result.reason() == "prog: Permission denied"


# a hang guard: a runner that waited for what the program started would wait 600 s
@pytest.mark.timeout(HANG_GUARD)
def test_a_timeout_kills_the_program_and_what_it_started(tmp_path: pathlib.Path) -> None:
    pids = tmp_path / "pids"
    prog = script(tmp_path, f"sleep 600 & echo $! > {pids}; echo started; sleep 600")
    result = proc.run([prog], timeout=1)
    assert (result.returncode, result.error) == (None, "timed out after 1 s")
    assert result.stdout == "started\n"
    child = int(pids.read_text())
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child), "the program's child outlived the timeout"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = pathlib.Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_a_daemon_holding_the_output_does_not_hang_the_caller(tmp_path: pathlib.Path) -> None:
    """A notifier that starts a gateway and exits: its output files stay open in the daemon."""
    pids = tmp_path / "pids"
    prog = script(tmp_path, f"setsid sleep 600 & echo $! > {pids}; echo done")
    # a runner that read the output to its end would wait for the daemon: its own
    # timeout (the hang guard) would end the run, and the result would not be ok
    result = proc.run([prog], timeout=HANG_GUARD)
    try:
        assert result.ok, result.error
        assert result.stdout == "done\n"
    finally:
        os.kill(int(pids.read_text()), signal.SIGKILL)


def test_only_the_tail_of_a_flood_is_kept(tmp_path: pathlib.Path) -> None:
    prog = script(tmp_path, "head -c 6000000 /dev/zero | tr '\\0' x; echo; echo last words >&2")
    result = proc.run([prog], timeout=HANG_GUARD)
    assert len(result.stdout) == proc.MAX_OUTPUT
    assert result.stdout.endswith("x\n")
    assert (result.ok, result.stderr) == (True, "last words\n")


class DurationRow(t.NamedTuple):
    seconds: float
    shown: str


@pytest.mark.parametrize(
    "row",
    [
        DurationRow(-5, "0 s"),
        DurationRow(0, "0 s"),
        DurationRow(89.9, "89 s"),
        DurationRow(90, "1 min"),
        DurationRow(5399, "89 min"),
        DurationRow(5400, "1.5 h"),
        DurationRow(47.9 * 3600, "47.9 h"),
        DurationRow(48 * 3600, "2.0 days"),
    ],
    ids=lambda row: row.shown,
)
def test_format_duration(row: DurationRow) -> None:
    assert format_duration(row.seconds) == row.shown
