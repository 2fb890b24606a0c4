"""The doctor's checks, in the order of ``CHECKS``: each reads a ``Context`` and returns findings.

Grouped by what they look at: the files a check reads and writes (the config, the
notes folder, today's note, the state folder, and on macOS project folders behind
the privacy wall); the programs it runs (tmux and its socket, codex, ralphy, the
notifier, git); the agents' installed releases; and what runs the checks (the
crontab entry and the PATH cron gives it, the LaunchAgent, systemd timer or
OpenClaw automation, and the heartbeat's own last check against its schedule).
Every check is read-only and never raises for what it finds.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import plistlib
import re
import shlex
import shutil
import stat
import sys
import typing as t

import memory_schema as ms
from heartbeat import notes, profiles, scope
from heartbeat.doctor.model import (
    Context,
    Finding,
    Level,
    first_line,
    loose,
    quoted,
    run,
    source,
    with_prefix,
)
from heartbeat.errors import ConfigError, HeartbeatError, TmuxError
from heartbeat.fleet import fleet_status
from heartbeat.installed import installed
from heartbeat.notify import MAX_ATTEMPTS, channels, waiting
from heartbeat.schedule import cron, launchd, openclaw, systemd, watch
from heartbeat.schedule.job import describe_schedule
from heartbeat.state import load_state, state_path
from heartbeat.tmux import Tmux
from heartbeat.words import format_duration

if t.TYPE_CHECKING:
    from heartbeat.schedule.watch import Installed


# ------------------------------------------------------------ files: config, notes, state, privacy


def check_config(ctx: Context) -> list[Finding]:
    return [ctx.config_finding] if ctx.config_finding is not None else []


def check_notes_folder(ctx: Context) -> list[Finding]:
    folder = ctx.settings.notes_dir
    where = f"{folder} ({source(ctx, 'notes_dir')})"
    fix_where = (
        "point HEARTBEAT_NOTES_DIR (or notes_dir in the config) at the folder of your daily notes"
    )
    if not folder.exists():
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {where} does not exist: every check exits 2",
                f"create it (mkdir -p {quoted(folder)}) or {fix_where}",
            )
        ]
    if not folder.is_dir():
        return [
            Finding("notes", Level.FAIL, f"the notes folder {where} is not a folder", fix_where)
        ]
    reason = loose(folder)
    if reason:
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {folder}: {reason}; the check refuses to act on it",
                f"chmod go-w {quoted(folder)}",
            )
        ]
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {folder} cannot be read and written by this user",
                f"chmod u+rwx {quoted(folder)} (or fix its owner)",
            )
        ]
    return [Finding("notes", Level.OK, f"notes folder {where}")]


def check_today_note(ctx: Context) -> list[Finding]:
    folder = ctx.settings.notes_dir
    if not folder.is_dir():
        return []
    day = ctx.now.date()
    path = ms.note_path(folder, day)
    if not os.path.lexists(path):
        return [
            Finding(
                "note",
                Level.OK,
                f"no note for today yet ({path}); the first launch or check that has "
                "something to say creates it",
            )
        ]
    reason = loose(path)
    if reason:
        return [
            Finding(
                "note",
                Level.FAIL,
                f"today's note {path}: {reason}; the check refuses to act on it",
                f"chmod go-w {quoted(path)}",
            )
        ]
    try:
        parsed = ms.read_note(path)
    except ms.NoteReadError as error:
        return [
            Finding(
                "note",
                Level.FAIL,
                f"today's note cannot be read: {error}",
                "rewrite it as UTF-8 Markdown text, one line per line; "
                "the heartbeat never rewrites a note it cannot read",
            )
        ]
    except OSError as error:
        return [
            Finding(
                "note",
                Level.FAIL,
                f"today's note {path} cannot be read ({error.strerror})",
                f"chmod u+rw {quoted(path)}",
            )
        ]
    active = [e for e in parsed.entries if e.active]
    if parsed.problems:
        first = parsed.problems[0]
        return [
            Finding(
                "note",
                Level.WARN,
                f"today's note {path}: {len(parsed.problems)} line(s) look like entries but "
                f"cannot be read (first: line {first.line}: {first.message})",
                "fix those lines; `heartbeat notes list` shows them all",
            )
        ]
    return [Finding("note", Level.OK, f"today's note {path}: {len(active)} active session(s)")]


def check_state(ctx: Context) -> list[Finding]:
    folder = ctx.settings.state_dir
    if not folder.exists():
        return [
            Finding("state", Level.OK, f"state folder {folder} (the first check creates it)"),
        ]
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return [
            Finding(
                "state",
                Level.FAIL,
                f"the state folder {folder} is not a writable folder: checks cannot record "
                "restarts, holds or their own time",
                f"chmod u+rwx {quoted(folder)}, or point HEARTBEAT_STATE_DIR elsewhere",
            )
        ]
    path = state_path(folder)
    if not path.exists():
        return [Finding("state", Level.OK, f"state folder {folder} (no check recorded yet)")]
    try:
        raw = path.read_bytes()
    except OSError as error:
        return [
            Finding(
                "state",
                Level.FAIL,
                f"{path} cannot be read ({error.strerror})",
                f"chmod u+rw {quoted(path)}",
            )
        ]
    try:
        json.loads(raw)
    except ValueError as error:
        return [
            Finding(
                "state",
                Level.WARN,
                f"{path} is corrupt ({error}): the next check moves it aside and starts afresh",
                "nothing to do, unless it keeps happening (disk full?)",
            )
        ]
    state = load_state(folder)
    return [Finding("state", Level.OK, f"state {path}: {state.checks} check(s) recorded")]


#: Folders macOS keeps from programs without Full Disk Access (TCC): a job started by
#: launchd or cron lacks the terminal's access, and git there fails with "Operation not
#: permitted" — a verification that silently lies.
PROTECTED = ("Documents", "Desktop", "Downloads", "Library/Mobile Documents")


def protected(folder: str, home: pathlib.Path) -> str | None:
    """How *folder* is privacy-protected on macOS (``~/Documents``, an external volume), or None."""
    if folder == "~" or folder.startswith("~/"):
        folder = str(home) + folder[1:]
    path = pathlib.Path(os.path.normpath(folder))
    for name in PROTECTED:
        guarded = home / name
        if path == guarded or guarded in path.parents:
            return f"~/{name}"
    if len(path.parts) > 2 and path.parts[:2] == ("/", "Volumes"):
        return f"an external volume (/Volumes/{path.parts[2]})"
    return None


def check_privacy(ctx: Context) -> list[Finding]:
    """On macOS: sessions working in a folder that scheduled jobs may not read."""
    if ctx.platform != "darwin" or not ctx.settings.notes_dir.is_dir():
        return []
    try:
        collection = ms.collect(ctx.settings.notes_dir, ctx.now.date(), ctx.settings.days)
    except (ms.NoteError, OSError):
        return []
    findings = []
    who = _needs_access(ctx)
    for entry in collection.entries:
        if not entry.active or not entry.dir:
            continue
        where = protected(entry.dir, ctx.home)
        if where is None:
            continue
        findings.append(
            Finding(
                "privacy",
                Level.WARN,
                f"session {entry.name} works in {entry.dir}, inside {where}: macOS keeps "
                "scheduled jobs out of it, so git there fails with 'Operation not permitted' "
                "and a finished session cannot be verified",
                f"move the project out (e.g. to ~/code), or grant Full Disk Access to {who} in "
                "System Settings → Privacy & Security → Full Disk Access",
            )
        )
    return findings


def _needs_access(ctx: Context) -> str:
    """The program macOS holds responsible for a scheduled check: cron, or the interpreter."""
    vias = {one.via for one in schedulers(ctx)}
    python = os.path.realpath(sys.executable)
    if vias == {"cron"}:
        return "/usr/sbin/cron"
    if "cron" in vias:
        return f"/usr/sbin/cron and {python}"
    return f"{python} (the Python that runs heartbeat)"


# ------------------------------------------------------ programs: tmux, codex, ralphy, notify, git

#: Folders that get cleaned behind a socket's back (the seed: "/tmp gets reaped by macOS").
TMP_FOLDERS = ("/tmp/", "/private/tmp/", "/var/folders/")


def check_tmux(ctx: Context) -> list[Finding]:
    found = ctx.which("tmux")
    if not found:
        return [
            Finding(
                "tmux",
                Level.FAIL,
                "tmux is not on PATH",
                "install it (apt-get install tmux / brew install tmux), or add its folder "
                "to path_prefix in the config",
            )
        ]
    status, output = run([found, "-V"], ctx.env)
    if status != 0:
        return [Finding("tmux", Level.FAIL, f"{found} -V failed: {output}", "reinstall tmux")]
    return [Finding("tmux", Level.OK, f"{first_line(output)} at {found}")]


def check_socket(ctx: Context) -> list[Finding]:
    socket = ctx.settings.socket
    where = f"{socket} ({source(ctx, 'socket')})"
    findings: list[Finding] = []
    if str(socket).startswith(TMP_FOLDERS):
        findings.append(
            Finding(
                "socket",
                Level.WARN,
                f"the tmux socket {where} is in a temporary folder, which gets cleaned "
                "behind its back (macOS reaps /tmp)",
                "use the stable socket ~/.tmux/sock (the default): unset HEARTBEAT_SOCKET "
                "or `socket` in the config",
            )
        )
    folder = socket.parent
    if not folder.is_dir():
        findings.append(
            Finding(
                "socket",
                Level.WARN,
                f"the socket's folder {folder} does not exist yet, so no session runs there",
                f"`heartbeat launch` creates it, or `mkdir -m 700 {quoted(folder)}`",
            )
        )
        return findings
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        findings.append(
            Finding(
                "socket",
                Level.WARN,
                f"the socket's folder {folder} is writable by others (mode {mode:o}): "
                "anyone could replace the socket",
                f"chmod 700 {quoted(folder)}",
            )
        )
    if not os.path.lexists(socket):
        findings.append(
            Finding(
                "socket",
                Level.WARN,
                f"no tmux server: no socket at {where}",
                "nothing runs there yet; `heartbeat launch` starts a session "
                "(sessions listed as active would be restarted by the next check)",
            )
        )
        return findings
    binary = ctx.which("tmux")
    if not binary:
        return findings
    tmux = Tmux(socket, binary=binary)
    try:
        listing = tmux.run("list-sessions", "-F", "#{session_name}")
    except TmuxError as error:
        findings.append(Finding("socket", Level.FAIL, str(error), "see the tmux finding"))
        return findings
    if listing.returncode == 0:
        names = listing.stdout.split()
        shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
        findings.append(
            Finding(
                "socket",
                Level.OK,
                f"tmux server on {where} answers: {len(names)} session(s)"
                + (f" ({shown})" if names else ""),
            )
        )
        return findings
    state, message = tmux.server_state(listing.stderr)
    if state == "no_server":
        findings.append(
            Finding(
                "socket",
                Level.WARN,
                f"{message}: the socket {socket} is left from a server that stopped "
                "(a reboot, or its last session ended)",
                "the next check restarts the sessions listed as active; "
                f"`rm {quoted(socket)}` is safe",
            )
        )
    else:
        findings.append(
            Finding(
                "socket",
                Level.FAIL,
                f"tmux on {socket}: {message}",
                f"look at it with `tmux -S {quoted(socket)} list-sessions`; if it is not a tmux "
                "socket, point HEARTBEAT_SOCKET elsewhere",
            )
        )
    return findings


def check_server_unit(ctx: Context) -> list[Finding]:
    """Whether the tmux server lives in a systemd service that kills it when it stops.

    A server the check started under a timer's oneshot service (before
    ``KillMode=process`` and the scope), or one an OpenClaw gateway's command
    started, dies with that unit, and every agent in it. Nothing is said when
    no server answers (``check_socket`` says why) or its cgroup cannot be read.
    """
    socket = ctx.settings.socket
    binary = ctx.which("tmux")
    if not binary or not os.path.lexists(socket):
        return []
    try:
        answer = Tmux(socket, binary=binary).run("display-message", "-p", "#{pid}")
    except TmuxError:
        return []
    pid = answer.stdout.strip()
    if answer.returncode != 0 or not pid.isdigit():
        return []
    text = scope.read_cgroup(ctx.proc_root / pid / "cgroup")
    service = scope.service_of(text) if text is not None else None
    if service is None:
        return []
    user = "--user " if service.user else ""
    systemctl = f"systemctl {user}".rstrip()
    ours = service.name == "heartbeat.service"
    keep = (
        "or reinstall the timer (`heartbeat schedule install --via systemd`): its service "
        "now says KillMode=process"
        if ours
        else f"or give {service.name} `KillMode=process` (`{systemctl} edit {service.name}`)"
    )
    return [
        Finding(
            "server_unit",
            Level.WARN,
            f"the tmux server on {socket} (pid {pid}) lives in the systemd unit {service.name}: "
            "when that unit stops or restarts, systemd kills the server and every agent in it",
            "start the server outside the unit: when no agent needs it, "
            f"`tmux -S {quoted(socket)} kill-server` (this ends its sessions; the next check "
            f"restarts the active ones) and `systemd-run {user}--scope tmux -S {quoted(socket)} "
            f"new -d`; {keep}",
        )
    ]


def check_codex(ctx: Context) -> list[Finding]:
    found = ctx.which("codex")
    if not found:
        return [
            Finding(
                "codex",
                Level.WARN,
                "codex is not on PATH: `heartbeat launch` without --command runs it",
                "install it (npm install -g @openai/codex), or add its folder to path_prefix",
            )
        ]
    env = {**ctx.env, "PATH": ctx.path, "CODEX_HOME": str(ctx.settings.codex_home)}
    status, output = run([found, "login", "status"], env)
    said = first_line(output) or f"exit status {status}"
    if status == 0:
        note = (
            " (`codex login status` says so even when the refresh token is revoked: "
            "a session's own errors are what the check trusts)"
        )
        return [Finding("codex", Level.OK, f"codex at {found}: {said}{note}")]
    if status is None:
        return [
            Finding(
                "codex",
                Level.WARN,
                f"`codex login status` {said}",
                "try it yourself; a hung codex would hang every session too",
            )
        ]
    return [
        Finding(
            "codex",
            Level.FAIL,
            f"`codex login status` says: {said}; every codex session would fail",
            "run `codex login` (not the seed's `codex auth login`: codex has no such "
            "command and takes the words as a prompt), then `heartbeat notes resume NAME` "
            "for blocked sessions",
        )
    ]


def check_codex_log(ctx: Context) -> list[Finding]:
    home, log = ctx.settings.codex_home, ctx.settings.codex_log
    where = f"CODEX_HOME {home} ({source(ctx, 'codex_home')})"
    if not home.is_dir():
        return [
            Finding(
                "codex_log",
                Level.WARN,
                f"{where} does not exist: codex has not run as this user here",
                "set CODEX_HOME if codex keeps its auth and logs elsewhere",
            )
        ]
    if not log.exists():
        return [
            Finding(
                "codex_log",
                Level.OK,
                f"no codex log at {log} yet: only interactive codex writes it; "
                "`codex exec` prints its errors into the pane, which the check reads",
            )
        ]
    try:
        size = log.stat().st_size
    except OSError as error:
        return [
            Finding("codex_log", Level.WARN, f"{log}: {error.strerror}", f"ls -l {quoted(log)}")
        ]
    if not os.access(log, os.R_OK):
        return [
            Finding(
                "codex_log",
                Level.WARN,
                f"the codex log {log} cannot be read",
                f"chmod u+r {quoted(log)}",
            )
        ]
    return [
        Finding(
            "codex_log",
            Level.OK,
            f"codex log {log} ({size / 1024:.0f} KiB; read from the last offset each check)",
        )
    ]


def check_ralphy(ctx: Context) -> list[Finding]:
    found = ctx.which("ralphy")
    if found:
        return [Finding("ralphy", Level.OK, f"ralphy at {found}")]
    return [
        Finding(
            "ralphy",
            Level.WARN,
            "ralphy is not on PATH: `heartbeat launch --ralph` and the Ralph loop need it",
            "npm install -g ralphy-cli (only if you use the Ralph loop)",
        )
    ]


def check_notify(ctx: Context) -> list[Finding]:
    notify = ctx.settings.notify
    origin = source(ctx, "notify")
    findings = []
    stuck = waiting(ctx.settings.state_dir)
    if stuck:
        findings.append(
            Finding(
                "notify",
                Level.WARN,
                f"{len(stuck)} notification(s) did not arrive and wait in the outbox; the next "
                f"check tries again (at most {MAX_ATTEMPTS} times, then says so in the note)",
                "see why in the last check's JSON `notifications`; is the gateway running?",
            )
        )
    if origin != "default":
        if notify is None:
            return [*findings, Finding("notify", Level.OK, f"notifications are off ({origin})")]
        command = shlex.join(notify)
        found = ctx.which(notify[0])
        if not found:
            return [
                *findings,
                Finding(
                    "notify",
                    Level.FAIL,
                    f"the notify command `{command}` ({origin}) cannot run: "
                    f"{notify[0]} is not on PATH; every notification would fail",
                    f"install {notify[0]}, add its folder to path_prefix, or change the notify "
                    "command",
                ),
            ]
        return [*findings, Finding("notify", Level.OK, f"notifications: `{command}` via {found}")]
    ways = channels(ctx.settings, {**ctx.env, "PATH": ctx.path})
    if not ways:
        return [
            *findings,
            Finding(
                "notify",
                Level.WARN,
                "notifications are off: openclaw is not on PATH, no notify command is set and "
                "no gateway_url and gateway_token are configured",
                "install OpenClaw, or set HEARTBEAT_NOTIFY (or notify in the config) to a "
                "command that takes the message",
            ),
        ]
    tried = ", then ".join(f"`{way.describe()}`" for way in ways)
    gateway = ""
    if any(way.via != "hooks/wake" for way in ways):
        gateway = " (openclaw needs a running gateway: `openclaw gateway status`)"
    return [*findings, Finding("notify", Level.OK, f"notifications: {tried}{gateway}")]


def check_git(ctx: Context) -> list[Finding]:
    found = ctx.which("git")
    if found:
        return [Finding("git", Level.OK, f"git at {found} (verification of finished sessions)")]
    return [
        Finding(
            "git",
            Level.WARN,
            "git is not on PATH: finished sessions cannot be verified",
            "install git, or add its folder to path_prefix",
        )
    ]


# ---------------------------------------------------------------- agents: releases, rejected flags


def check_agents(ctx: Context) -> list[Finding]:
    """Each known agent's installed version against the release the test bed runs."""
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


# ------------------------------------------------- scheduling: cron, the scheduler, the last check

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
    if ctx.table is not None or ctx.table_error is not None:
        return ctx.table
    try:
        ctx.table = cron.read_table().text
    except ConfigError as error:
        ctx.table_error = str(error)
    return ctx.table


def schedulers(ctx: Context) -> list[Installed]:
    """Every scheduler that runs the heartbeat (read once; unreadable ones left out)."""
    if ctx.schedulers is None:
        text = crontab_text(ctx)
        found, _ = watch.installed(ctx.settings, table=text if text is not None else "")
        ctx.schedulers = found
    return ctx.schedulers


def check_cron(ctx: Context) -> list[Finding]:
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
        entry = cron.find_entry(text)
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
    text = crontab_text(ctx)
    kept = watch.self_watch(ctx.settings, ctx.now, table=text if text is not None else "")
    if kept.status is watch.WatchStatus.OK:
        return [Finding("last_check", Level.OK, kept.message)]
    if kept.status is watch.WatchStatus.LATE:
        if kept.via == "cron":
            fix = (
                "see that cron runs (`pgrep -x cron` / `systemctl status cron`) and "
                f"read {ctx.settings.state_dir / 'cron.log'}"
            )
        else:
            fix = f"see `heartbeat schedule show --via {kept.via}` and its log in the state folder"
        return [Finding("last_check", Level.FAIL, kept.message, fix)]
    if kept.status is watch.WatchStatus.NEVER:
        return [
            Finding(
                "last_check",
                Level.WARN,
                kept.message,
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


# --------------------------------------------------------------------------- the fleet


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
