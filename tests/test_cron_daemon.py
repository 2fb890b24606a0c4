"""The installed entry really runs under cron (DESIGN §7; issue 5's acceptance).

Two tests. One runs the entry's command as cron would, at once: ``env -i`` with
cron's HOME and PATH, ``/bin/sh -c``, cwd HOME, ``\\%`` unescaped as cron does.
The slow one starts Debian's ``cron`` daemon and waits for it to run the entry
and for the check to record its time. The daemon runs in a private mount
namespace (the test's spool, its own /run for the pid file, no system jobs from
/etc/crontab and /etc/cron.d), so it neither sees nor disturbs the machine's
crontabs or a cron daemon already running; without one the test is skipped.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import typing as t

import pendulum
import pytest
from libtmux.test.retry import retry_until

from heartbeat.state import load_state

# Fixtures, registered in this module by being imported.
from tests.cronbox import (  # noqa: F401
    CrontabSandbox,
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)
from tests.test_cron import entry_line, invoke

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: cron starts jobs at the top of a minute: two of them, plus start-up.
CRON_WAIT_SECONDS = 130

DAEMON_SCRIPT = """
spool=$1; cron=$2; empty_dir=$3; empty_file=$4
mount --bind "$spool" /var/spool/cron/crontabs || exit 97
mount -t tmpfs heartbeat-test-run /run || exit 97
if [ -d /etc/cron.d ]; then mount --bind "$empty_dir" /etc/cron.d || exit 97; fi
if [ -f /etc/crontab ]; then mount --bind "$empty_file" /etc/crontab || exit 97; fi
exec "$cron" -f
"""


@pytest.fixture
def cron_daemon(
    crontab_sandbox: CrontabSandbox, tmp_path: pathlib.Path
) -> Iterator[Callable[[], None]]:
    """A function that makes sure a cron daemon watches the sandbox's crontab.

    Whatever it started is stopped (by its own pid) after the test.
    """
    binary = shutil.which("cron") or shutil.which("cron", path="/usr/sbin:/sbin")
    started: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "cron-daemon.log"

    def start() -> None:
        if binary is None:
            pytest.skip("no cron daemon installed (Debian: apt-get install cron)")
        if not crontab_sandbox.private:
            pytest.skip(
                "the daemon runs the throwaway user's entry as that user, who cannot write "
                "this test's folders; it needs a private spool (root with mount namespaces)"
            )
        empty_dir = tmp_path / "empty-cron.d"
        empty_dir.mkdir()
        empty_file = tmp_path / "empty-crontab"
        empty_file.write_text("")
        argv = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c"]
        argv += [DAEMON_SCRIPT, "sh", str(crontab_sandbox.spool), binary]
        argv += [str(empty_dir), str(empty_file)]
        with log.open("wb") as out:
            started.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT))

    yield start
    for daemon in started:
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(10)


def _today_note(notes_dir: pathlib.Path) -> None:
    day = pendulum.now().format("YYYY-MM-DD")
    (notes_dir / f"{day}.md").write_text(f"# {day}\n\nNothing running yet.\n")


def _odd_state_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A state folder with a space and a %: quoting and cron's escaping, for real."""
    state = tmp_path / "state 100%"
    monkeypatch.setenv("HEARTBEAT_STATE_DIR", str(state))
    return state


def test_entry_runs_under_crons_environment(
    crontab_sandbox: CrontabSandbox,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    notes_dir: pathlib.Path,
) -> None:
    """cron's own environment, without waiting for the daemon: env -i, sh -c, cwd HOME."""
    state = _odd_state_dir(tmp_path, monkeypatch)
    _today_note(notes_dir)
    assert invoke("cron", "install").exit_code == 0
    line = entry_line(crontab_sandbox.read())
    command = line.split(None, 5)[5].replace("\\%", "%")  # what cron hands to /bin/sh
    home = tmp_path / "cron-home"
    home.mkdir()
    before = pendulum.now().timestamp()
    environment = [f"HOME={home}", "LOGNAME=root", "SHELL=/bin/sh", "PATH=/usr/bin:/bin"]
    result = subprocess.run(
        ["env", "-i", *environment, "/bin/sh", "-c", command],
        cwd=home,
        capture_output=True,
        timeout=120,
        check=False,
    )
    log = (state / "cron.log").read_text(errors="replace")
    assert result.returncode == 0, log
    assert result.stdout == result.stderr == b"", "everything goes to cron.log"
    last = load_state(state).last_check
    assert last is not None, log
    assert last >= before - 1


@pytest.mark.slow
def test_cron_daemon_runs_the_installed_entry(
    cron_daemon: Callable[[], None],
    crontab_sandbox: CrontabSandbox,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    notes_dir: pathlib.Path,
) -> None:
    state = _odd_state_dir(tmp_path, monkeypatch)
    _today_note(notes_dir)
    result = invoke("cron", "install", "--every", "1m")
    assert result.exit_code == 0, result.stderr
    before = pendulum.now().timestamp()
    cron_daemon()
    log = state / "cron.log"

    def checked() -> bool:
        return log.exists() and load_state(state).last_check is not None

    if not retry_until(checked, CRON_WAIT_SECONDS, raises=False):
        ran = log.read_text(errors="replace") if log.exists() else "(no cron.log)"
        daemon = tmp_path / "cron-daemon.log"
        said = daemon.read_text(errors="replace") if daemon.exists() else ""
        pytest.fail(f"cron did not run the entry in {CRON_WAIT_SECONDS} s: {ran}\n{said}")
    last = load_state(state).last_check
    assert last is not None
    assert last >= before - 1
    assert "Traceback" not in log.read_text(errors="replace")
    shown = invoke("cron", "show")
    assert shown.exit_code == 0, shown.stdout
    assert "keeps its schedule" in shown.stdout

    removed = invoke("cron", "remove")
    assert removed.exit_code == 0, removed.stderr
    assert crontab_sandbox.read() is None
    assert not os.environ.get("TMUX")
