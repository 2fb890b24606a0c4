"""Build Observations the way a check does — through ``observe`` — from a made-up probe.

No tmux server: a ``Probe`` is plain data (the panes ``list-panes`` would
list, the text ``capture-pane`` would return), and which shells still run
something is the set ``ps`` would give. Everything after that is the real
pipeline: observe → decide.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import typing as t

import pendulum

import memory_schema as ms
from heartbeat import profiles
from heartbeat.check.decide import Decision, decide
from heartbeat.check.observe import Observation, observe
from heartbeat.config import Settings
from heartbeat.state import SessionState
from heartbeat.tmux import Pane, Probe

NOW = pendulum.datetime(2026, 11, 26, 14, 0, tz="UTC")
NOTE = pathlib.Path("/notes/2026-11-26.md")


def settings(**changes: t.Any) -> Settings:
    base = Settings(
        notes_dir=pathlib.Path("/notes"),
        socket=pathlib.Path("/sock"),
        state_dir=pathlib.Path("/state"),
        codex_home=pathlib.Path("/codex"),
        second_look_seconds=0,
    )
    return dataclasses.replace(base, **changes)


def entry(name: str, command: str, **changes: t.Any) -> ms.Entry:
    fields: dict[str, t.Any] = {"dir": "/work/app", "canonical": True, **changes}
    return ms.Entry(name=name, command=command, file=NOTE, line=5, end_line=6, **fields)


@dataclasses.dataclass
class Pane_:
    """One session's pane as the probe would see it."""

    output: str
    #: The pane's foreground command: the agent, a shell, or the tail (sleep).
    command: str = "sh"
    #: Whether the shell still runs a child other than the tail (what ps would say).
    busy: bool = False
    dead: bool = False
    dead_status: int | None = None
    created: float = NOW.timestamp() - 3600
    activity: float = NOW.timestamp() - 10
    path: str = "/work/app"
    #: How tmux reports the pane's start command: None is the anatomy around the
    #: entry's own command (the pane is the agent's); "" an interactive shell.
    start: str | None = None


def observed(
    entries: t.Sequence[ms.Entry],
    panes: t.Mapping[str, Pane_],
    memories: t.Mapping[str, SessionState] | None = None,
    *,
    now: datetime.datetime = NOW,
    config: Settings | None = None,
    log: t.Sequence[tuple[float, str, str]] = (),
    server: str = "running",
) -> list[Observation]:
    probe = Probe(server)  # type: ignore[arg-type]
    running = set()
    commands = {e.name: e.command for e in entries}
    for index, (name, pane) in enumerate(panes.items()):
        start = pane.start
        if start is None:
            start = f'"cd {pane.path} && {commands.get(name, "")}\\nEXIT_CODE=$?; sleep 999999"'

        pid = 1000 + index
        probe.panes[name] = [
            Pane(
                session=name,
                session_id=f"${index}",
                pane_id=f"%{index}",
                dead=pane.dead,
                dead_status=pane.dead_status,
                command=pane.command,
                activity=pane.activity,
                pid=pid,
                created=pane.created,
                path=pane.path,
                start_command=start,
            )
        ]
        probe.output[f"%{index}"] = pane.output
        if pane.busy:
            running.add(pid)
    loaded = profiles.load()
    return [
        observe(
            e,
            probe,
            running,
            (memories or {}).get(e.name, SessionState()),
            loaded,
            log,
            pendulum.instance(now),
            config or settings(),
            {"HOME": "/home/user"},
            logged={x.name for x in entries},
        )
        for e in entries
    ]


def decided(
    entries: t.Sequence[ms.Entry],
    panes: t.Mapping[str, Pane_],
    memories: t.Mapping[str, SessionState] | None = None,
    **kwargs: t.Any,
) -> list[Decision]:
    now = kwargs.get("now", NOW)
    config = kwargs.get("config") or settings()
    observations = observed(entries, panes, memories, **kwargs)
    states = [(memories or {}).get(e.name, SessionState()) for e in entries]
    return decide(observations, states, config, profiles.load(), now)


def one(
    command: str, pane: Pane_ | None, memory: SessionState | None = None, **kw: t.Any
) -> Decision:
    """The decision about one session named ``job``; pane None: the session is gone."""
    panes = {"job": pane} if pane is not None else {}
    memories = {"job": memory} if memory is not None else None
    return decided([entry("job", command, **kw.pop("entry", {}))], panes, memories, **kw)[0]
