"""Stand-ins for launchctl, systemctl, systemd-run and openclaw: there is no launchd, user
manager or gateway on this machine.

Each is a tiny launcher on PATH that runs ``main`` below with its own name. Every
call is recorded (``calls.jsonl`` in ``STANDIN_DIR``: one JSON argv per line)
and answered as the real program answers: the same words on the same stream,
the same exit statuses. Their state (what is loaded, enabled, scheduled) and
how they should behave (a gateway that is down, a notifier that fails N times)
live in ``state.json`` beside it, so a test can look at and steer them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import plistlib
import sys
import typing as t
import uuid

import pytest

if t.TYPE_CHECKING:
    from tests.cronbox import CrontabSandbox

REPO = pathlib.Path(__file__).resolve().parent.parent
PROGRAMS = ("launchctl", "systemctl", "systemd-run", "openclaw")
LAUNCHER = """#!{python}
import sys
sys.path.insert(0, {repo!r})
from tests.sysstandins import main
sys.exit(main({name!r}, sys.argv[1:]))
"""
#: What openclaw says when its gateway does not answer.
GATEWAY_DOWN = "Error: gateway not reachable at ws://127.0.0.1:18789 (connect ECONNREFUSED)"


@dataclasses.dataclass
class Standins:
    """The stand-ins of one test: their folder, what they were asked, their state."""

    folder: pathlib.Path

    @property
    def bin(self) -> pathlib.Path:
        return self.folder / "bin"

    def calls(self, program: str | None = None) -> list[list[str]]:
        """Every call so far (``[program, *args]``), of one program or all."""
        path = self.folder / "calls.jsonl"
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text().splitlines() if line]
        return [call for call in found if program is None or call[0] == program]

    def state(self) -> dict[str, t.Any]:
        return _load(self.folder)

    def set(self, **values: t.Any) -> None:
        state = _load(self.folder)
        state.update(values)
        _save(self.folder, state)

    def forget_calls(self) -> None:
        (self.folder / "calls.jsonl").unlink(missing_ok=True)


def install(folder: pathlib.Path) -> Standins:
    """Write the launchers into ``folder/bin``; the caller puts it first on PATH and
    sets ``STANDIN_DIR`` to ``folder``."""
    standins = Standins(folder)
    standins.bin.mkdir(parents=True, exist_ok=True)
    for name in PROGRAMS:
        launcher = standins.bin / name
        launcher.write_text(LAUNCHER.format(python=sys.executable, repo=str(REPO), name=name))
        launcher.chmod(0o755)
    return standins


def _load(folder: pathlib.Path) -> dict[str, t.Any]:
    path = folder / "state.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {}


def _save(folder: pathlib.Path, state: dict[str, t.Any]) -> None:
    (folder / "state.json").write_text(json.dumps(state, indent=2))


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def main(name: str, args: list[str]) -> int:
    folder = pathlib.Path(os.environ["STANDIN_DIR"])
    with (folder / "calls.jsonl").open("a") as calls:
        calls.write(json.dumps([name, *args]) + "\n")
    state = _load(folder)
    handler = {
        "launchctl": launchctl,
        "systemctl": systemctl,
        "systemd-run": systemd_run,
        "openclaw": openclaw,
    }[name]
    code = handler(args, state)
    _save(folder, state)
    return code


# ------------------------------------------------------------------------ launchctl


def launchctl(args: list[str], state: dict[str, t.Any]) -> int:
    """``bootstrap gui/UID PLIST``, ``bootout gui/UID/LABEL``, ``print gui/UID/LABEL``."""
    loaded: dict[str, str] = state.setdefault("loaded", {})
    if args[:1] == ["bootstrap"] and len(args) == 3:
        path = pathlib.Path(args[2])
        try:
            plist = plistlib.loads(path.read_bytes())
        except FileNotFoundError:
            _err("Bootstrap failed: 2: No such file or directory")
            return 2
        except plistlib.InvalidFileException:
            _err("Bootstrap failed: 5: Input/output error")
            return 5
        label = str(plist.get("Label"))
        if f"{args[1]}/{label}" in loaded:
            _err("Bootstrap failed: 5: Input/output error")
            return 5
        loaded[f"{args[1]}/{label}"] = str(path)
        return 0
    if args[:1] == ["bootout"] and len(args) == 2:
        if loaded.pop(args[1], None) is None:
            _err("Boot-out failed: 3: No such process")
            return 3
        return 0
    if args[:1] == ["print"] and len(args) == 2:
        where = loaded.get(args[1])
        if where is None:
            domain, _, label = args[1].rpartition("/")
            _err(f'Could not find service "{label}" in domain for user gui: {domain[4:]}')
            return 113
        plist = plistlib.loads(pathlib.Path(where).read_bytes())
        arguments = "".join(f"\t\t{word}\n" for word in plist["ProgramArguments"])
        print(
            f"{args[1]} = {{\n\tactive count = 0\n\tpath = {where}\n\ttype = LaunchAgent\n"
            f"\tstate = not running\n\n\tprogram = {plist['ProgramArguments'][0]}\n"
            f"\targuments = {{\n{arguments}\t}}\n\n"
            f"\tstdout path = {plist.get('StandardOutPath')}\n"
            f"\tstderr path = {plist.get('StandardErrorPath')}\n"
            "\truns = 0\n\tlast exit code = (never exited)\n}"
        )
        return 0
    _err(f"Unrecognized subcommand: {args[0] if args else ''}")
    return 64


# ------------------------------------------------------------------------ systemctl


def _unit_folder() -> pathlib.Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(pathlib.Path.home() / ".config")
    return pathlib.Path(base) / "systemd" / "user"


def systemctl(args: list[str], state: dict[str, t.Any]) -> int:
    """``--user``: show-environment, daemon-reload, enable/disable [--now], restart,
    is-active, show --property=."""
    if args[:1] != ["--user"]:
        _err("This stand-in answers only --user")
        return 1
    args = args[1:]
    if not state.get("manager", True):
        _err("Failed to connect to bus: No medium found")
        return 1
    folder = _unit_folder()
    active: list[str] = state.setdefault("active", [])
    if args == ["show-environment"]:
        print(f"HOME={pathlib.Path.home()}\nLANG=C.UTF-8\nPATH=/usr/local/bin:/usr/bin:/bin")
        return 0
    if args == ["daemon-reload"]:
        state["loaded"] = sorted(p.name for p in folder.glob("*") if p.is_file())
        return 0
    if args[:1] in (["enable"], ["disable"]):
        now = "--now" in args
        unit = next(a for a in args[1:] if not a.startswith("-"))
        if unit not in state.get("loaded", []):
            verb = args[0]
            _err(f"Failed to {verb} unit: Unit file {unit} does not exist.")
            return 1
        wants = folder / "timers.target.wants" / unit
        if args[0] == "enable":
            if not wants.is_symlink():
                wants.parent.mkdir(parents=True, exist_ok=True)
                wants.symlink_to(folder / unit)
                _err(f"Created symlink {wants} → {folder / unit}.")
            if now and unit not in active:
                active.append(unit)
        else:
            if wants.is_symlink():
                wants.unlink()
                _err(f'Removed "{wants}".')
            if now and unit in active:
                active.remove(unit)
        return 0
    if args[:1] == ["restart"] and len(args) == 2:
        if args[1] not in state.get("loaded", []):
            _err(f"Failed to restart {args[1]}: Unit {args[1]} not found.")
            return 5
        if args[1] not in active:
            active.append(args[1])
        state["restarts"] = int(state.get("restarts", 0)) + 1
        return 0
    if args[:1] == ["is-active"] and len(args) == 2:
        print("active" if args[1] in active else "inactive")
        return 0 if args[1] in active else 3
    if args[:1] == ["show"] and len(args) >= 2:
        values = {"ActiveState": "active" if args[1] in active else "inactive"}
        values |= {"LastTriggerUSec": "n/a", "Result": "success", "ExecMainStatus": "0"}
        for arg in args[2:]:
            key = arg.removeprefix("--property=")
            print(f"{key}={values.get(key, '')}")
        return 0
    _err(f"Unknown command verb {args[0] if args else ''}.")
    return 1


# ------------------------------------------------------------------------ systemd-run


def systemd_run(args: list[str], state: dict[str, t.Any]) -> int:
    """``[--user] --scope [--quiet] [--collect] [--unit NAME] [-p K=V] COMMAND…``: the
    scope's name goes into ``scopes``, then COMMAND replaces this process, as the real
    ``--scope`` runs it in the foreground with the caller's environment and status.
    ``manager`` false fails as a missing bus does."""
    words = iter(args)
    scope, unit = False, None
    command: list[str] = []
    for word in words:
        if word == "--scope":
            scope = True
        elif word in ("--user", "--quiet", "-q", "--collect", "-G"):
            continue
        elif word in ("--unit", "-u"):
            unit = next(words, None)
        elif word.startswith("--unit="):
            unit = word.removeprefix("--unit=")
        elif word in ("-p", "--property"):
            next(words, None)
        elif word.startswith("-"):
            _err(f"systemd-run: unrecognized option '{word}'")
            return 1
        else:
            command = [word, *words]
    if not scope:
        _err("This stand-in answers only --scope")
        return 1
    if not command:
        _err("Command line to execute required.")
        return 1
    if not state.get("manager", True):
        _err("Failed to connect to bus: No medium found")
        return 1
    state.setdefault("scopes", []).append(unit)
    _save(pathlib.Path(os.environ["STANDIN_DIR"]), state)
    sys.stdout.flush()
    os.execvp(command[0], command)  # becomes the command, as the real --scope does


# ------------------------------------------------------------------------ openclaw


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def openclaw(args: list[str], state: dict[str, t.Any]) -> int:
    """``automations`` (or, with ``groups``, only ``cron``) create/list/remove,
    ``system event``, ``message send``; ``gateway`` false makes every call fail as
    the real CLI does without a gateway; ``fail_sends`` fails that many sends;
    ``event_reply`` replaces the ``ok`` of ``system event``."""
    group = args[0] if args else ""
    groups = state.get("groups", ["automations", "cron"])
    if group in ("automations", "cron") and group not in groups:
        _err(f"error: unknown command '{group}'")
        return 1
    if not state.get("gateway", True):
        _err(GATEWAY_DOWN)
        return 1
    jobs: list[dict[str, t.Any]] = state.setdefault("jobs", [])
    if group in ("automations", "cron"):
        return _automations(args[1:], jobs)
    if args[:2] in (["system", "event"], ["message", "send"]):
        sends: list[list[str]] = state.setdefault("sends", [])
        if int(state.get("fail_sends", 0)) > 0:
            state["fail_sends"] = int(state["fail_sends"]) - 1
            _err(GATEWAY_DOWN)
            return 1
        sends.append(args)
        if args[0] == "system":
            print(state.get("event_reply", "ok"))
        else:
            print(f"✅ Sent via {_option(args, '--channel')}. Message ID: {len(sends)}")
        return 0
    _err(f"error: unknown command '{group}'")
    return 1


def _automations(args: list[str], jobs: list[dict[str, t.Any]]) -> int:
    if args[:1] in (["create"], ["add"]):
        name, command = _option(args, "--name"), _option(args, "--command")
        every, cron = _option(args, "--every"), _option(args, "--cron")
        if not name:
            _err("error: required option '--name <name>' not specified")
            return 1
        if (every is None) == (cron is None):
            _err("Error: Choose exactly one schedule: --at, --every, or --cron")
            return 1
        schedule = {"kind": "every", "every": every} if every else {"kind": "cron", "expr": cron}
        job = {
            "id": str(uuid.uuid4()),
            "name": name,
            "enabled": True,
            "schedule": schedule,
            "payload": {"kind": "command", "argv": ["sh", "-lc", command]},
            "state": {},
        }
        jobs.append(job)
        print(json.dumps(job, indent=2))
        return 0
    if args[:1] == ["list"]:
        print(json.dumps({"jobs": jobs}, indent=2))
        return 0
    if args[:1] in (["rm"], ["remove"], ["delete"]) and len(args) >= 2:
        before = len(jobs)
        jobs[:] = [job for job in jobs if job["id"] != args[1]]
        print(json.dumps({"ok": True, "removed": len(jobs) < before}, indent=2))
        return 0
    _err(f"error: unknown command '{args[0] if args else ''}'")
    return 1


@pytest.fixture(name="standins")
def standins_fixture(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, crontab_sandbox: CrontabSandbox
) -> Standins:
    """launchctl, systemctl and openclaw stand-ins first on PATH, recording into tmp_path.

    HOME becomes the test's own folder too: the plugin's is shared by the whole
    session, and ``~/Library/LaunchAgents`` must not outlive a test. The crontab
    is the test's own (``crontab_sandbox``): `schedule` looks at every scheduler.
    A module using this fixture imports the two of tests/cronbox.py as well.
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    folder = tmp_path / "standins"
    standins = install(folder)
    monkeypatch.setenv("STANDIN_DIR", str(folder))
    monkeypatch.setenv("PATH", f"{standins.bin}{os.pathsep}{os.environ['PATH']}")
    return standins
