"""`heartbeat fleet`: several machines, one view, over real OpenSSH (DESIGN §9, issue 22).

The simulated hosts are real ``sshd`` servers on 127.0.0.1 (tests/sshd.py), each
with its own heartbeat: notes, state, config and tmux socket. The client side
has its own key, known_hosts and ssh config (``[fleet] ssh_config``). No ssh is
mocked. Durations are never asserted: a fleet command that hangs — the bound
DESIGN §9 states is its timeouts plus a few seconds — trips the module's
generous hang guard (``pytest.mark.timeout``); benchmarks/bench_fleet.py
measures how long it takes.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import time
import typing as t

import pytest

from heartbeat import fleet
from heartbeat.config import FleetHost, FleetSettings, load_settings
from heartbeat.errors import ConfigError, UsageError
from tests import helpers, sshd

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Seconds ssh may take to connect in these tests.
CONNECT = 3
#: Seconds a host's heartbeat may take once connected (a real status on a busy 2-core box).
COMMAND = 30
#: The hang guard's slack over a command's own timeouts (a busy machine, never a hang).

WORK = "codex exec -s workspace-write 'scenario:work-forever go'"
#: A hang guard: far above any fleet command's own timeouts (CONNECT + 2 x COMMAND).
pytestmark = pytest.mark.timeout(240)


def fleet_toml(lab: sshd.Lab, hosts: list[tuple[str, str]], **fleet_values: object) -> str:
    """A config's [fleet] table: the lab's ssh config, short timeouts, *hosts* as (name, cmd)."""
    values = {
        "ssh_config": str(lab.ssh_config),
        "connect_timeout": CONNECT,
        "command_timeout": COMMAND,
        **fleet_values,
    }
    lines = ["[fleet]"]
    for key, value in values.items():
        lines.append(f"{key} = {json.dumps(value)}")
    for name, command in hosts:
        lines += ["", "[[fleet.hosts]]", f'name = "{name}"', f'ssh = "{name}"']
        lines.append(f"heartbeat = {json.dumps(command)}")
    return "\n".join(lines) + "\n"


def configure(
    tmp_path: pathlib.Path, lab: sshd.Lab, hosts: list[tuple[str, str]], **kw: object
) -> None:
    """Append the [fleet] table to the test's config (the agents fixture wrote its top)."""
    config = tmp_path / "config.toml"
    top = config.read_text() if config.exists() else ""
    config.write_text(top + fleet_toml(lab, hosts, **kw))


@pytest.fixture
def lab(tmp_path: pathlib.Path) -> Iterator[sshd.Lab]:
    why = sshd.available()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    control = fleet.control_dir(load_settings())
    made = sshd.Lab(tmp_path / "lab", control)
    try:
        yield made
    finally:
        made.close()
        assert not made.masters(), "a shared connection's master outlived the test"


def start_sessions(host: sshd.Host) -> None:
    """`job` runs (healthy) and `gone` is logged but not running (died), on the host's socket.

    Needs the stand-in agents on PATH and in path_prefix (the ``agents`` fixture).
    """
    repo = helpers.git_repo(host.folder / "repo")
    body = helpers.canonical("job", WORK, repo) + helpers.canonical("gone", WORK, repo)
    helpers.write_note(host.notes, body)
    helpers.start(host.socket, "job", WORK, repo)
    helpers.wait_for_text(host.socket, "job", "exec", seconds=30)


def own_diagnoses(host: sshd.Host) -> dict[str, str]:
    """What the host's own `heartbeat status --json` says of each session."""
    answer = host.run("status", "--json")
    assert answer.stdout.strip(), answer.stderr
    return {s["name"]: s["diagnosis"] for s in json.loads(answer.stdout)["sessions"]}


def fleet_json(*args: str) -> tuple[int, dict[str, t.Any], float]:
    started = time.monotonic()
    code, out, err = helpers.cli("fleet", *args, "--json")
    assert out.strip(), err
    return code, json.loads(out), time.monotonic() - started


def by_host(data: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {h["name"]: h for h in data["hosts"]}


# -- acceptance: two hosts over real sshd, this machine, a closed port, a silent listener ------


@pytest.mark.timeout(300)
def test_fleet_status_lists_every_host_and_their_own_diagnoses(
    agents: pathlib.Path, tmp_path: pathlib.Path, notes_dir: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    beta = lab.host("beta", forced=True)  # reached through the fleet key's forced command
    for host in (alpha, beta):
        start_sessions(host)
    beta.run("check", "--no-restart", "--json")  # beta's own scheduled check ran once
    helpers.write_note(notes_dir, helpers.canonical("here", WORK, helpers.work_dir(notes_dir)))
    lab.closed_port("closed")
    lab.silent("silent")
    configure(
        tmp_path,
        lab,
        [
            ("alpha", str(alpha.heartbeat)),
            ("beta", "heartbeat"),  # the forced command decides what runs there
            ("closed", "heartbeat"),
            ("silent", "heartbeat"),
        ],
    )

    code, data, _seconds = fleet_json("status")

    assert code == 1
    assert [h["name"] for h in data["hosts"]] == ["local", "alpha", "beta", "closed", "silent"]
    hosts = by_host(data)
    for host in (alpha, beta):
        row = hosts[host.name]
        assert (row["reachable"], row["error"]) == (True, None), row["error"]
        seen = {s["name"]: s["diagnosis"] for s in row["status"]["sessions"]}
        assert seen == own_diagnoses(host)
        assert seen["job"] == "healthy"
        assert seen["gone"] == "died"
    assert hosts["alpha"]["last_check"] is None  # alpha's heartbeat never ran a check
    assert hosts["beta"]["last_check"] == hosts["beta"]["status"]["last_check"]
    assert hosts["beta"]["last_check"] is not None
    local = hosts["local"]
    assert local["error"] is None
    assert [s["name"] for s in local["status"]["sessions"]] == ["here"]
    assert hosts["closed"]["reachable"] is False
    assert "connection refused" in hosts["closed"]["error"]
    assert hosts["closed"]["status"] is None
    assert hosts["silent"]["reachable"] is False
    assert "no answer" in hosts["silent"]["error"]
    for row in data["hosts"]:
        assert set(row) >= {"name", "reachable", "error", "seconds", "last_check", "status"}

    # a second call goes through the shared connections the first one left
    code, again, _ = fleet_json("status")
    assert by_host(again)["alpha"]["shared"] is True
    assert by_host(again)["beta"]["shared"] is True

    # the table: a row per session of every host, the errors under it
    code, out, _ = helpers.cli("fleet", "status")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == [
        "HOST",
        "SESSION",
        "DIAGNOSIS",
        "ACTION",
        "LAST",
        "CHECK",
        "SCHEDULE",
    ]
    assert any(line.split()[:3] == ["alpha", "job", "healthy"] for line in lines)
    assert any(line.split()[:3] == ["beta", "gone", "died"] for line in lines)
    assert any(line.startswith("closed: unreachable: connection refused") for line in lines)


@pytest.mark.timeout(300)
def test_a_killed_or_wedged_shared_master_does_not_make_the_next_call_hang(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    configure(tmp_path, lab, [("alpha", str(alpha.heartbeat))], local=False)
    _, first, _ = fleet_json("status")
    assert by_host(first)["alpha"]["error"] is None
    [master] = lab.masters()

    os.kill(master, signal.SIGKILL)  # its socket stays behind, refusing
    _, data, _seconds = fleet_json("status")
    assert (by_host(data)["alpha"]["error"], by_host(data)["alpha"]["shared"]) == (None, False)

    [master] = lab.masters()
    os.kill(master, signal.SIGSTOP)  # alive, accepting, never answering
    try:
        _, data, _seconds = fleet_json("status")
        # hang guard: the stopped master is given MASTER_CHECK_TIMEOUT, then passed by
        assert by_host(data)["alpha"]["error"] is None
        assert by_host(data)["alpha"]["shared"] is False
    finally:
        sshd.kill([master])


@pytest.mark.timeout(300)
def test_each_way_a_host_can_fail_is_a_row_with_its_error(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    lab.alias("unknown", alpha.port, HostKeyAlias="never-seen")
    lab.alias("changed", alpha.port, HostKeyAlias="changed-key")
    impostor = sshd.keygen(tmp_path / "impostor").with_suffix(".pub").read_text().split()
    with lab.known_hosts.open("a") as known:
        known.write(f"changed-key {impostor[0]} {impostor[1]}\n")
    lab.alias("bare", alpha.port)
    lab.alias("garbage", alpha.port)
    lab.alias("stuck", alpha.port)
    configure(
        tmp_path,
        lab,
        [
            ("unknown", str(alpha.heartbeat)),
            ("changed", str(alpha.heartbeat)),
            ("bare", "/nonexistent/heartbeat"),
            ("garbage", "echo garbage"),
            ("stuck", "sleep 120; true"),
        ],
        local=False,
        command_timeout=5,
    )

    code, data, _seconds = fleet_json("status")
    assert code == 1
    hosts = by_host(data)
    assert hosts["unknown"]["error"].startswith("host key unknown")
    assert hosts["changed"]["error"].startswith("host key changed")
    assert hosts["bare"]["error"].startswith("no heartbeat there")
    assert hosts["bare"]["reachable"] is True
    assert hosts["garbage"]["error"].startswith("answered something that is not")
    assert "'garbage status --json'" in hosts["garbage"]["error"]
    assert hosts["stuck"]["error"].startswith("no answer within 8 s")
    assert all(h["status"] is None for h in data["hosts"])
    # a changed key is never accepted: known_hosts still holds the impostor's
    assert "changed-key" in lab.known_hosts.read_text()


@pytest.mark.timeout(300)
def test_the_forced_command_key_runs_status_and_nothing_else(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    beta = lab.host("beta", forced=True)
    marker = tmp_path / "pwned"
    answer = lab.ssh("beta", "heartbeat status --json")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["sessions"] == []
    for command in (
        f"touch {marker}",
        "heartbeat check",
        f"heartbeat status --json; touch {marker}",
        f"heartbeat status --json && touch {marker}",
        f"heartbeat report --json --since '$(touch {marker})'",
        "heartbeat status",
        "",
    ):
        refused = lab.ssh("beta", command)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert "this key may only run `heartbeat status --json`" in refused.stderr
        assert refused.stdout == ""
    assert not marker.exists()
    assert "restrict,command=" in beta.authorized.read_text()


# -- fleet report -------------------------------------------------------------------------------

#: A stand-in for `heartbeat report --json` (DESIGN §8's shape), used until `heartbeat report`
#: exists in the tree: a tiny script named as such, printing the host's canned report.
REPORT_STANDIN = """#!/bin/sh
# report stand-in: prints a DESIGN §8-shaped `heartbeat report --json`, nothing else
[ "$1 $2" = "report --json" ] || {{ echo "report stand-in: unexpected $*" >&2; exit 2; }}
cat '{report}'
"""


def report(
    host: str, sessions: list[tuple[str, str, str | None]], commits: int
) -> dict[str, t.Any]:
    return {
        "since": "2026-12-06T00:00:00+00:00",
        "until": "2026-12-07T08:00:00+00:00",
        "needs_you": [name for name, _, why in sessions if why],
        "totals": {"sessions": len(sessions), "commits": commits, "restarts": 1, "tokens": 1000},
        "sessions": [
            {"name": name, "agent": "codex", "outcome": outcome, "needs_you": why, "commits": 1}
            for name, outcome, why in sessions
        ],
    }


def report_standin(folder: pathlib.Path, data: dict[str, t.Any]) -> pathlib.Path:
    canned = folder / "report.json"
    canned.write_text(json.dumps(data))
    script = folder / "report-standin"
    script.write_text(REPORT_STANDIN.format(report=canned))
    script.chmod(0o755)
    return script


@pytest.mark.timeout(300)
def test_fleet_report_merges_the_hosts_reports_needs_you_first(
    tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    alpha = lab.host("alpha")
    lab.alias("beta", alpha.port)  # a second host on the same sshd, with its own report
    a = report_standin(
        alpha.folder,
        report(
            "alpha", [("api", "stalled", "no output for 25 min"), ("docs", "completed", None)], 3
        ),
    )
    (tmp_path / "b").mkdir()
    b = report_standin(
        tmp_path / "b",
        report("beta", [("auth", "blocked", "codex login"), ("web", "running", None)], 4),
    )
    lab.closed_port("closed")
    configure(
        tmp_path, lab, [("alpha", str(a)), ("beta", str(b)), ("closed", "heartbeat")], local=False
    )

    code, data, _ = fleet_json("report")

    assert code == 1
    assert data["needs_you"] == [
        {"host": "closed", "session": None, "reason": by_host(data)["closed"]["error"]},
        {"host": "beta", "session": "auth", "reason": "codex login"},
        {"host": "alpha", "session": "api", "reason": "no output for 25 min"},
    ]
    assert [(s["host"], s["name"]) for s in data["sessions"]] == [
        ("alpha", "api"), ("alpha", "docs"), ("beta", "auth"), ("beta", "web"),
    ]  # fmt: skip
    assert data["totals"] == {"sessions": 4, "commits": 7, "restarts": 2, "tokens": 2000}
    assert by_host(data)["alpha"]["report"]["since"] == "2026-12-06T00:00:00+00:00"

    code, out, _ = helpers.cli("fleet", "report")
    assert out.splitlines()[:2] == ["needs you:", f"  closed: {by_host(data)['closed']['error']}"]
    assert "beta/auth: codex login" in out


def has_report_command() -> bool:
    import typer

    from heartbeat.cli import app

    return "report" in getattr(typer.main.get_command(app), "commands", {})


@pytest.mark.timeout(300)
def test_fleet_report_merges_real_heartbeat_reports(
    agents: pathlib.Path, tmp_path: pathlib.Path, lab: sshd.Lab
) -> None:
    """The hosts' own `heartbeat report --json` (DESIGN §8), one through the forced key."""
    if not has_report_command():
        pytest.skip("`heartbeat report` is not in this tree yet (the stand-in test covers it)")
    alpha = lab.host("alpha")
    beta = lab.host("beta", forced=True)
    for host in (alpha, beta):
        start_sessions(host)
        host.run("check", "--json")  # each host's own check: restarts its `gone`
    configure(tmp_path, lab, [("alpha", str(alpha.heartbeat)), ("beta", "heartbeat")], local=False)

    code, data, _seconds = fleet_json("report", "--since", "12h")
    hosts = by_host(data)
    for host in (alpha, beta):
        assert hosts[host.name]["error"] is None, hosts[host.name]["error"]
        own = json.loads(host.run("report", "--json", "--since", "12h").stdout)
        assert {s["name"] for s in own["sessions"]} == {
            s["name"] for s in data["sessions"] if s["host"] == host.name
        }
    assert data["totals"]["sessions"] == sum(
        hosts[name]["report"]["totals"]["sessions"] for name in ("alpha", "beta")
    )
    assert code in (0, 1)


def test_fleet_report_refuses_a_since_it_cannot_read() -> None:
    code, _, err = helpers.cli("fleet", "report", "--since", "$(reboot)")
    assert code == 2
    assert "is not a time heartbeat reads" in err


# -- doctor -------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_doctor_checks_each_host(tmp_path: pathlib.Path, lab: sshd.Lab) -> None:
    alpha = lab.host("alpha")
    lab.closed_port("closed")
    configure(tmp_path, lab, [("alpha", str(alpha.heartbeat)), ("closed", "heartbeat")])
    code, out, _ = helpers.cli("doctor", "--json")
    findings = [f for f in json.loads(out)["findings"] if f["check"] == "fleet"]
    assert [f["level"] for f in findings] == ["ok", "fail"]
    assert findings[0]["what"].startswith("fleet host alpha (ssh alpha): heartbeat answers")
    assert "connection refused" in findings[1]["what"]
    assert code == 1


# -- without ssh: configuration, the forced command's rules, the key line, the ssh command ------


class ConfigRow(t.NamedTuple):
    toml: str
    message: str


CONFIG_ERRORS = [
    ConfigRow('[[fleet.hosts]]\nname = "a"\n', "ssh is missing"),
    ConfigRow('[[fleet.hosts]]\nname = "local"\nssh = "x"\n', "this machine's"),
    ConfigRow('[[fleet.hosts]]\nname = "a b"\nssh = "x"\n', "must be letters"),
    ConfigRow('[[fleet.hosts]]\nname = "a"\nssh = "-oProxyCommand=x"\n', "not starting with '-'"),
    ConfigRow('[[fleet.hosts]]\nname = "a"\nssh = "x"\n[[fleet.hosts]]\nname = "a"\nssh = "y"\n',
              "a second host is named 'a'"),
    ConfigRow("[fleet]\nconnect_timeout = 0\n", "connect_timeout must be between"),
    ConfigRow('[fleet]\nconnect_timeout = "5"\n', "must be a number of seconds"),
    ConfigRow("[fleet]\nport = 22\n", "unknown key 'port'"),
    ConfigRow('[[fleet.hosts]]\nname = "a"\nssh = "x"\nuser = "me"\n', "unknown key 'user'"),
]  # fmt: skip


@pytest.mark.parametrize("row", CONFIG_ERRORS, ids=[r.message for r in CONFIG_ERRORS])
def test_a_fleet_config_that_cannot_be_used_says_which_key(
    tmp_path: pathlib.Path, row: ConfigRow
) -> None:
    (tmp_path / "config.toml").write_text(row.toml)
    with pytest.raises(ConfigError, match=row.message):
        load_settings()
    code, _, err = helpers.cli("fleet", "status")
    assert code == 2
    assert row.message.split("'")[0] in err


def test_the_fleet_config_is_read(tmp_path: pathlib.Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[fleet]\nssh_config = "~/ssh/config"\nconnect_timeout = 7\n\n'
        '[[fleet.hosts]]\nname = "mini"\nssh = "me@mini.lan"\n\n'
        '[[fleet.hosts]]\nname = "studio"\nssh = "studio"\nheartbeat = "~/.local/bin/heartbeat"\n'
    )
    settings = load_settings()
    assert settings.fleet.hosts == (
        FleetHost("mini", "me@mini.lan", "heartbeat"),
        FleetHost("studio", "studio", "~/.local/bin/heartbeat"),
    )
    assert settings.fleet.ssh_config == pathlib.Path(os.environ["HOME"]) / "ssh" / "config"
    assert settings.fleet.connect_timeout == 7.0
    _, out, _ = helpers.cli("config", "show")
    assert "mini, studio (connect 7 s, shared 120 s)" in out


class ServeRow(t.NamedTuple):
    original: str | None
    runs: list[str] | None


SERVE = [
    ServeRow("heartbeat status --json", ["status", "--json"]),
    ServeRow("/opt/hb/bin/heartbeat status --json", ["status", "--json"]),
    ServeRow("heartbeat report --json", ["report", "--json"]),
    ServeRow("heartbeat report --json --since yesterday",
             ["report", "--json", "--since", "yesterday"]),
    ServeRow("heartbeat report --json --since=12h", ["report", "--json", "--since", "12h"]),
    ServeRow("heartbeat report --json --since 2026-11-25T08:00+01:00",
             ["report", "--json", "--since", "2026-11-25T08:00+01:00"]),
    ServeRow(None, None),
    ServeRow("", None),
    ServeRow("sh", None),
    ServeRow("heartbeat status", None),
    ServeRow("heartbeat check --json", None),
    ServeRow("heartbeat status --json --notes-dir /etc", None),
    ServeRow("heartbeat status --json; id", None),
    ServeRow("heartbeat report --json --since '$(id)'", None),
    ServeRow("heartbeat report --json --since yesterday --write", None),
    ServeRow("heartbeat status --json\nid", None),
    ServeRow("heartbeat 'status --json", None),
]  # fmt: skip


@pytest.mark.parametrize("row", SERVE, ids=[repr(r.original) for r in SERVE])
def test_the_forced_command_allows_only_status_and_report(row: ServeRow) -> None:
    if row.runs is None:
        with pytest.raises(UsageError, match=r"this key may only run|not a time"):
            fleet.serve_argv(row.original)
    else:
        assert fleet.serve_argv(row.original) == row.runs


def test_fleet_serve_refuses_without_a_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_ORIGINAL_COMMAND", raising=False)
    code, out, err = helpers.cli("fleet", "serve")
    assert (code, out) == (2, "")
    assert "no command given; this key may only run" in err


def test_fleet_key_prints_a_restricted_forced_command_line(tmp_path: pathlib.Path) -> None:
    key = sshd.keygen(tmp_path / "fleet_key").with_suffix(".pub")
    code, out, err = helpers.cli(
        "fleet", "key", "--key", str(key), "--heartbeat", "/usr/bin/heartbeat"
    )
    assert code == 0
    public = key.read_text().strip()
    assert out == f'restrict,command="/usr/bin/heartbeat fleet serve" {public}\n'
    assert "authorized_keys" in err
    code, out, err = helpers.cli("fleet", "key", "--key", str(tmp_path / "none.pub"))
    assert code == 2
    assert "no public key at" in err
    (tmp_path / "bad.pub").write_text("hello\n")
    code, _, err = helpers.cli("fleet", "key", "--key", str(tmp_path / "bad.pub"))
    assert (code, "is not one OpenSSH public key" in err) == (2, True)


def test_the_ssh_command_never_prompts_and_shares_through_a_short_socket(
    tmp_path: pathlib.Path,
) -> None:
    settings = load_settings()
    host = FleetHost("mini", "me@mini")
    folder = fleet.control_dir(settings)
    socket = fleet.control_path(folder, host, settings.fleet)
    assert len(os.fsencode(socket)) + 17 <= 107
    argv = fleet.ssh_argv(
        host, FleetSettings(connect_timeout=5), "heartbeat status --json", socket=socket
    )
    joined = " ".join(argv)
    for option in (
        "BatchMode=yes",
        "ConnectTimeout=5",
        "ControlMaster=auto",
        f"ControlPath={socket}",
        "ControlPersist=120s",
        "ServerAliveInterval=",
    ):
        assert option in joined  # fmt: skip
    assert argv[-3:] == ["--", "me@mini", "heartbeat status --json"]
    plain = fleet.ssh_argv(host, FleetSettings(), "x", socket=None)
    assert "ControlPath=none" in plain
    assert "StrictHostKeyChecking=no" not in " ".join(plain)  # host keys as ssh checks them
