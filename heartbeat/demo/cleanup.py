"""Stopping what the demo started: its tmux server, every process of its panes, its folder."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import subprocess
import time

from heartbeat.errors import TmuxError

#: How long stopped processes may take to exit before they are killed.
STOP_TIMEOUT = 3.0


def live_groups(groups: set[int]) -> set[int]:
    """The process groups of *groups* that still have a live (non-zombie) process."""
    try:
        listing = subprocess.run(
            ["ps", "-A", "-o", "pgid=,stat="],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    alive = set()
    for line in listing.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and not parts[1].startswith("Z"):
            alive.add(int(parts[0]))
    return groups & alive


def stop_server(socket: pathlib.Path) -> list[str]:
    """Stop the demo's tmux server and every process of its panes; warnings, never raises.

    Each pane runs in its own process group (tmux makes the pane a session
    leader), so the agents and their children are signalled as groups: HUP,
    then KILL for what is still alive after ``STOP_TIMEOUT``.
    """
    from heartbeat.tmux import Tmux

    if not os.path.lexists(socket):
        return []
    tmux = Tmux(socket, timeout=10)
    groups: set[int] = set()
    warnings: list[str] = []
    try:
        listing = tmux.run("list-panes", "-a", "-F", "#{pane_pid}")
        if listing.returncode == 0:
            groups = {int(pid) for pid in listing.stdout.split() if pid.isdigit()}
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGHUP)
        tmux.run("kill-server")
    except TmuxError as error:
        warnings.append(f"the demo's tmux server could not be stopped: {error}")
    deadline = time.monotonic() + STOP_TIMEOUT
    alive = live_groups(groups)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = live_groups(alive)
    for group in alive:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    return warnings


def remove(folder: pathlib.Path) -> list[str]:
    """Remove the demo's folder (a late write of a dying process gets a second try)."""
    for _ in range(5):
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            return []
        except OSError:
            time.sleep(0.1)
            continue
        return []
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        return [f"the demo's folder {folder} could not be removed entirely; remove it yourself"]
    return []
