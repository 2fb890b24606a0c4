"""`heartbeat demo`: a real check in seconds, and nothing left behind.

Run in-process (CliRunner) and as the installed `heartbeat` binary. Each run
gets its own temporary folder root, which must be empty again afterwards; the
user's HOME, notes, state and socket (the conftest's tmp paths) must be as
they were, and no process may still run from the demo's folder.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import typing as t

import pytest

from heartbeat.demo import DEMO_SESSIONS, DemoError, run_demo
from tests import helpers

EXPECTED = ("completed", "rate_limited", "auth_expired", "healthy", "died → restarted")

#: A hang guard, not a speed target (speed is in benchmarks/): the demo takes seconds.
HANG_GUARD = 300


class Snapshot(t.NamedTuple):
    home: list[str]
    notes: list[str]
    state: bool
    socket: bool
    environ: dict[str, str]


def snapshot(user_path: pathlib.Path) -> Snapshot:
    """What the demo must not change: HOME, the configured notes/state/socket, os.environ."""
    notes = pathlib.Path(os.environ["HEARTBEAT_NOTES_DIR"])
    return Snapshot(
        home=sorted(str(p.relative_to(user_path)) for p in user_path.rglob("*")),
        notes=sorted(p.name for p in notes.iterdir()),
        state=pathlib.Path(os.environ["HEARTBEAT_STATE_DIR"]).exists(),
        socket=os.path.lexists(os.environ["HEARTBEAT_SOCKET"]),
        environ=dict(os.environ),
    )


def demo_folder(output: str) -> pathlib.Path:
    match = re.search(r"^demo folder (\S+) ", output, re.M)
    assert match, output
    return pathlib.Path(match.group(1))


def processes_in(folder: pathlib.Path) -> list[str]:
    """Live processes whose command line names the folder (a tmux server, an agent)."""
    listing = subprocess.run(
        ["ps", "-A", "-o", "stat=,args="], capture_output=True, text=True, check=True
    )
    return [
        line
        for line in listing.stdout.splitlines()
        if str(folder) in line and not line.lstrip().startswith("Z")
    ]


def assert_left_nothing(root: pathlib.Path, folder: pathlib.Path) -> None:
    assert folder.parent == root
    assert not folder.exists()
    assert list(root.iterdir()) == []
    assert processes_in(folder) == []


def assert_shows_a_real_check(output: str) -> None:
    assert re.search(r"^SESSION\s+STATE\s+DIAGNOSIS\s+ACTION", output, re.M), output
    for word in EXPECTED:
        assert word in output
    for session in DEMO_SESSIONS:
        seen = re.search(rf"^{session.name}\s+\S+\s+(\S+)\s+(\S+)", output, re.M)
        assert seen, session.name
        assert seen.group(1) == session.expect
    assert "## Heartbeat" in output
    assert re.search(r"- \d\d:\d\d docs-preview died → restarted \(1/3\)", output)
    # codex -s workspace-write cannot commit (.git is read-only): the change waits in the tree
    assert "0 commit(s) since start; uncommitted changes: 1 file changed" in output
    assert "`codex login`" in output


@pytest.fixture
def temp_root(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A private root for tempfile, so that leftovers show (not a mock: where tempfile puts
    its folders is a setting, and this points it at an empty folder)."""
    root = tmp_path / "tmproot"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.mark.timeout(HANG_GUARD)  # it takes seconds; only a hang gets near this
def test_demo_in_process(temp_root: pathlib.Path, user_path: pathlib.Path) -> None:
    before = snapshot(user_path)
    code, out, err = helpers.cli("demo")
    assert code == 0, err
    assert err == ""
    assert_shows_a_real_check(out)
    assert "cleaned up:" in out
    assert_left_nothing(temp_root, demo_folder(out))
    assert snapshot(user_path) == before


def test_demo_as_the_installed_binary(tmp_path: pathlib.Path, user_path: pathlib.Path) -> None:
    """Cron and new users run the real entry point, with only Python and tmux around."""
    binary = pathlib.Path(sys.executable).parent / "heartbeat"
    root = tmp_path / "tmproot"
    root.mkdir()
    before = snapshot(user_path)
    result = subprocess.run(
        [str(binary), "demo"],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(root)},
        timeout=HANG_GUARD,  # it takes seconds; only a hang gets near this
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert_shows_a_real_check(result.stdout)
    assert_left_nothing(root, demo_folder(result.stdout))
    assert snapshot(user_path) == before


class Interruption(t.NamedTuple):
    at: str
    error: type[BaseException]


INTERRUPTIONS = [
    Interruption("waiting for", KeyboardInterrupt),
    Interruption("running a real check", KeyboardInterrupt),
    Interruption("  docs-preview", RuntimeError),
]


@pytest.mark.parametrize(
    "case", INTERRUPTIONS, ids=["ctrl-c-waiting", "ctrl-c-checking", "error-starting"]
)
def test_an_interrupted_demo_still_cleans_up(
    case: Interruption, temp_root: pathlib.Path, user_path: pathlib.Path
) -> None:
    before = snapshot(user_path)
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if line.startswith(case.at):
            raise case.error

    with pytest.raises(case.error):
        run_demo(say, base=temp_root)
    folder = demo_folder("\n".join(lines))
    assert_left_nothing(temp_root, folder)
    assert snapshot(user_path) == before


def test_sessions_that_never_finish_are_a_clear_error(
    temp_root: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_DELAY", "5")  # the demo sets its own, then restores this
    with pytest.raises(DemoError, match=r"did not finish within 0 s .*Run the demo again"):
        run_demo(base=temp_root, timeout=0)
    assert list(temp_root.iterdir()) == []
    assert os.environ["STANDIN_DELAY"] == "5"
