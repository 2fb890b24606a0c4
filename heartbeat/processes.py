"""Which panes still run something besides the anatomy's tail: one ``ps`` for all of them.

A pane's ``pane_current_command`` names its process group's leader. Under a
non-interactive shell (tmux runs the session's command with ``sh -c``) the
agent runs in the shell's own group, so the pane says ``sh``/``bash`` whether
the agent is still working or the shell has reached the tail. The process
tree says which.
"""

from __future__ import annotations

import collections
import os
import typing as t

from heartbeat import proc

if t.TYPE_CHECKING:
    from collections.abc import Collection

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "fish", "ash", "mksh"})
TIMEOUT = 10.0


def busy(pids: Collection[int], tail: str) -> set[int] | None:
    """The pids among *pids* with a descendant other than *tail*; None when ps fails.

    ``ps -A -o pid=,ppid=,comm=`` is the same on Linux and macOS.
    """
    if not pids:
        return set()
    env = {**os.environ, "LC_ALL": "C"}
    listing = proc.run(["ps", "-A", "-o", "pid=,ppid=,comm="], timeout=TIMEOUT, env=env)
    if not listing.ok:
        return None
    children: dict[int, list[tuple[int, str]]] = collections.defaultdict(list)
    for line in listing.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            name = os.path.basename(parts[2].strip())
            children[int(parts[1])].append((int(parts[0]), name))
    found = set()
    for pid in pids:
        stack = list(children.get(pid, ()))
        while stack:
            child, name = stack.pop()
            if name != tail:
                found.add(pid)
                break
            stack.extend(children.get(child, ()))
    return found
