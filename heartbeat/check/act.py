"""Act: the second look, restarts, verification and the notification — the only side effects.

Each step takes the frozen decisions and returns what happened as an
``Outcome``; it never re-derives a decision.
"""

from __future__ import annotations

import dataclasses
import os
import typing as t

from heartbeat.errors import TmuxError
from heartbeat.scope import detach_argv
from heartbeat.session import (
    account_environment,
    build_launch,
    client_environment,
    launch_stamp,
    resume_command,
)
from heartbeat.state import OUTBOX_FILE
from heartbeat.words import Action, Diagnosis

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from heartbeat.check.decide import Decision
    from heartbeat.check.observe import Observation
    from heartbeat.config import Settings
    from heartbeat.notify import Delivery
    from heartbeat.profiles import Profiles
    from heartbeat.state import SessionState
    from heartbeat.tmux import Tmux
    from heartbeat.verify import Verification


class Outcome(t.NamedTuple):
    """A decision and what acting on it did."""

    obs: Observation
    decision: Decision
    action: Action
    detail: str
    memory: SessionState
    restarted: bool = False
    verification: Verification | None = None

    @property
    def name(self) -> str:
        return self.decision.name

    @property
    def before(self) -> SessionState:
        """The state as the check found it (what is news is read against it)."""
        return self.decision.previous or self.decision.memory


def unacted(obs: Observation, decision: Decision, note: str = "") -> Outcome:
    """The outcome of a decision nothing was done about (read-only runs, --no-restart)."""
    detail = f"{decision.detail} {note}".strip() if note else decision.detail
    return Outcome(
        obs, decision, decision.action, detail, decision.memory, verification=obs.verification
    )


def second_look(
    server: Callable[[str], Tmux],
    pairs: Sequence[tuple[Observation, Decision]],
    settings: Settings,
    sleep: Callable[[float], None],
) -> dict[str, str]:
    """Sample again a moment later; returns why a restart is cancelled, by session name.

    New output in the agent's pane, another process in it, or a session that
    exists again cancels a restart (a healthy session restarted mid-turn loses work).
    """
    candidates = [(o, d) for o, d in pairs if d.restart]
    if not candidates or settings.second_look_seconds <= 0:
        return {}
    sleep(settings.second_look_seconds)
    sockets = {o.server or str(settings.socket) for o, _ in candidates}
    probes = {}
    for socket in sockets:
        tmux = server(socket)
        probe = tmux.list_panes()
        ids = [o.pane_id for o, _ in candidates if o.pane_id and probe.pane(o.pane_id)]
        probe.output = tmux.capture(ids, settings.capture_lines) if ids else {}
        probes[socket] = probe
    cancelled = {}
    for obs, decision in candidates:
        probe = probes[obs.server or str(settings.socket)]
        if probe.server != "running":
            continue
        pane = probe.pane(obs.pane_id) if obs.pane_id else None
        if obs.host_session:
            if len(probe.session_panes(obs.host_session)) != obs.others:
                cancelled[decision.name] = "the session's panes changed since the first look"
        elif not obs.exists:
            if probe.session_panes(obs.entry.name):
                cancelled[decision.name] = "the session exists again"
        elif pane is None:
            cancelled[decision.name] = "the pane is gone since the first look"
        elif pane.pid != obs.pane_pid:
            cancelled[decision.name] = "another process runs in the pane since the first look"
        else:
            after = probe.output.get(pane.pane_id, "").rstrip()
            if after != obs.output.rstrip():
                cancelled[decision.name] = "new output on a second look"
    return cancelled


def restart(
    tmux: Tmux,
    obs: Observation,
    decision: Decision,
    settings: Settings,
    profiles: Profiles,
    now: float,
) -> Outcome:
    """Start the agent again with the seed's anatomy, touching nothing but its own pane.

    A session that is gone is created. A finished agent's pane is respawned in
    place (``respawn-pane -k``) when its session holds anything else — other
    windows or panes the user opened — or was renamed; a session holding nothing
    but that pane is recreated in one call. Never touches a session whose agent
    still runs, or a pane it cannot tie to the agent. A restart tmux refuses, or
    one that cannot be built (no folder known), is reported instead.
    """
    entry = obs.entry
    if obs.exists and not obs.finished:
        return reported(obs, decision, "not restarted: the session is still running")
    if obs.not_owned is not None:
        return reported(obs, decision, f"not restarted: not the agent's pane ({obs.not_owned})")
    if decision.ralph and obs.ralph is not None:
        entry = dataclasses.replace(entry, command=obs.ralph, tmux_command=False)
    resumed = None
    if decision.resume and obs.profile:
        profile = profiles.named(obs.profile)
        if profile is not None:
            sid, prompt = decision.resume, settings.continue_prompt

            def resumed(command: str) -> str | None:
                return resume_command(command, profile, sid, prompt)

    try:
        launch = build_launch(entry, settings, obs.cwd or decision.memory.last_dir, resumed)
    except ValueError as error:
        return reported(obs, decision, f"cannot restart: {error}")
    client_env = client_environment(settings, os.environ)
    # the account the check reads for the agent is the one it is given
    environment = (
        *launch.environment,
        *account_environment(profiles.agents, os.environ, launch.environment),
    )
    try:
        if obs.host_session:
            # the agent's own pane is gone; the session holds only what the user opened
            result = tmux.new_window(
                obs.host_session,
                launch.shell_command,
                launch.start_dir,
                environment,
                client_env=client_env,
            )
        elif obs.exists and obs.pane_id and (obs.others or obs.renamed):
            result = tmux.respawn_pane(
                obs.pane_id,
                launch.shell_command,
                launch.start_dir,
                environment,
                client_env=client_env,
            )
        else:

            def detach(argv: list[str]) -> list[str]:
                # a client that may start the server runs outside the scheduler's unit
                return detach_argv(argv, client_env)

            result = tmux.new_session(
                launch.name,
                launch.shell_command,
                launch.start_dir,
                environment,
                replace=(obs.session_id or True) if obs.exists else False,
                client_env=client_env,
                wrap=None if obs.exists else detach,
            )
    except TmuxError as error:  # a hung server: this restart is reported, the check goes on
        return reported(obs, decision, f"restart failed: {error}")
    if result.returncode != 0:
        return reported(obs, decision, f"restart failed: {result.stderr.strip()[:200]}")
    assert decision.restarted_memory is not None  # decide settles it for every restart
    memory = dataclasses.replace(
        decision.restarted_memory, launched=launch_stamp(launch.shell_command)
    )
    return Outcome(obs, decision, Action.RESTARTED, decision.detail, memory, restarted=True)


def reported(obs: Observation, decision: Decision, detail: str) -> Outcome:
    """A restart that was wanted and not made: reported, with why."""
    return Outcome(obs, decision, Action.REPORTED, detail, decision.memory)


def cancelled(obs: Observation, decision: Decision, detail: str) -> Outcome:
    """A restart the second look called off: nothing was wrong after all."""
    return Outcome(obs, decision, Action.NONE, detail, decision.memory)


def verify(outcome: Outcome) -> Outcome:
    """Verify a completion through git (commits since start, diff, PRD boxes)."""
    verification = outcome.verification or outcome.obs.verification
    if verification is None:
        from heartbeat.session import folder, shell_command
        from heartbeat.verify import verify as run_verify

        obs = outcome.obs
        where = folder(obs.entry, obs.cwd or outcome.memory.last_dir)
        verification = run_verify(where, shell_command(obs.entry), obs.started_at)
    detail = verification.summary()
    memory = outcome.memory
    if outcome.decision.diagnosis == Diagnosis.COMPLETED:
        # verified once per incarnation: the next check does not run git again
        memory = dataclasses.replace(
            memory, verified=outcome.obs.incarnation or "gone", detail=detail
        )
    return outcome._replace(verification=verification, detail=detail, memory=memory)


def notify(settings: Settings, message: str | None, now: float) -> Delivery | None:
    """Send this check's news with what still waits from earlier checks; never raises.

    What did not arrive is kept in the state folder and tried again on the
    next check, a few times at most (``heartbeat.outbox``). None when there
    is no news and nothing waits (the outbox is not even loaded).
    """
    if message is None and not (settings.state_dir / OUTBOX_FILE).exists():
        return None
    from heartbeat.notify import deliver

    return deliver(settings, message, settings.state_dir, now)
