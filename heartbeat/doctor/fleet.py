"""Doctor check of the fleet's hosts ([[fleet.hosts]]): does each answer over ssh?"""

from __future__ import annotations

import dataclasses

from heartbeat.doctor.model import Context, Finding, Level


def check_fleet(ctx: Context) -> list[Finding]:
    """One finding per configured host: its heartbeat answers `status --json`, or why not.

    Asks every host in parallel, read-only, as `heartbeat fleet status` does (at
    most connect_timeout plus command_timeout seconds); nothing without hosts.
    """
    fleet = ctx.settings.fleet
    if not fleet.hosts:
        return []
    if ctx.which("ssh") is None:
        return [
            Finding(
                "fleet",
                Level.FAIL,
                f"{len(fleet.hosts)} fleet hosts are configured but ssh is not on PATH",
                "install OpenSSH's client (apt-get install openssh-client)",
            )
        ]
    from heartbeat.fleet import fleet_status

    alone = dataclasses.replace(ctx.settings, fleet=dataclasses.replace(fleet, local=False))
    result, warnings = fleet_status(alone)
    findings = [Finding("fleet", Level.WARN, warning) for warning in warnings]
    by_name = {host.name: host for host in fleet.hosts}
    for answer in result.hosts:
        where = f"fleet host {answer.name} (ssh {by_name[answer.name].ssh})"
        if answer.error is not None:
            findings.append(Finding("fleet", Level.FAIL, f"{where}: {answer.error}"))
            continue
        sessions = len((answer.answer or {}).get("sessions") or [])
        last = answer.last_check or "never"
        what = f"{where}: heartbeat answers, {sessions} sessions, last check {last}"
        if answer.keeps_schedule is False:
            findings.append(
                Finding(
                    "fleet",
                    Level.WARN,
                    f"{what}; it missed its schedule",
                    f"run `heartbeat doctor` on {answer.name}",
                )
            )
        else:
            findings.append(Finding("fleet", Level.OK, what))
    return findings
