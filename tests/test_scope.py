"""heartbeat.scope: a tmux server the check starts is kept out of the unit that kills it.

No systemd runs here (PID 1 is not systemd, /proc/self/cgroup says ``/``): the
cgroup files are written into tmp_path as systemd writes them, and
``systemd-run`` is the stand-in of tests/sysstandins.py, which records its
arguments and then runs the command as the real ``--scope`` does. The tmux
servers are real (the plugin's private socket).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import typing as t

import pendulum
import pytest

from heartbeat import scope
from heartbeat.doctor import Level, load, run_doctor
from heartbeat.tmux import Tmux
from tests.cronbox import (  # noqa: F401 - fixtures, registered by being imported
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)
from tests.sysstandins import Standins, standins_fixture  # noqa: F401

if t.TYPE_CHECKING:
    import libtmux

USER_SERVICE = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/heartbeat.service\n"
SYSTEM_SERVICE = "0::/system.slice/heartbeat.service\n"
GATEWAY = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/openclaw-gateway.service\n"
LOGIN = "0::/user.slice/user-1000.slice/session-4.scope\n"
HYBRID = (
    "12:pids:/user.slice/user-1000.slice/user@1000.service\n"
    "1:name=systemd:/user.slice/user-1000.slice/user@1000.service/app.slice/heartbeat.service\n"
    "0::/\n"
)


class CgroupRow(t.NamedTuple):
    test_id: str
    text: str
    service: scope.Service | None


CGROUP_ROWS = [
    CgroupRow("user-service", USER_SERVICE, scope.Service("heartbeat.service", user=True)),
    CgroupRow("system-service", SYSTEM_SERVICE, scope.Service("heartbeat.service", user=False)),
    CgroupRow("gateway", GATEWAY, scope.Service("openclaw-gateway.service", user=True)),
    CgroupRow(
        "inside-a-service",
        "0::/system.slice/docker.service/payload\n",
        scope.Service("docker.service", user=False),
    ),
    CgroupRow("v1-hybrid", HYBRID, scope.Service("heartbeat.service", user=True)),
    CgroupRow("login-session", LOGIN, None),
    CgroupRow(
        "tmux-spawn",
        "0::/user.slice/user-1000.slice/user@1000.service/tmux-spawn-1f2e.scope\n",
        None,
    ),
    CgroupRow(
        "our-scope",
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/heartbeat-tmux-ab12.scope\n",
        None,
    ),
    CgroupRow(
        "user-manager", "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", None
    ),
    CgroupRow("no-systemd", "0::/\n", None),
    CgroupRow("container", "0::/process_api/a5168b9b\n", None),
    CgroupRow("empty", "", None),
]


@pytest.mark.parametrize("row", CGROUP_ROWS, ids=[r.test_id for r in CGROUP_ROWS])
def test_the_innermost_unit_decides(row: CgroupRow, tmp_path: pathlib.Path) -> None:
    assert scope.service_of(row.text) == row.service
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "cgroup").write_text(row.text)
    expected = row.service.name if row.service else None
    assert scope.doomed_unit(4242, proc_root=tmp_path) == expected


def test_a_process_that_is_gone_is_in_no_unit(tmp_path: pathlib.Path) -> None:
    assert scope.doomed_unit(4242, proc_root=tmp_path) is None
    assert scope.doomed_unit(os.getpid()) is None  # this machine has no systemd


class DetachRow(t.NamedTuple):
    test_id: str
    cgroup: str | None
    invocation: bool
    euid: int
    expected: list[str] | None  # the options before the command; None: unchanged


DETACH_ROWS = [
    DetachRow("user-service", USER_SERVICE, False, 1000, ["--user", "--scope"]),
    DetachRow("gateway", GATEWAY, False, 1000, ["--user", "--scope"]),
    DetachRow("system-service-as-root", SYSTEM_SERVICE, False, 0, ["--scope"]),
    DetachRow("system-service-as-a-user", SYSTEM_SERVICE, True, 1000, None),
    DetachRow("terminal", LOGIN, False, 1000, None),
    DetachRow("terminal-inheriting-invocation-id", LOGIN, True, 1000, None),
    DetachRow("no-cgroup-file-invocation-id", None, True, 1000, ["--user", "--scope"]),
    DetachRow("no-cgroup-file", None, False, 1000, None),
]


@pytest.mark.parametrize("row", DETACH_ROWS, ids=[r.test_id for r in DETACH_ROWS])
def test_detach_wraps_only_inside_a_service(
    row: DetachRow, standins: Standins, tmp_path: pathlib.Path
) -> None:
    cgroup = tmp_path / "cgroup"
    if row.cgroup is not None:
        cgroup.write_text(row.cgroup)
    env = {"PATH": os.environ["PATH"], **({"INVOCATION_ID": "5e1f"} if row.invocation else {})}
    argv = ["tmux", "-S", "/s", "new-session", "-d"]
    found = scope.detach_argv(argv, env, cgroup, euid=row.euid)
    if row.expected is None:
        assert found == argv
        return
    runner = str(standins.bin / "systemd-run")
    assert found[: len(row.expected) + 1] == [runner, *row.expected]
    assert found[len(row.expected) + 1 : -len(argv)][:3] == ["--quiet", "--collect", "--unit"]
    assert found[-len(argv) - 1].startswith(scope.SCOPE_PREFIX)
    assert found[-len(argv) - 1].endswith(".scope")
    assert found[-len(argv) :] == argv


def test_each_scope_has_a_name_of_its_own(standins: Standins, tmp_path: pathlib.Path) -> None:
    """A scope whose server still runs keeps its name: a second one must not collide."""
    cgroup = tmp_path / "cgroup"
    cgroup.write_text(USER_SERVICE)
    env = {"PATH": os.environ["PATH"]}
    names = {scope.detach_argv(["tmux"], env, cgroup, euid=1000)[-2] for _ in range(20)}
    assert len(names) == 20
    named = scope.detach_argv(["tmux"], env, cgroup, unit="mine.scope", euid=1000)
    assert named[-3:] == ["--unit", "mine.scope", "tmux"]


def test_without_systemd_run_nothing_changes(tmp_path: pathlib.Path) -> None:
    cgroup = tmp_path / "cgroup"
    cgroup.write_text(USER_SERVICE)
    empty = tmp_path / "bin"
    empty.mkdir()
    assert scope.detach_argv(["tmux", "ls"], {"PATH": str(empty)}, cgroup, euid=1000) == [
        "tmux",
        "ls",
    ]


def test_the_server_a_service_starts_runs_in_its_scope(
    standins: Standins,
    socket_path: pathlib.Path,
    server: libtmux.Server,
    tmp_path: pathlib.Path,
) -> None:
    """End to end: the wrapped new-session starts the server through systemd-run, whose
    answer (status, output) is tmux's own."""
    cgroup = tmp_path / "cgroup"
    cgroup.write_text(USER_SERVICE)
    tmux = Tmux(socket_path)
    assert tmux.run("list-sessions").returncode != 0  # no server yet
    argv = ["tmux", "-S", str(socket_path), "new-session", "-d", "-s", "agent", "sleep 999999"]
    wrapped = scope.detach_argv(argv, os.environ, cgroup, unit="heartbeat-tmux-t.scope")
    result = subprocess.run(wrapped, capture_output=True, text=True, timeout=30, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert server.has_session("agent")
    options = ["--user", "--scope", "--quiet", "--collect", "--unit", "heartbeat-tmux-t.scope"]
    assert standins.calls("systemd-run") == [["systemd-run", *options, *argv]]
    assert standins.state()["scopes"] == ["heartbeat-tmux-t.scope"]
    again = subprocess.run(wrapped, capture_output=True, text=True, timeout=30, check=False)
    assert again.returncode == 1
    assert "duplicate session: agent" in again.stderr


# ------------------------------------------------------------------ the doctor's finding


class DoctorRow(t.NamedTuple):
    test_id: str
    cgroup: str
    says: list[str]  # in the finding; [] for none


DOCTOR_ROWS = [
    DoctorRow(
        "heartbeat-service",
        USER_SERVICE,
        [
            "lives in the systemd unit heartbeat.service",
            "kills the server and every agent in it",
            "systemd-run --user --scope tmux -S {socket} new -d",
            "heartbeat schedule install --via systemd",
            "KillMode=process",
        ],
    ),
    DoctorRow(
        "gateway",
        GATEWAY,
        [
            "lives in the systemd unit openclaw-gateway.service",
            "systemd-run --user --scope tmux -S {socket} new -d",
            "`KillMode=process` (`systemctl --user edit openclaw-gateway.service`)",
        ],
    ),
    DoctorRow(
        "system-service",
        SYSTEM_SERVICE,
        ["systemd-run --scope tmux -S {socket} new -d", "heartbeat schedule install"],
    ),
    DoctorRow("own-scope", LOGIN, []),
]


@pytest.mark.parametrize("row", DOCTOR_ROWS, ids=[r.test_id for r in DOCTOR_ROWS])
def test_doctor_says_when_the_server_lives_in_a_unit_that_kills_it(
    row: DoctorRow, socket_path: pathlib.Path, session: libtmux.Session, tmp_path: pathlib.Path
) -> None:
    pid = Tmux(socket_path).run("display-message", "-p", "#{pid}").stdout.strip()
    proc = tmp_path / "proc"
    (proc / pid).mkdir(parents=True)
    (proc / pid / "cgroup").write_text(row.cgroup)
    settings, config = load()
    result = run_doctor(settings, pendulum.now(), table="", config_finding=config, proc_root=proc)
    found = result.by_check("server_unit")
    if not row.says:
        assert found == []
        return
    assert [f.level for f in found] == [Level.WARN]
    line = found[0].line()
    assert f"(pid {pid})" in line
    for words in row.says:
        assert words.format(socket=socket_path) in line


def test_doctor_reads_the_real_proc_and_finds_no_unit(
    socket_path: pathlib.Path, session: libtmux.Session
) -> None:
    """Here the real /proc shows no service (no systemd runs): nothing to say."""
    settings, config = load()
    result = run_doctor(settings, pendulum.now(), table="", config_finding=config)
    assert result.by_check("server_unit") == []
    assert "answers:" in "\n".join(f.line() for f in result.by_check("socket"))
