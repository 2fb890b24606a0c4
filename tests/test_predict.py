"""`status --json` and `check --dry-run --json` say what the `check --json` after them does.

One day of sessions in every shape a decision can take — running, gone with and
without a known folder, failed, an interactive pane, renamed, paused — on a
real tmux server; the three commands must agree on every session's action.
"""

from __future__ import annotations

import pathlib
import typing as t

from heartbeat.tmux import Tmux
from tests import helpers

FOREVER = "codex exec -s workspace-write 'scenario:work-forever go'"
MOVED = "codex exec -s workspace-write 'scenario:work-forever other task'"
FAIL = "codex exec -s workspace-write 'scenario:fail go'"


def actions(*args: str) -> dict[str, str]:
    _code, report = helpers.check_json(*args) if args[:1] != ("status",) else _status()
    return {s["name"]: s["action"] for s in report["sessions"]}


def _status() -> tuple[int, t.Any]:
    import json

    code, out, err = helpers.cli("status", "--json")
    assert out.strip(), err
    return code, json.loads(out)


def test_status_and_dry_run_predict_the_check(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    work = helpers.work_dir(notes_dir)
    body = "".join(
        [
            helpers.canonical("running", FOREVER, work),
            helpers.canonical("gone", FOREVER, work),
            "- nowhere: `sleep 600`\n",
            helpers.canonical("failed", FAIL, work),
            helpers.canonical("byhand", FAIL, work),
            helpers.canonical("moved", MOVED, work),
            "- ⏸️ held: `codex exec -s workspace-write 'scenario:fail held'`\n",
        ]
    )
    helpers.write_note(notes_dir, body)
    for name, command in [("running", FOREVER), ("failed", FAIL), ("moved", MOVED)]:
        helpers.start(agents, name, command, work)
    tmux = Tmux(agents)
    tmux.run("new-session", "-d", "-s", "byhand", "-c", str(work))
    tmux.run("send-keys", "-t", "=byhand:", f"{FAIL}; echo 'EXITED:' $?", "Enter")
    helpers.wait_exited(agents, "failed")
    helpers.wait_exited(agents, "byhand")
    helpers.wait_for_text(agents, "moved", "exec")
    tmux.run("rename-session", "-t", "=moved", "moved-by-me")
    status = actions("status")
    dry = actions("--dry-run")
    real = actions()
    assert status == dry == real, (status, dry, real)
    assert real["nowhere"] == "reported"
    assert real["byhand"] == "reported"
    assert (real["gone"], real["failed"]) == ("restarted", "restarted"), real
    assert real["moved"] == real["running"] == "none"
