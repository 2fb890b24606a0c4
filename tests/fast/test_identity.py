"""Identity and ownership as rows (DESIGN §4): the server, the agent's pane, whose it is.

No tmux: the probe is plain data. The end-to-end proofs are tests/test_identity.py.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import typing as t
import zoneinfo

import pytest

import memory_schema as ms
from heartbeat import clock, profiles
from heartbeat.check import identity
from heartbeat.check.decide import clock as hold_clock
from heartbeat.check.observe import _reset
from heartbeat.signatures import scan
from heartbeat.state import SessionState
from heartbeat.tmux import Pane, Probe
from heartbeat.words import Action, Diagnosis
from tests.fast.pipeline import NOTE, Pane_, entry, one

CODEX = "codex exec -s workspace-write 'fix the login'"
ANATOMY = "\"cd /w && codex exec -s workspace-write 'fix the login'\\nEXIT_CODE=$?; sleep 999999\""
ENV = {"HOME": "/home/u", "TMUX_TMPDIR": "/run/t"}
UID = os.geteuid()


class Where(t.NamedTuple):
    command: str
    tmux: bool
    socket: str


@pytest.mark.parametrize(
    "row",
    [
        Where(CODEX, False, "/stable"),
        Where("tmux -L work new -d -s x 'codex exec go'", True, f"/run/t/tmux-{UID}/work"),
        Where("tmux -Lwork new -d -s x 'codex exec go'", True, f"/run/t/tmux-{UID}/work"),
        Where("tmux -S ~/socks/a new -d -s x 'codex exec go'", True, "/home/u/socks/a"),
        Where("tmux -S /srv/s new-session -d -s x 'codex exec go'", True, "/srv/s"),
        Where("tmux -S $HOME/socks/a new -d -s x 'codex exec go'", True, "/home/u/socks/a"),
        Where('tmux -S "${HOME}/socks/a" new -d -s x codex', True, "/home/u/socks/a"),
        Where("tmux new -d -s x 'codex exec go'", True, f"/run/t/tmux-{UID}/default"),
        Where("tmux -f /dev/null new -d -s x 'codex exec go'", True, f"/run/t/tmux-{UID}/default"),
    ],
    ids=[
        "plain",
        "dash-L",
        "dash-L-attached",
        "dash-S-home",
        "dash-S",
        "dash-S-variable",
        "dash-S-braced-quoted",
        "default",
        "dash-f",
    ],
)
def test_a_session_is_on_the_server_its_logged_line_names(row: Where) -> None:
    logged = ms.Entry(
        name="x", command=row.command, file=NOTE, line=1, end_line=1, tmux_command=row.tmux
    )
    assert identity.server_of(logged, pathlib.Path("/stable"), ENV) == pathlib.Path(row.socket)


def pane(session: str, pane_id: str, pid: int, start: str = ANATOMY, **kw: t.Any) -> Pane:
    fields: dict[str, t.Any] = {
        "session_id": "$1",
        "dead": False,
        "dead_status": None,
        "command": "sh",
        "activity": 0.0,
        "created": 0.0,
        **kw,
    }
    return Pane(session, pane_id=pane_id, pid=pid, start_command=start, **fields)


def probe(*panes: Pane) -> Probe:
    found = Probe("running")
    for each in panes:
        found.panes.setdefault(each.session, []).append(each)
    return found


JOB = entry("job", CODEX)


class Follow(t.NamedTuple):
    probe: Probe
    memory: SessionState
    pane: str | None
    renamed: str | None


@pytest.mark.parametrize(
    "row",
    [
        Follow(probe(pane("job", "%1", 10)), SessionState(), "%1", None),
        Follow(
            probe(pane("mine", "%1", 10)), SessionState(pane_id="%1", pane_pid=10), "%1", "mine"
        ),
        # pane ids start again at %0 after a server restart: another pid is another pane
        Follow(
            probe(pane("other", "%1", 99, start="")),
            SessionState(pane_id="%1", pane_pid=10),
            None,
            None,
        ),
        # never seen before, renamed already: tied by the command it was started with
        Follow(probe(pane("mine", "%4", 12)), SessionState(), "%4", "mine"),
        Follow(probe(pane("mine", "%4", 12, start="")), SessionState(), None, None),
        # the remembered session id, under a new name, after a restart in place
        Follow(
            probe(pane("mine", "%2", 13, start='"other"', session_id="$7")),
            SessionState(pane_id="%2", pane_pid=11, session_id="$7"),
            "%2",
            "mine",
        ),
    ],
    ids=["by-name", "renamed", "reused-id", "tied-by-command", "untied", "by-session-id"],
)
def test_the_agents_pane_is_found_by_its_ids_name_or_command(row: Follow) -> None:
    found = identity.find(JOB, row.probe, row.memory, logged={"job"})
    assert (found.pane.pane_id if found.pane else None, found.renamed) == (row.pane, row.renamed)


def test_a_logged_session_is_never_taken_for_a_renamed_one() -> None:
    found = identity.find(JOB, probe(pane("api", "%4", 12)), SessionState(), logged={"job", "api"})
    assert found.pane is None


def test_the_agents_pane_is_the_one_started_with_its_command_and_the_rest_is_counted() -> None:
    user = pane("job", "%1", 10, start="", command="bash")
    agent = pane("job", "%2", 11)
    found = identity.find(JOB, probe(user, agent), SessionState())
    assert found.pane == agent and found.others == 1 and found.not_owned is None


class Owner(t.NamedTuple):
    start: str
    command: str
    dead: bool
    said: str | None


@pytest.mark.parametrize(
    "row",
    [
        Owner(ANATOMY, "sh", False, None),
        Owner(ANATOMY, "sleep", False, None),
        Owner('sh -c "codex exec go; sleep 9"', "sh", False, None),
        Owner("", "sh", True, None),
        Owner("", "bash", False, "interactive shell (bash) at its prompt"),
        Owner("zsh -l", "zsh", False, "interactive shell (zsh) at its prompt"),
        Owner("", "vim", False, "`vim` in an interactive shell"),
        Owner("", "sleep", False, "`sleep` started by hand"),
        Owner("", "codex", False, None),
        Owner("", "node", False, None),
    ],
    ids=[
        "anatomy-shell",
        "anatomy-tail",
        "sh-c",
        "dead",
        "prompt",
        "login-shell",
        "editor",
        "sleep-by-hand",
        "agent-by-hand",
        "npm-agent-by-hand",
    ],
)
def test_only_a_pane_started_with_a_command_is_the_agents(row: Owner) -> None:
    said = identity.not_owned(
        pane("job", "%1", 10, start=row.start, command=row.command, dead=row.dead), None
    )
    assert (said is None) == (row.said is None)
    assert row.said is None or (said is not None and row.said in said)


@pytest.mark.parametrize("command", ["bash", "less"])
def test_an_interactive_pane_that_printed_the_hook_is_reported_never_restarted(
    command: str,
) -> None:
    shown = Pane_("codex exec …\nERROR: boom\nEXITED: 1\n$ ", command=command, start="")
    decision = one(CODEX, shown)
    assert decision.diagnosis == Diagnosis.NOT_OWNED
    assert (decision.action, decision.restart) == (Action.REPORTED, False)
    assert "never touches" in decision.hint


def test_unlogged_agents_are_recognised_by_their_command_not_their_name() -> None:
    loaded = profiles.load()

    def recognise(command: str) -> str | None:
        found = loaded.recognise(command)
        return found.name if found else None

    panes = probe(
        pane("stray", "%1", 10),
        pane("shell", "%2", 11, start="", command="bash"),
        pane("editor", "%3", 12, start='"vim notes.md"', command="vim"),
        pane("job", "%4", 13),
    )
    found = identity.unlogged(panes, {"job"}, (), recognise)
    assert [(p.session, agent) for p, agent in found] == [("stray", "codex")]


def test_a_reset_in_local_time_keeps_its_hour_across_a_dst_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New York leaves DST at 02:00 on 2026-11-01: 03:15 that morning is 08:15 UTC."""
    york = zoneinfo.ZoneInfo("America/New_York")
    monkeypatch.setattr(clock, "_local", york)
    now = datetime.datetime(2026, 11, 1, 0, 30, tzinfo=york)
    loaded = profiles.load()
    codex = loaded.named("codex")
    line = "ERROR: You’ve hit your usage limit. Try again at 3:15 AM."
    matches = scan([line], loaded.signatures(codex), "pane")
    assert [m.groups.get("reset") for m in matches] == ["3:15 AM"]
    reset = _reset(matches, codex, now)
    assert reset is not None
    assert reset.astimezone(datetime.UTC) == datetime.datetime(
        2026, 11, 1, 8, 15, tzinfo=datetime.UTC
    )


def test_a_hold_on_another_day_says_the_day() -> None:
    now = datetime.datetime(2026, 12, 7, 22, 0, tzinfo=datetime.UTC)
    assert hold_clock(now.timestamp() + 3600, now) == "23:00"
    assert hold_clock(now.timestamp() + 3 * 86400, now) == "2026-12-10 22:00"


@pytest.mark.parametrize(
    ("flag", "direct"),
    [("--codex", "codex exec -s workspace-write"), ("--gemini", "gemini -p"), ("", "claude -p")],
    ids=["codex", "gemini", "default-claude"],
)
def test_a_loop_whose_engine_rejects_its_command_line_points_at_that_engine(
    flag: str, direct: str
) -> None:
    from heartbeat.check import rules as hints

    loaded = profiles.load()
    said = hints.engine_rejects(
        loaded, loaded.named("ralphy"), f"ralphy {flag} --prd PRD.md", "error: bad flag"
    )
    assert f"`{direct}" in said and "a restart cannot help" in said


def test_two_entries_with_one_command_never_follow_the_same_pane() -> None:
    """One renamed pane, two entries that could have started it: one follows, one died."""
    from heartbeat.check.observe import _find_all
    from heartbeat.state import State

    placed = [(entry("a", CODEX), "/s"), (entry("b", CODEX), "/s")]
    finds = _find_all(placed, {"/s": probe(pane("mine", "%4", 12))}, State(), {"a", "b"})
    assert [f.renamed for f in finds] == ["mine", None]


def test_a_logged_folder_is_read_as_the_shell_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from heartbeat.session import build_launch
    from tests.fast.pipeline import settings

    monkeypatch.setenv("HOME", "/home/u")
    logged = ms.Entry(
        name="x",
        command="tmux -S /s new -d -s x -c $HOME/app 'codex exec go'",
        file=NOTE,
        line=1,
        end_line=1,
        tmux_command=True,
    )
    assert build_launch(logged, settings()).start_dir == "/home/u/app"
    plain = entry("y", "codex exec go", dir="${HOME}/api")
    assert "cd /home/u/api && " in build_launch(plain, settings()).shell_command
