"""`heartbeat schedule`: run the check from the platform's own scheduler (DESIGN §7).

``native`` picks launchd on macOS, a systemd user timer where a user manager
answers, else cron, and says why; ``install``, ``remove`` and ``show`` hand the
work to that scheduler's module (``cron``, ``launchd``, ``systemd``,
``openclaw``), each idempotent and removing exactly what it installed.
"""

from __future__ import annotations

import dataclasses
import sys
import typing as t

from heartbeat.errors import UsageError

if t.TYPE_CHECKING:
    import datetime

    from heartbeat.config import Settings
    from heartbeat.schedule.result import ScheduleResult

#: Every scheduler, in the order `--via` lists them.
VIAS = ("launchd", "systemd", "openclaw", "cron")


@dataclasses.dataclass(frozen=True)
class Choice:
    via: str
    why: str


def native(platform: str | None = None) -> Choice:
    """The platform's own scheduler and why: ``platform`` is ``sys.platform`` unless given."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return Choice("launchd", "macOS: launchd runs the checks missed while the Mac slept")
    from heartbeat.schedule import systemd

    if systemd.manager_runs():
        return Choice("systemd", "a systemd user manager runs here")
    return Choice(
        "cron", "no systemd user manager answers here (`systemctl --user show-environment`)"
    )


def check_via(via: str | None) -> str | None:
    if via is not None and via not in VIAS:
        raise UsageError(f"--via {via!r} is not a scheduler; choose one of {', '.join(VIAS)}")
    return via


def install(
    settings: Settings,
    expression: str,
    now: datetime.datetime,
    *,
    via: str | None = None,
    platform: str | None = None,
) -> ScheduleResult:
    """Install the check in ``via`` (default: ``native``); see each scheduler's ``install``.

    Notes any other scheduler that already runs the heartbeat (two would run
    every check twice). Raises UsageError for a bad schedule or ``via``, and the
    scheduler's ConfigError when it refuses.
    """
    from heartbeat.schedule import cron, launchd, openclaw, systemd
    from heartbeat.schedule.watch import installed

    named = check_via(via)
    chosen = Choice(named, "") if named else native(platform)
    if chosen.via == "cron":
        result = cron.install(settings, expression, now).as_schedule()
    elif chosen.via == "launchd":
        result = launchd.install(settings, expression, now)
    elif chosen.via == "systemd":
        result = systemd.install(settings, expression, now)
    else:
        result = openclaw.install(settings, expression, now)
    others, _ = installed(settings)
    notes = [
        f"{other.via} also runs the heartbeat ({other.where}): every check would run twice; "
        f"`heartbeat schedule remove --via {other.via}` takes it out"
        for other in others
        if other.via != chosen.via
    ]
    return dataclasses.replace(result, why=chosen.why or None, notes=notes)


def remove(
    settings: Settings, *, via: str | None = None, platform: str | None = None
) -> list[ScheduleResult]:
    """Remove the heartbeat from ``via``; without it, from every scheduler that runs it
    (or, when none does, say so for the native one)."""
    from heartbeat.schedule import cron, launchd, openclaw, systemd

    vias = _targets(settings, via, platform)
    results = []
    for name in vias:
        if name == "cron":
            results.append(cron.remove().as_schedule())
        elif name == "launchd":
            results.append(launchd.remove(settings))
        elif name == "systemd":
            results.append(systemd.remove(settings))
        else:
            results.append(openclaw.remove(settings))
    return results


def show(
    settings: Settings,
    now: datetime.datetime,
    *,
    via: str | None = None,
    platform: str | None = None,
) -> list[ScheduleResult]:
    """What ``via`` runs (without it: every scheduler that runs the heartbeat, else the
    native one), its next runs, whether it runs and whether the checks keep up."""
    from heartbeat.schedule import cron, launchd, openclaw, systemd

    results = []
    for name in _targets(settings, via, platform):
        if name == "cron":
            results.append(cron.show(settings, now).as_schedule())
        elif name == "launchd":
            results.append(launchd.show(settings, now))
        elif name == "systemd":
            results.append(systemd.show(settings, now))
        else:
            results.append(openclaw.show(settings, now))
    return results


def _targets(settings: Settings, via: str | None, platform: str | None) -> list[str]:
    from heartbeat.schedule.watch import installed

    if check_via(via):
        return [t.cast("str", via)]
    found, _ = installed(settings)
    return [one.via for one in found] or [native(platform).via]
