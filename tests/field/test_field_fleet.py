"""`heartbeat fleet` in the field (DESIGN §9): hosts as they go wrong, over real OpenSSH.

Every host is a real ``sshd`` on 127.0.0.1 (tests/sshd.py); nothing else is ever addressed.
A heartbeat that crashes with a traceback, one that is not on sshd's PATH, a host key that
changes after the first connection, a listener that never sends a banner, a closed port, an
alias that does not resolve, a shared connection's master killed under its socket, two hosts
whose sessions need the user, `fleet report` across hosts, and `fleet key` installed as an
authorized_keys line. Durations are asserted only as hang guards.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import typing as t

import pytest
from libtmux.test.retry import retry_until

from heartbeat import fleet
from heartbeat.config import load_settings
from tests import helpers, sshd

if t.TYPE_CHECKING:
    from collections.abc import Iterator

CONNECT = 3
COMMAND = 30
#: A hang guard's slack over connect_timeout + command_timeout: never a speed test.
#: A hang guard: far above any fleet command's own timeouts.
pytestmark = pytest.mark.timeout(240)

FOREVER = "codex exec -s workspace-write 'scenario:work-forever keep the API green'"
AUTH = "codex exec -s workspace-write 'scenario:auth fix the login redirect'"
FULL_AUTO = "codex exec --full-auto 'Port the handlers to async'"

TRACEBACK = """#!/bin/sh
# a heartbeat whose install is broken: Python's own crash, on stderr
cat >&2 <<'EOF'
Traceback (most recent call last):
  File "/home/me/.local/bin/heartbeat", line 5, in <module>
    from heartbeat.cli import main
  File "/home/me/.local/lib/python3.12/site-packages/heartbeat/cli/__init__.py", line 9
    import pendulum
ModuleNotFoundError: No module named 'pendulum'
EOF
exit 1
"""


@pytest.fixture
def lab(tmp_path: pathlib.Path) -> Iterator[sshd.Lab]:
    why = sshd.available()
    if why is not None:
        pytest.skip(why)
    made = sshd.Lab(tmp_path / "lab", fleet.control_dir(load_settings()))
    try:
        yield made
    finally:
        made.close()


def configure(
    tmp_path: pathlib.Path, lab: sshd.Lab, hosts: list[tuple[str, str]], **values: object
) -> None:
    """The [fleet] table after whatever the test's config already holds."""
    settings = {
        "ssh_config": str(lab.ssh_config),
        "connect_timeout": CONNECT,
        "command_timeout": COMMAND,
        **values,
    }
    lines = ["[fleet]", *(f"{k} = {json.dumps(v)}" for k, v in settings.items())]
    for name, command in hosts:
        lines += ["", "[[fleet.hosts]]", f"name = {json.dumps(name)}", f"ssh = {json.dumps(name)}"]
        lines.append(f"heartbeat = {json.dumps(command)}")
    config = tmp_path / "config.toml"
    top = config.read_text() if config.exists() else ""
    config.write_text(top + "\n".join(lines) + "\n")


def fleet_json(*args: str) -> tuple[int, dict[str, t.Any]]:
    code, out, err = helpers.cli("fleet", *args, "--json")
    assert out.strip(), err
    return code, json.loads(out)


def by_host(data: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {h["name"]: h for h in data["hosts"]}


def assert_row_with_error(row: dict[str, t.Any]) -> None:
    assert isinstance(row["error"], str) and row["error"].strip(), row
    assert row["status"] is None, row
    assert set(row) >= {"name", "reachable", "error", "seconds", "last_check", "status"}


# -- hosts that answer badly ----------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_heartbeat_that_crashes_with_a_traceback_is_a_row_with_its_error(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    broken = alpha.folder / "broken-heartbeat"
    broken.write_text(TRACEBACK)
    broken.chmod(0o755)
    lab.alias("good", alpha.port)
    configure(tmp_path, lab, [("alpha", str(broken)), ("good", str(alpha.heartbeat))], local=False)

    code, data = fleet_json("status")

    assert code == 1
    hosts = by_host(data)
    assert_row_with_error(hosts["alpha"])
    assert hosts["alpha"]["reachable"] is True  # it connected; its heartbeat is broken
    assert "ModuleNotFoundError" in hosts["alpha"]["error"], hosts["alpha"]["error"]
    assert hosts["good"]["error"] is None and hosts["good"]["status"] is not None


@pytest.mark.timeout(300)
def test_a_host_without_heartbeat_on_its_path_is_a_row_with_its_error(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")  # sshd's PATH holds no `heartbeat`
    configure(tmp_path, lab, [("alpha", "heartbeat")], local=False)

    code, data = fleet_json("status")

    assert code == 1
    row = by_host(data)["alpha"]
    assert_row_with_error(row)
    assert row["reachable"] is True
    assert "heartbeat" in row["error"]
    assert alpha.process.poll() is None


# -- host keys ------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_host_key_changed_after_the_first_connection_is_refused(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    configure(tmp_path, lab, [("alpha", str(alpha.heartbeat))], local=False)
    code, first = fleet_json("status")
    assert by_host(first)["alpha"]["error"] is None, by_host(first)["alpha"]
    known = lab.known_hosts.read_text()

    # the machine is reinstalled: a new host key on the same address and port
    alpha.stop()
    assert retry_until(lambda: not lab.masters(), 30, raises=False), "master outlived its sshd"
    for part in (alpha.host_key, alpha.host_key.with_suffix(".pub")):
        part.unlink()
    sshd.keygen(alpha.host_key)
    with (alpha.folder / "sshd-2.log").open("wb") as log:
        alpha.process = subprocess.Popen(
            [sshd.SSHD, "-D", "-e", "-f", str(alpha.sshd_config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    assert retry_until(alpha._listening, 60, raises=False)

    code, data = fleet_json("status")

    row = by_host(data)["alpha"]
    assert_row_with_error(row)
    assert "key" in row["error"].lower(), row["error"]
    assert code == 1
    assert lab.known_hosts.read_text() == known  # never accepted silently


# -- hosts that cannot be reached -----------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_host_that_accepts_and_never_sends_a_banner(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    lab.silent("mute")
    configure(tmp_path, lab, [("mute", "heartbeat")], local=False)
    code, data = fleet_json("status")
    row = by_host(data)["mute"]
    assert_row_with_error(row)
    assert row["reachable"] is False
    assert code == 1


@pytest.mark.timeout(300)
def test_a_closed_port(tmp_path: pathlib.Path, lab: sshd.Lab) -> None:
    lab.closed_port("shut")
    configure(tmp_path, lab, [("shut", "heartbeat")])  # and this machine, first
    code, data = fleet_json("status")
    assert [h["name"] for h in data["hosts"]] == ["local", "shut"]
    row = by_host(data)["shut"]
    assert_row_with_error(row)
    assert row["reachable"] is False
    assert by_host(data)["local"]["error"] is None
    assert code == 1


@pytest.mark.timeout(300)
def test_an_alias_that_does_not_resolve(tmp_path: pathlib.Path, lab: sshd.Lab) -> None:
    lab.ssh_config.write_text(
        "Host ghost\n  HostName no-such-host.invalid\n  Port 22\n\n" + lab.ssh_config.read_text()
    )
    configure(tmp_path, lab, [("ghost", "heartbeat")], local=False)
    code, data = fleet_json("status")
    row = by_host(data)["ghost"]
    assert_row_with_error(row)
    assert row["reachable"] is False
    assert code == 1


@pytest.mark.timeout(300)
def test_a_control_socket_left_by_a_killed_master(tmp_path: pathlib.Path, lab: sshd.Lab) -> None:
    alpha = lab.host("alpha")
    configure(tmp_path, lab, [("alpha", str(alpha.heartbeat))], local=False)
    _, first = fleet_json("status")
    assert by_host(first)["alpha"]["error"] is None
    [master] = lab.masters()
    sockets = [p for p in fleet.control_dir(load_settings()).iterdir() if p.is_socket()]
    assert sockets, "no shared connection was made"
    os.kill(master, signal.SIGKILL)
    assert retry_until(lambda: not lab.masters(), 30, raises=False)
    assert any(p.exists() for p in sockets)  # the dead master's socket stays behind

    for _ in range(2):
        code, data = fleet_json("status")
        row = by_host(data)["alpha"]
        assert row["error"] is None, row["error"]
        assert row["status"] is not None
        assert code == 0
    assert len(lab.masters()) <= 1


# -- sessions that need the user, on two hosts ----------------------------------------------------


def log_sessions(host: sshd.Host, sessions: dict[str, str]) -> None:
    repo = helpers.git_repo(host.folder / "repo")
    helpers.write_note(
        host.notes, "".join(helpers.canonical(n, c, repo) for n, c in sessions.items())
    )
    for name, command in sessions.items():
        helpers.start(host.socket, name, command, repo)


@pytest.mark.timeout(300)
def test_two_hosts_whose_sessions_need_attention(
    agents: pathlib.Path, tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    beta = lab.host("beta", forced=True)
    log_sessions(alpha, {"login": AUTH, "steady": FOREVER})
    log_sessions(beta, {"flags": FULL_AUTO})
    helpers.wait_exited(alpha.socket, "login")
    helpers.wait_exited(beta.socket, "flags")
    helpers.wait_for_text(alpha.socket, "steady", "OpenAI Codex")
    configure(tmp_path, lab, [("alpha", str(alpha.heartbeat)), ("beta", "heartbeat")], local=False)

    code, data = fleet_json("status")

    assert code == 1
    hosts = by_host(data)
    seen = {
        name: {s["name"]: s["diagnosis"] for s in hosts[name]["status"]["sessions"]}
        for name in ("alpha", "beta")
    }
    assert seen["alpha"] == {"login": "auth_expired", "steady": "healthy"}
    assert seen["beta"] == {"flags": "misconfigured"}
    assert all(hosts[n]["error"] is None for n in ("alpha", "beta"))
    helpers.cli("fleet", "status")  # the table too, without raising
    for host in (alpha, beta):
        subprocess.run(["tmux", "-S", str(host.socket), "kill-server"], capture_output=True)


@pytest.mark.timeout(400)
def test_fleet_report_puts_what_needs_you_first_across_hosts(
    agents: pathlib.Path, tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    beta = lab.host("beta", forced=True)
    log_sessions(alpha, {"login": AUTH, "steady": FOREVER})
    log_sessions(beta, {"flags": FULL_AUTO, "calm": FOREVER})
    helpers.wait_exited(alpha.socket, "login")
    helpers.wait_exited(beta.socket, "flags")
    for host in (alpha, beta):
        ran = host.run("check", "--json")
        assert ran.returncode == 1, ran.stderr
    lab.closed_port("shut")
    configure(
        tmp_path,
        lab,
        [("alpha", str(alpha.heartbeat)), ("beta", "heartbeat"), ("shut", "heartbeat")],
        local=False,
    )

    code, data = fleet_json("report", "--since", "12h")

    assert code == 1
    hosts = by_host(data)
    assert hosts["alpha"]["error"] is None and hosts["beta"]["error"] is None
    assert hosts["shut"]["error"]
    needs = [json.dumps(item) for item in data["needs_you"]]
    assert any("alpha" in n and "login" in n for n in needs), needs
    assert any("beta" in n and "flags" in n for n in needs), needs
    assert any("shut" in n for n in needs), needs
    assert not any("steady" in n or "calm" in n for n in needs), needs
    assert data["totals"]["sessions"] == 4
    _, out, _ = helpers.cli("fleet", "report", "--since", "12h")
    lines = [line for line in out.splitlines() if line.strip()]
    first_calm = min(i for i, line in enumerate(lines) if "calm" in line or "steady" in line)
    for name in ("login", "flags"):
        assert min(i for i, line in enumerate(lines) if name in line) < first_calm, out
    for host in (alpha, beta):
        subprocess.run(["tmux", "-S", str(host.socket), "kill-server"], capture_output=True)


# -- fleet key ------------------------------------------------------------------------------------


def install_key(host: sshd.Host, lab: sshd.Lab, heartbeat: pathlib.Path) -> str:
    code, out, err = helpers.cli(
        "fleet",
        "key",
        "--key",
        str(lab.client_key.with_suffix(".pub")),
        "--heartbeat",
        str(heartbeat),
    )
    assert code == 0, err
    assert out.count("\n") == 1 and out.endswith("\n"), out
    line = out.strip()
    public = lab.client_key.with_suffix(".pub").read_text().split()
    assert line.endswith(f"{public[0]} {public[1]}") or line.endswith(" ".join(public))
    assert "restrict" in line.split(" ", 1)[0] and "command=" in line
    host.authorized.write_text(out)
    parsed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(host.authorized)], capture_output=True, text=True
    )
    assert parsed.returncode == 0, parsed.stderr  # a line OpenSSH reads
    return line


@pytest.mark.timeout(300)
def test_fleet_key_line_refuses_check_and_shell_metacharacters(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    install_key(alpha, lab, alpha.heartbeat)
    answer = lab.ssh("alpha", "heartbeat status --json")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["sessions"] == []
    marker = tmp_path / "pwned"
    for command in (
        "heartbeat check",
        "heartbeat check --json",
        f"heartbeat status --json | touch {marker}",
        f"heartbeat status --json `touch {marker}`",
        f"heartbeat status --json & touch {marker}",
        f"heartbeat status --json > {marker}",
        f'heartbeat report --json --since "$(touch {marker})"',
        f"heartbeat status --json\ntouch {marker}",
        f"heartbeat report --json --since 12h || touch {marker}",
        f"touch {marker}",
    ):
        refused = lab.ssh("alpha", command)
        assert refused.returncode != 0, (command, refused.stdout)
        assert refused.stdout == "", (command, refused.stdout)
        assert not marker.exists(), command
    # nothing ran a check there
    own = json.loads(alpha.run("status", "--json").stdout)
    assert own["last_check"] is None
    shell = lab.ssh("alpha", "id")
    assert shell.returncode != 0 and "uid=" not in shell.stdout


def test_fleet_key_line_for_a_heartbeat_path_with_a_space(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    folder = tmp_path / "my tools"
    folder.mkdir()
    spaced = folder / "heartbeat"
    shutil.copy(alpha.heartbeat, spaced)
    spaced.chmod(0o755)
    install_key(alpha, lab, spaced)
    answer = lab.ssh("alpha", "heartbeat status --json")
    assert answer.returncode == 0, (answer.stdout, answer.stderr)
    assert json.loads(answer.stdout)["sessions"] == []
    report = lab.ssh("alpha", "heartbeat report --json --since 12h")
    assert report.returncode in (0, 1), report.stderr
    assert "sessions" in json.loads(report.stdout)
