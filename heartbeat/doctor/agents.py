"""Doctor checks of the agents themselves: which releases are installed, and the notes'
commands that an installed agent would reject."""

from __future__ import annotations

import datetime
import typing as t

from heartbeat.doctor.model import Finding, Level

if t.TYPE_CHECKING:
    from heartbeat.doctor.model import Context


def check_agents(ctx: Context) -> list[Finding]:
    """Each known agent's installed version against the release the test bed runs."""
    from heartbeat import profiles
    from heartbeat.installed import installed

    findings = []
    for profile in profiles.load(ctx.settings.profiles, ctx.settings.signatures).agents:
        agent = installed(profile, ctx.path, ctx.settings.state_dir, write=False)
        if agent.path is None:
            continue
        version = agent.version or "an unknown version"
        tested = f" (the test bed runs {agent.tested})" if agent.tested else ""
        if agent.newer_than_tested:
            findings.append(
                Finding(
                    "agents",
                    Level.WARN,
                    f"{profile.name} {version} at {agent.path} is newer than {agent.tested}, "
                    "the newest release heartbeat's tests have run: its messages may read "
                    "differently",
                    "watch the first sessions' reports; `heartbeat status` shows what it reads",
                )
            )
        else:
            findings.append(
                Finding("agents", Level.OK, f"{profile.name} {version} at {agent.path}{tested}")
            )
        for flag in agent.rejects:
            findings.append(
                Finding(
                    "agents",
                    Level.OK,
                    f"{profile.name} {version} rejects `{flag}`: `heartbeat launch` writes the "
                    "replacement, and the notes are checked for it below",
                )
            )
    return findings


def check_rejected_flags(ctx: Context) -> list[Finding]:
    """Logged commands that use a flag the installed agent rejects: each fails at once."""
    from heartbeat import notes
    from heartbeat.errors import HeartbeatError

    day = datetime.date(ctx.now.year, ctx.now.month, ctx.now.day)
    try:
        listed = notes.list_entries(ctx.settings, day)
    except HeartbeatError:
        return []  # the notes check says why they cannot be read
    return [
        Finding(
            "agents",
            Level.WARN,
            f"{warning.file}:{warning.line}: {warning.message}",
            "fix the command in the note (or `heartbeat notes add` it again)",
        )
        for warning in notes.rejected_flags(ctx.settings, listed.entries, write=False)
    ]
