"""Keep a tmux server out of the unit that would kill it (DESIGN §4, issue 19).

Under a systemd timer the check is a oneshot *service*: every process it
leaves behind lives in the service's cgroup, and systemd kills the cgroup when
the service ends (``KillMode=control-group``, the default) — a tmux server
that a restart started, and every agent in it, with it. The same holds for
the children of any long-running service (an OpenClaw gateway) when it stops
or restarts. Two remedies, both kept:

- the installed ``heartbeat.service`` says ``KillMode=process``: at its end
  systemd stops only the check's own process and keeps the rest (the server
  then still counts in the service's cgroup, and goes with an explicit
  ``systemctl kill``);
- ``detach_argv`` wraps the tmux call that may start a server in
  ``systemd-run --scope``: the client, and the server it forks, then live in a
  transient scope unit of their own (``heartbeat-tmux-….scope``), which no
  service's end touches. A scope is stopped only when asked
  (``systemctl --user stop``) or when its manager stops (the user manager at
  logout, unless lingering).

``doomed_unit`` tells whether a process (the tmux server) lives in a service
unit that will kill it; ``heartbeat doctor`` reports it.

Linux only: elsewhere ``/proc`` cannot be read and nothing changes.
"""

from __future__ import annotations

import os
import pathlib
import re
import typing as t

from heartbeat import proc

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: Where the processes' cgroups are read (``/proc/PID/cgroup``).
PROC = pathlib.Path("/proc")
#: How the transient scope of a tmux server the check starts is named.
SCOPE_PREFIX = "heartbeat-tmux-"
_USER_MANAGER = re.compile(r"user@\d+\.service")


class Service(t.NamedTuple):
    """A systemd service unit a process lives in, and whose manager runs it."""

    name: str
    #: True when the user's manager (``user@UID.service``) runs it; False: the system's.
    user: bool


def read_cgroup(path: pathlib.Path) -> str | None:
    """The text of a ``/proc/…/cgroup`` file; None when it cannot be read (no such
    process, not Linux, hidden)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def cgroup_path(text: str) -> str | None:
    """The systemd cgroup path of a ``/proc/…/cgroup`` text.

    cgroup v2 has one line ``0::/PATH``; a v1 (legacy or hybrid) system also has
    ``N:name=systemd:/PATH``, which is systemd's own tree: it is preferred when
    the v2 line says nothing (``/``).
    """
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            found.setdefault(parts[1], parts[2].strip())
    for key in ("", "name=systemd"):
        path = found.get(key)
        if path and path != "/":
            return path
    return None


def service_of(text: str) -> Service | None:
    """The service unit of a ``/proc/…/cgroup`` text, when a service is the innermost unit.

    None when the innermost unit is a scope (a login session ``session-2.scope``,
    tmux's ``tmux-spawn-….scope``, a terminal's ``app-….scope``, our own
    ``heartbeat-tmux-….scope``), when the process is in no unit, or when its
    "service" is the user manager itself (``user@UID.service``). Sub-cgroups of
    a service (``foo.service/payload``) belong to the service.
    """
    path = cgroup_path(text)
    if path is None:
        return None
    parts = [part for part in path.split("/") if part]
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        if part.endswith(".scope"):
            return None
        if part.endswith(".service"):
            if _USER_MANAGER.fullmatch(part):
                return None
            user = any(_USER_MANAGER.fullmatch(above) for above in parts[:index])
            return Service(part, user)
    return None


def doomed_unit(pid: int, proc_root: pathlib.Path = PROC) -> str | None:
    """The service unit that kills process *pid* when it stops, else None.

    Reads ``/proc/PID/cgroup`` (*proc_root* is injected so a test can point it at
    files of its own). None also when the file cannot be read: no such process,
    or no ``/proc`` (macOS).
    """
    text = read_cgroup(proc_root / str(pid) / "cgroup")
    found = service_of(text) if text is not None else None
    return found.name if found is not None else None


def detach_argv(
    argv: Sequence[str],
    env: Mapping[str, str],
    cgroup_file: pathlib.Path = PROC / "self" / "cgroup",
    *,
    unit: str | None = None,
    euid: int | None = None,
) -> list[str]:
    """*argv* run in a transient systemd scope when this process lives in a service unit.

    Inside a service (``cgroup_file``'s innermost unit is a ``.service``; when
    the file cannot be read, ``INVOCATION_ID`` in *env* says so) and with
    ``systemd-run`` on *env*'s PATH, the answer is
    ``[SYSTEMD_RUN, --user, --scope, --quiet, --collect, --unit, UNIT, *argv]``:
    ``--user`` for a unit of the user's manager (under ``user@UID.service``),
    none for the system's. *unit* is the scope's name (default
    ``heartbeat-tmux-<12 hex>.scope``, new on each call: a scope whose server
    still runs keeps its name). ``systemd-run --scope`` runs *argv* in the
    foreground with this environment and exits with its status, so the caller
    reads the tmux client's answer as before.

    Otherwise *argv* unchanged (a copy): not in a service, no ``systemd-run``,
    or a system service that does not run as root (*euid*, default
    ``os.geteuid()``): the system manager refuses such a caller a scope, and
    the user's manager cannot take a process out of the system's tree; there
    only the unit's own ``KillMode=process`` keeps the server. Never raises;
    reads one small file.
    """
    text = read_cgroup(cgroup_file)
    uid = os.geteuid() if euid is None else euid
    if text is not None:
        service = service_of(text)
        if service is None:
            return list(argv)
        user = service.user
    elif env.get("INVOCATION_ID"):
        user = uid != 0
    else:
        return list(argv)
    if not user and uid != 0:
        return list(argv)
    runner = proc.which("systemd-run", env.get("PATH", os.defpath))
    if runner is None:
        return list(argv)
    name = unit or f"{SCOPE_PREFIX}{os.urandom(6).hex()}.scope"
    manager = ["--user"] if user else []
    return [runner, *manager, "--scope", "--quiet", "--collect", "--unit", name, *argv]
