"""Doctor checks of what runs the checks: the crontab entry and the PATH cron gives it,
the LaunchAgent, systemd timer or OpenClaw automation and whether it runs, and the
heartbeat's own last check against its schedule."""

from __future__ import annotations

import os
import pathlib
import plistlib
import re
import shutil
import typing as t

from heartbeat.doctor.model import Context, Finding, Level, with_prefix
from heartbeat.errors import ConfigError, HeartbeatError
from heartbeat.schedule.expr import describe_schedule
from heartbeat.timefmt import format_duration

if t.TYPE_CHECKING:
    from heartbeat.schedule.watch import Installed

#: Tools a scheduled check needs on PATH, and how bad their absence is.
JOB_TOOLS: tuple[tuple[str, Level, str], ...] = (
    ("tmux", Level.FAIL, "the check cannot probe or restart anything"),
    ("codex", Level.FAIL, "restarted codex sessions would fail with 'command not found'"),
    ("git", Level.WARN, "finished sessions cannot be verified"),
    ("ralphy", Level.WARN, "restarted Ralph loops would fail with 'command not found'"),
)
INSTALL_HINT = (
    "`heartbeat schedule install` (launchd on macOS, a systemd user timer where one runs, "
    "else cron), or `heartbeat cron install` (every 5 minutes; --every 1m for every minute)"
)


def crontab_text(ctx: Context) -> str | None:
    """The crontab's text (read once), or None with ``ctx.table_error`` set."""
    from heartbeat.schedule.crontab import read_table

    if ctx.table is not None or ctx.table_error is not None:
        return ctx.table
    try:
        ctx.table = read_table().text
    except ConfigError as error:
        ctx.table_error = str(error)
    return ctx.table


def schedulers(ctx: Context) -> list[Installed]:
    """Every scheduler that runs the heartbeat (read once; unreadable ones left out)."""
    from heartbeat.schedule.watch import installed

    if ctx.schedulers is None:
        text = crontab_text(ctx)
        found, _ = installed(ctx.settings, table=text if text is not None else "")
        ctx.schedulers = found
    return ctx.schedulers


def check_cron(ctx: Context) -> list[Finding]:
    from heartbeat.schedule.crontab import find_entry

    text = crontab_text(ctx)
    if text is None:
        return [
            Finding(
                "crontab",
                Level.WARN,
                f"the crontab cannot be read: {ctx.table_error}",
                "install cron (Debian/Ubuntu: apt-get install cron), "
                "or run `heartbeat check` from another scheduler (`heartbeat schedule install`)",
            )
        ]
    try:
        entry = find_entry(text)
    except ConfigError as error:
        return [Finding("crontab", Level.FAIL, str(error), "see `crontab -l`")]
    if entry is None:
        others = [one.via for one in schedulers(ctx) if one.via != "cron"]
        if others:
            return [Finding("crontab", Level.OK, f"no crontab entry: {others[0]} runs the checks")]
        return [
            Finding(
                "crontab",
                Level.WARN,
                "no heartbeat entry in the crontab: nothing runs the checks",
                INSTALL_HINT,
            )
        ]
    words = describe_schedule(entry.schedule)
    findings = [
        Finding("crontab", Level.OK, f"crontab: the {entry.where} runs heartbeat check {words}")
    ]
    source = (
        "set by the entry"
        if entry.inline_path
        else "a PATH= line of the crontab"
        if entry.table_path
        else "cron's default"
    )
    reinstall = "run `heartbeat cron install` again from this shell (it pins the folders it finds)"
    findings.extend(
        job_path(ctx, "cron_path", "cron", entry.path, source, entry.program, reinstall)
    )
    return findings


def job_path(
    ctx: Context,
    check: str,
    runner: str,
    entry_path: str,
    source: str,
    program: str | None,
    reinstall: str,
) -> list[Finding]:
    """What a scheduled job's PATH (plus the configured prefix) gives the check it runs."""
    path = with_prefix(ctx.settings.path_prefix, entry_path)
    findings: list[Finding] = []
    if program and (os.path.basename(program) == "heartbeat" or "python" in program):
        binary = pathlib.Path(program)
        runnable = (
            binary.is_file() and os.access(binary, os.X_OK)
            if binary.is_absolute()
            else shutil.which(program, path=path) is not None
        )
        if not runnable:
            findings.append(
                Finding(
                    check,
                    Level.FAIL,
                    f"the {runner} job runs {program}, which {runner} cannot run "
                    "(moved or uninstalled?)",
                    reinstall,
                )
            )
    missing: list[tuple[str, Level, str, str]] = []
    for tool, level, why in JOB_TOOLS:
        here = ctx.which(tool)
        if here is not None and not shutil.which(tool, path=path):
            missing.append((tool, level, why, str(pathlib.Path(here).parent)))
    notify = ctx.settings.notify
    if notify and not shutil.which(notify[0], path=path) and ctx.which(notify[0]):
        here = str(pathlib.Path(ctx.which(notify[0]) or ".").parent)
        missing.append((notify[0], Level.WARN, "notifications would fail", here))
    if not missing:
        findings.append(
            Finding(check, Level.OK, f"under {runner}, PATH={path} ({source}) finds every tool")
        )
        return findings
    worst = Level.FAIL if any(level is Level.FAIL for _, level, _, _ in missing) else Level.WARN
    names = ", ".join(f"{tool} ({why})" for tool, _, why, _ in missing)
    folders = ":".join(dict.fromkeys(folder for *_, folder in missing))
    findings.append(
        Finding(
            check,
            worst,
            f"under {runner}, PATH={path} ({source}) lacks {names}",
            f"{reinstall}, or add {folders} to path_prefix in the config",
        )
    )
    return findings


def check_scheduler(ctx: Context) -> list[Finding]:
    """Which scheduler runs the heartbeat, and whether it has it loaded or active."""
    found = schedulers(ctx)
    findings: list[Finding] = []
    for one in found:
        try:
            findings.extend(_scheduler(ctx, one))
        except HeartbeatError as error:
            findings.append(Finding("scheduler", Level.WARN, f"{one.via}: {error}"))
    if len(found) > 1:
        names = ", ".join(one.via for one in found)
        findings.append(
            Finding(
                "scheduler",
                Level.WARN,
                f"more than one scheduler runs the heartbeat ({names}): every check runs twice",
                f"keep one: `heartbeat schedule remove --via {found[-1].via}`",
            )
        )
    vias = {one.via for one in found}
    if ctx.platform == "darwin" and "cron" in vias and "launchd" not in vias:
        findings.append(
            Finding(
                "scheduler",
                Level.WARN,
                "on a Mac, cron skips the checks while the Mac sleeps, and what it starts "
                "lacks Full Disk Access",
                "`heartbeat cron remove`, then `heartbeat schedule install` (a LaunchAgent)",
            )
        )
    return findings


def _scheduler(ctx: Context, one: Installed) -> list[Finding]:
    from heartbeat.schedule import cron, launchd, openclaw, systemd

    runs = f"{one.via} runs the heartbeat {describe_schedule(one.schedule)} ({one.where})"
    again = f"`heartbeat schedule install --via {one.via}`"
    if one.via == "cron":
        daemon = cron.daemon_running() if ctx.platform.startswith("linux") else None
        if daemon is False:
            return [
                Finding(
                    "scheduler",
                    Level.WARN,
                    f"{runs}, but no cron daemon runs on this machine",
                    "start it (`systemctl start cron`, or `service cron start`)",
                )
            ]
        return [Finding("scheduler", Level.OK, runs + (": the cron daemon runs" if daemon else ""))]
    if one.via == "launchd":
        if not launchd.loaded(os.getuid()).ok:
            return [Finding("scheduler", Level.FAIL, f"{runs}, but it is not loaded", again)]
        plist = plistlib.loads(pathlib.Path(one.where).read_bytes())
        arguments = plist.get("ProgramArguments") or [None]
        path = str(plist.get("EnvironmentVariables", {}).get("PATH", "/usr/bin:/bin"))
        findings = [Finding("scheduler", Level.OK, f"{runs}: loaded")]
        return findings + job_path(
            ctx, "job_path", "launchd", path, "set by the plist", arguments[0], again
        )
    if one.via == "systemd":
        if not systemd.is_active():
            return [Finding("scheduler", Level.FAIL, f"{runs}, but the timer is not active", again)]
        service = pathlib.Path(one.where).with_name(systemd.SERVICE)
        text = service.read_text(encoding="utf-8") if service.exists() else ""
        found = re.search(r'(?:^Environment=|\s)"?PATH=([^"\s]*)', text, re.MULTILINE)
        program = re.search(r"^ExecStart=\"?([^\"\s]+)", text, re.MULTILINE)
        path = found.group(1) if found else "/usr/bin:/bin"
        findings = [Finding("scheduler", Level.OK, f"{runs}: the timer is active")]
        return findings + job_path(
            ctx,
            "job_path",
            "systemd",
            path,
            "set by the service",
            program.group(1) if program else None,
            again,
        )
    if openclaw.still_there(ctx.settings):
        return [Finding("scheduler", Level.OK, f"{runs}: the gateway has it")]
    return [Finding("scheduler", Level.FAIL, f"{runs}, but the gateway no longer has it", again)]


def check_last_check(ctx: Context) -> list[Finding]:
    """The heartbeat watching itself: the last check against its scheduler's schedule."""
    from heartbeat.schedule.watch import WatchStatus, self_watch
    from heartbeat.state import load_state

    text = crontab_text(ctx)
    watch = self_watch(ctx.settings, ctx.now, table=text if text is not None else "")
    if watch.status is WatchStatus.OK:
        return [Finding("last_check", Level.OK, watch.message)]
    if watch.status is WatchStatus.LATE:
        if watch.via == "cron":
            fix = (
                "see that cron runs (`pgrep -x cron` / `systemctl status cron`) and "
                f"read {ctx.settings.state_dir / 'cron.log'}"
            )
        else:
            fix = f"see `heartbeat schedule show --via {watch.via}` and its log in the state folder"
        return [Finding("last_check", Level.FAIL, watch.message, fix)]
    if watch.status is WatchStatus.NEVER:
        return [
            Finding(
                "last_check",
                Level.WARN,
                watch.message,
                "wait for the next scheduled run, or run `heartbeat check` once now",
            )
        ]
    last = load_state(ctx.settings.state_dir).last_check
    if last is None:
        return [
            Finding(
                "last_check",
                Level.WARN,
                "no check has run yet",
                "run `heartbeat check` once, then let a scheduler run it",
            )
        ]
    ago = format_duration(ctx.now.timestamp() - last)
    return [Finding("last_check", Level.OK, f"last check {ago} ago (no schedule)")]
