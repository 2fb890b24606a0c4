"""`heartbeat doctor`: is everything a check needs in place? Each finding says how to fix it.

Read-only: it never starts a tmux server, never writes the crontab, a note or
the state. The checks are a table (``CHECKS``) of small functions over one
``Context`` (``heartbeat.doctor.checks``);
each returns findings (``heartbeat.doctor.model``), and any ``fail`` makes the exit
status 1.
What a scheduled check would see is judged with its scheduler's PATH (from the
crontab entry, the plist or the unit) and the configured PATH prefix, not with
this shell's. The platform is injected (``run_doctor(platform=…)``), so the
macOS checks are tried anywhere.
"""

from __future__ import annotations

import os
import pathlib
import sys
import typing as t

from heartbeat.config import config_path, load_settings
from heartbeat.doctor import checks
from heartbeat.doctor.model import Context, DoctorResult, Finding, Level, with_prefix
from heartbeat.errors import ConfigError
from heartbeat.schedule.cron import CronEntry, find_entry, parse_entry

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import pendulum

    from heartbeat.config import Settings

__all__ = [
    "CHECKS",
    "Context",
    "CronEntry",
    "DoctorResult",
    "Finding",
    "Level",
    "find_entry",
    "load",
    "parse_entry",
    "run_doctor",
    "with_prefix",
]

CHECKS: tuple[Callable[[Context], list[Finding]], ...] = (
    checks.check_config,
    checks.check_tmux,
    checks.check_socket,
    checks.check_server_unit,
    checks.check_notes_folder,
    checks.check_today_note,
    checks.check_state,
    checks.check_codex,
    checks.check_codex_log,
    checks.check_ralphy,
    checks.check_agents,
    checks.check_rejected_flags,
    checks.check_notify,
    checks.check_git,
    checks.check_privacy,
    checks.check_cron,
    checks.check_scheduler,
    checks.check_last_check,
    checks.check_fleet,
)


def load(
    flags: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None
) -> tuple[Settings, Finding]:
    """The settings, and a finding on the config file.

    A config file that cannot be used is a ``fail`` finding rather than an
    error (the doctor is what one runs when things are broken): the doctor
    goes on with the environment and defaults. Raises ConfigError only when a
    flag or environment variable itself is bad.
    """
    env = dict(os.environ if env is None else env)
    path = config_path(env)
    try:
        settings = load_settings(flags, env)
    except ConfigError as error:
        settings = load_settings(flags, {**env, "HEARTBEAT_CONFIG": os.devnull})
        settings.config_file = path
        return settings, Finding(
            "config",
            Level.FAIL,
            f"config file: {error}",
            "fix the file: until then every command but doctor exits 2 (doctor went on without it)",
        )
    if settings.config_file is None:
        return settings, Finding(
            "config", Level.OK, f"no config file at {path}: environment and defaults apply"
        )
    return settings, Finding("config", Level.OK, f"config file {path}")


def run_doctor(
    settings: Settings,
    now: pendulum.DateTime,
    *,
    env: Mapping[str, str] | None = None,
    table: str | None = None,
    config_finding: Finding | None = None,
    platform: str | None = None,
    proc_root: pathlib.Path | None = None,
) -> DoctorResult:
    """Every check of ``CHECKS``, in order. Never raises for what it finds.

    *table* is the crontab's text (None: read it with ``crontab -l``);
    *platform* is ``sys.platform`` unless given; *proc_root* is where processes'
    cgroups are read (``/proc`` unless given).
    """
    env = os.environ if env is None else env
    ctx = Context(
        settings=settings,
        now=now,
        env=env,
        path=with_prefix(settings.path_prefix, env.get("PATH", os.defpath)),
        table=table,
        config_finding=config_finding,
        platform=sys.platform if platform is None else platform,
        proc_root=pathlib.Path("/proc") if proc_root is None else proc_root,
    )
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(ctx))
    return DoctorResult(findings)
