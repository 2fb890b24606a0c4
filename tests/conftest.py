"""Shared fixtures: every test gets its own HOME, notes, state and tmux socket."""

from __future__ import annotations

import os
import pathlib
import typing as t

import pytest

if t.TYPE_CHECKING:
    import libtmux

REPO = pathlib.Path(__file__).resolve().parent.parent
AGENTS = REPO / "tests" / "standins" / "bin"


@pytest.fixture(autouse=True)
def isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, user_path: pathlib.Path
) -> None:
    """HOME is the plugin's user_path; every heartbeat folder points into tmp_path."""
    monkeypatch.setenv("HOME", str(user_path))
    monkeypatch.setenv("SHELL", "/bin/sh")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("TMUX_PANE", raising=False)
    notes = tmp_path / "memory"
    notes.mkdir(mode=0o755)
    monkeypatch.setenv("HEARTBEAT_NOTES_DIR", str(notes))
    monkeypatch.setenv("HEARTBEAT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HEARTBEAT_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("HEARTBEAT_NOTIFY", "")
    # no daily digest unless a test asks for one (it writes the note and notifies)
    monkeypatch.setenv("HEARTBEAT_DIGEST_AT", "")
    monkeypatch.setenv("HEARTBEAT_SOCKET", str(tmp_path / "no-such-socket"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("HEARTBEAT_PING_URL", raising=False)
    monkeypatch.delenv("HEARTBEAT_TZ", raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.invalid")
    os.umask(0o022)


@pytest.fixture
def notes_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "memory"


@pytest.fixture
def socket_path(server: libtmux.Server, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """The filesystem path of the plugin's private tmux server, as HEARTBEAT_SOCKET."""
    base = pathlib.Path(os.environ.get("TMUX_TMPDIR", "/tmp"))
    path = base / f"tmux-{os.geteuid()}" / str(server.socket_name)
    monkeypatch.setenv("HEARTBEAT_SOCKET", str(path))
    return path


@pytest.fixture
def agents(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, socket_path: pathlib.Path
) -> pathlib.Path:
    """Stand-in agents first on PATH (before the tmux server starts) and in path_prefix.

    Quick agents (STANDIN_DELAY), every run logged to tmp_path/runs.log, no second
    look before restarts. Returns the socket path of the plugin's private server.
    """
    from tests import helpers

    monkeypatch.setenv("PATH", f"{AGENTS}:{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_DELAY", "0.05")
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "runs.log"))
    helpers.write_config(tmp_path / "config.toml", path_prefix=str(AGENTS), second_look_seconds=0)
    return socket_path


@pytest.fixture
def notify_log(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> pathlib.Path:
    """A notifier that appends each message as one line (an argument list, not a shell)."""
    log = tmp_path / "notify.log"
    script = tmp_path / "notifier"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" >> {log}\n")
    script.chmod(0o755)
    monkeypatch.setenv("HEARTBEAT_NOTIFY", f"{script} {{message}}")
    return log
