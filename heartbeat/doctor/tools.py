"""Doctor checks of the programs a check runs: tmux and its socket, codex, ralphy,
git, and the notifier."""

from __future__ import annotations

import os
import shlex
import stat

from heartbeat.doctor.model import (
    Context,
    Finding,
    Level,
    first_line,
    quoted,
    run,
    source,
)

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
    from heartbeat.errors import TmuxError
    from heartbeat.tmux import Tmux

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
    from heartbeat import scope
    from heartbeat.errors import TmuxError
    from heartbeat.tmux import Tmux

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
    from heartbeat.notify import channels
    from heartbeat.outbox import MAX_ATTEMPTS, waiting

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
