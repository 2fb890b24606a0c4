"""`heartbeat schedule --via openclaw`: an OpenClaw automation that runs `heartbeat check --quiet`.

``openclaw`` is a stand-in on PATH (tests/standins.py) that keeps jobs as the
gateway does and answers as the CLI does. The command the automation stores is
then run the way OpenClaw runs it (``sh -lc``), to see ``NO_REPLY`` and the exit
status OpenClaw judges a run by.
"""

from __future__ import annotations

import json
import pathlib
import shlex
import subprocess
import sys
import typing as t

import pendulum

from heartbeat.schedule import openclaw
from tests import helpers
from tests.cronbox import (  # noqa: F401 - fixtures, registered by being imported
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)
from tests.sysstandins import Standins, standins_fixture  # noqa: F401

HEARTBEAT = str(pathlib.Path(sys.executable).parent / "heartbeat")


def jobs(standins: Standins) -> list[dict[str, t.Any]]:
    found = standins.state().get("jobs", [])
    assert isinstance(found, list)
    return found


def command_of(job: dict[str, t.Any]) -> str:
    argv = job["payload"]["argv"]
    assert argv[:2] == ["sh", "-lc"]
    return str(argv[2])


def test_install_creates_one_automation_and_records_its_id(
    standins: Standins, tmp_path: pathlib.Path
) -> None:
    code, out, err = helpers.cli("schedule", "install", "--via", "openclaw", "--every", "5m")
    assert code == 0, err
    [job] = jobs(standins)
    assert out.startswith(f"created the OpenClaw automation {job['id']} (automations)\n")
    create = [call for call in standins.calls("openclaw") if call[2] == "create"]
    assert len(create) == 1
    argv = create[0]
    assert argv[1:7] == ["automations", "create", "--name", "heartbeat", "--every", "5m"]
    assert argv[7] == "--command"
    words = shlex.split(argv[8])
    assert words[-3:] == [HEARTBEAT, "check", "--quiet"]
    assert words[0] == "env"
    env = dict(word.split("=", 1) for word in words[1:-3])
    assert env["HEARTBEAT_NO_REPLY"] == "1"
    assert env["PATH"].endswith(":/usr/bin:/bin")
    assert env["HEARTBEAT_STATE_DIR"] == str(tmp_path / "state")
    record = json.loads((tmp_path / "state" / openclaw.RECORD).read_text())
    assert record["id"] == job["id"]
    assert record["schedule"] == "*/5 * * * *"


def test_installing_twice_changes_nothing_and_a_change_replaces_the_job(
    standins: Standins,
) -> None:
    assert helpers.cli("schedule", "install", "--via", "openclaw")[0] == 0
    [first] = jobs(standins)
    standins.forget_calls()
    code, out, _ = helpers.cli("schedule", "install", "--via", "openclaw")
    assert code == 0
    assert "already installed as asked; nothing changed" in out
    assert [call[2] for call in standins.calls("openclaw")] == ["list"]
    assert jobs(standins) == [first]
    code, out, err = helpers.cli(
        "schedule", "install", "--via", "openclaw", "--schedule", "*/7 9-17 * * *"
    )
    assert code == 0, err
    assert out.startswith("replaced the OpenClaw automation")
    [second] = jobs(standins)
    assert second["id"] != first["id"]
    assert second["schedule"] == {"kind": "cron", "expr": "*/7 9-17 * * *"}


def test_remove_takes_out_exactly_the_job_it_created(
    standins: Standins, tmp_path: pathlib.Path
) -> None:
    standins.set(jobs=[{"id": "mine-not-yours", "name": "heartbeat", "enabled": True}])
    assert helpers.cli("schedule", "install", "--via", "openclaw")[0] == 0
    assert len(jobs(standins)) == 2
    code, out, err = helpers.cli("schedule", "remove", "--via", "openclaw")
    assert code == 0, err
    assert "removed the OpenClaw automation" in out
    assert [job["id"] for job in jobs(standins)] == ["mine-not-yours"]
    assert not (tmp_path / "state" / openclaw.RECORD).exists()
    code, out, _ = helpers.cli("schedule", "remove", "--via", "openclaw")
    assert (code, "nothing to remove" in out) == (0, True)


def test_an_older_openclaw_gets_the_cron_group(standins: Standins) -> None:
    standins.set(groups=["cron"])
    code, out, err = helpers.cli("schedule", "install", "--via", "openclaw")
    assert code == 0, err
    assert "(cron)" in out
    assert [call[1:3] for call in standins.calls("openclaw")] == [
        ["automations", "list"],
        ["cron", "list"],
        ["cron", "create"],
    ]
    assert helpers.cli("schedule", "remove", "--via", "openclaw")[0] == 0
    assert standins.calls("openclaw")[-1][1:3] == ["cron", "remove"]
    assert jobs(standins) == []


def test_a_gateway_that_is_down_is_a_clear_error(standins: Standins) -> None:
    standins.set(gateway=False)
    code, _, err = helpers.cli("schedule", "install", "--via", "openclaw")
    assert code == 2
    assert "gateway not reachable" in err
    assert "openclaw gateway status" in err


def test_show_says_whether_the_gateway_still_has_the_job(standins: Standins) -> None:
    assert helpers.cli("schedule", "install", "--via", "openclaw", "--every", "10m")[0] == 0
    code, out, err = helpers.cli("schedule", "show", "--via", "openclaw", "--json")
    assert code == 0, err
    [shown] = json.loads(out)["schedulers"]
    assert (shown["running"], shown["status"]) == (True, "enabled = True")
    assert shown["schedule"] == "*/10 * * * *"
    standins.set(jobs=[])
    code, out, _ = helpers.cli("schedule", "show", "--via", "openclaw")
    assert code == 1
    assert "gone: the gateway no longer has this job" in out


def test_the_automations_command_says_no_reply_and_exits_0_with_news(
    standins: Standins, notes_dir: pathlib.Path, tmp_path: pathlib.Path, socket_path: pathlib.Path
) -> None:
    """Run the stored command as OpenClaw does: NO_REPLY when quiet, news and exit 0 else.

    Under cron the same `check --quiet` prints nothing on a quiet check and exits 1
    with news (tests/test_check_act.py): only the automation's variable changes that.
    """
    assert helpers.cli("schedule", "install", "--via", "openclaw")[0] == 0
    [job] = jobs(standins)
    day = pendulum.now().format("YYYY-MM-DD")
    note = notes_dir / f"{day}.md"
    note.write_text(f"# {day}\n\nNothing running.\n")
    home = tmp_path / "gateway-home"
    home.mkdir()
    environment = {"HOME": str(home), "PATH": "/usr/bin:/bin"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-lc", command_of(job)],
            cwd=home,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    quiet = run()
    assert str(socket_path) in command_of(job), "the plugin's server, reaped after the test"
    assert (quiet.returncode, quiet.stdout) == (0, "NO_REPLY\n"), quiet.stderr
    helpers.write_note(notes_dir, helpers.canonical("gone", "sleep 600"))
    news = run()
    assert news.returncode == 0, news.stderr
    assert "gone died" in news.stdout
    assert "NO_REPLY" not in news.stdout
