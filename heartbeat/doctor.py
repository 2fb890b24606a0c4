"""`heartbeat doctor`: is everything a check needs in place? Each finding says how to fix it.

Read-only: it never starts a tmux server, never writes the crontab, a note or
the state. The checks are a table (``CHECKS``) of small functions over one
``Context``; each returns findings, and any ``fail`` makes the exit status 1.
What a check run by cron would see is judged with cron's PATH (from the
crontab entry) and the configured PATH prefix, not with this shell's.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import pathlib
import re
import shlex
import shutil
import stat
import subprocess
import typing as t

import memory_schema as ms
from heartbeat.errors import ConfigError, ExitCode

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import pendulum

    from heartbeat.config import Settings

#: Seconds any probe (tmux -V, codex login status, crontab -l) may take.
PROBE_TIMEOUT = 15.0
#: Where cron's PATH comes from when neither the entry nor the crontab sets one.
CRON_DEFAULT_PATH = "/usr/bin:/bin"
#: Folders that get cleaned behind a socket's back (the seed: "/tmp gets reaped by macOS").
TMP_FOLDERS = ("/tmp/", "/private/tmp/", "/var/folders/")


class Level(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: which check, how bad, what, how to fix."""

    check: str
    level: Level
    what: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.level:<4}  {self.what}"
        return f"{text}  — {self.fix}" if self.fix else text

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "level": str(self.level), "what": self.what, "fix": self.fix}


@dataclasses.dataclass
class DoctorResult:
    findings: list[Finding]

    @property
    def exit_code(self) -> int:
        failed = any(f.level is Level.FAIL for f in self.findings)
        return int(ExitCode.ATTENTION if failed else ExitCode.OK)

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def counts(self) -> dict[str, int]:
        counts = {str(level): 0 for level in Level}
        for finding in self.findings:
            counts[str(finding.level)] += 1
        return counts

    def to_json(self) -> dict[str, object]:
        return {
            "findings": [f.to_json() for f in self.findings],
            "counts": self.counts(),
            "exit_code": self.exit_code,
        }


@dataclasses.dataclass
class Context:
    """What every check reads: the settings, the clock, the environment, PATHs, crontab."""

    settings: Settings
    now: pendulum.DateTime
    env: Mapping[str, str]
    #: The PATH a check started from this shell uses (the prefix first, as check does).
    path: str
    #: The crontab's text, or None until read (``crontab_text``).
    table: str | None = None
    table_error: str | None = None
    config_finding: Finding | None = None

    def which(self, program: str, path: str | None = None) -> str | None:
        return shutil.which(program, path=self.path if path is None else path)


def with_prefix(prefix: str, path: str) -> str:
    """*path* with the folders of *prefix* that it lacks put first (``fix_process_path``)."""
    current = path.split(os.pathsep)
    missing = [p for p in prefix.split(os.pathsep) if p and p not in current]
    return os.pathsep.join([*missing, *current])


def load(
    flags: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None
) -> tuple[Settings, Finding]:
    """The settings, and a finding on the config file.

    A config file that cannot be used is a ``fail`` finding rather than an
    error (the doctor is what one runs when things are broken): the doctor
    goes on with the environment and defaults. Raises ConfigError only when a
    flag or environment variable itself is bad.
    """
    from heartbeat.config import config_path, load_settings

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
) -> DoctorResult:
    """Every check of ``CHECKS``, in order. Never raises for what it finds.

    *table* is the crontab's text (None: read it with ``crontab -l``).
    """
    env = os.environ if env is None else env
    ctx = Context(
        settings=settings,
        now=now,
        env=env,
        path=with_prefix(settings.path_prefix, env.get("PATH", os.defpath)),
        table=table,
        config_finding=config_finding,
    )
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(ctx))
    return DoctorResult(findings)


# --------------------------------------------------------------------------- helpers


def _run(argv: list[str], env: Mapping[str, str]) -> tuple[int | None, str]:
    """(exit status, stdout+stderr) of a short probe; None status when it could not run."""
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"did not answer in {PROBE_TIMEOUT:.0f} s"
    except OSError as error:
        return None, str(error.strerror or error)
    return result.returncode, (result.stdout + result.stderr).strip()


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _q(path: os.PathLike[str] | str) -> str:
    return shlex.quote(os.fspath(path))


def _loose(path: pathlib.Path) -> str | None:
    """memory_schema's reason why *path* is writable by others, without its fix clause."""
    reason = ms.loose_permissions(path)
    return None if reason is None else reason.split("; fix it")[0]


def _source(ctx: Context, key: str) -> str:
    return ctx.settings.sources.get(key, "default")


# --------------------------------------------------------------------------- the checks


def check_config(ctx: Context) -> list[Finding]:
    return [ctx.config_finding] if ctx.config_finding is not None else []


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
    status, output = _run([found, "-V"], ctx.env)
    if status != 0:
        return [Finding("tmux", Level.FAIL, f"{found} -V failed: {output}", "reinstall tmux")]
    return [Finding("tmux", Level.OK, f"{_first_line(output)} at {found}")]


def check_socket(ctx: Context) -> list[Finding]:
    from heartbeat.errors import TmuxError
    from heartbeat.tmux import Tmux

    socket = ctx.settings.socket
    where = f"{socket} ({_source(ctx, 'socket')})"
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
                f"`heartbeat launch` creates it, or `mkdir -m 700 {_q(folder)}`",
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
                f"chmod 700 {_q(folder)}",
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
                f"the next check restarts the sessions listed as active; `rm {_q(socket)}` is safe",
            )
        )
    else:
        findings.append(
            Finding(
                "socket",
                Level.FAIL,
                f"tmux on {socket}: {message}",
                f"look at it with `tmux -S {_q(socket)} list-sessions`; if it is not a tmux "
                "socket, point HEARTBEAT_SOCKET elsewhere",
            )
        )
    return findings


def check_notes_folder(ctx: Context) -> list[Finding]:
    folder = ctx.settings.notes_dir
    where = f"{folder} ({_source(ctx, 'notes_dir')})"
    fix_where = (
        "point HEARTBEAT_NOTES_DIR (or notes_dir in the config) at the folder of your daily notes"
    )
    if not folder.exists():
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {where} does not exist: every check exits 2",
                f"create it (mkdir -p {_q(folder)}) or {fix_where}",
            )
        ]
    if not folder.is_dir():
        return [
            Finding("notes", Level.FAIL, f"the notes folder {where} is not a folder", fix_where)
        ]
    loose = _loose(folder)
    if loose:
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {folder}: {loose}; the check refuses to act on it",
                f"chmod go-w {_q(folder)}",
            )
        ]
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {folder} cannot be read and written by this user",
                f"chmod u+rwx {_q(folder)} (or fix its owner)",
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
    loose = _loose(path)
    if loose:
        return [
            Finding(
                "note",
                Level.FAIL,
                f"today's note {path}: {loose}; the check refuses to act on it",
                f"chmod go-w {_q(path)}",
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
                f"chmod u+rw {_q(path)}",
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
    from heartbeat.state import load_state, state_path

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
                f"chmod u+rwx {_q(folder)}, or point HEARTBEAT_STATE_DIR elsewhere",
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
                f"chmod u+rw {_q(path)}",
            )
        ]
    import json

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
    status, output = _run([found, "login", "status"], env)
    said = _first_line(output) or f"exit status {status}"
    if status == 0:
        return [Finding("codex", Level.OK, f"codex at {found}: {said}")]
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
            "command), then `heartbeat notes resume NAME` for blocked sessions",
        )
    ]


def check_codex_log(ctx: Context) -> list[Finding]:
    home, log = ctx.settings.codex_home, ctx.settings.codex_log
    where = f"CODEX_HOME {home} ({_source(ctx, 'codex_home')})"
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
        return [Finding("codex_log", Level.WARN, f"{log}: {error.strerror}", f"ls -l {_q(log)}")]
    if not os.access(log, os.R_OK):
        return [
            Finding(
                "codex_log",
                Level.WARN,
                f"the codex log {log} cannot be read",
                f"chmod u+r {_q(log)}",
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
    source = _source(ctx, "notify")
    if notify is None:
        if source != "default":
            return [Finding("notify", Level.OK, f"notifications are off ({source})")]
        return [
            Finding(
                "notify",
                Level.WARN,
                "notifications are off: openclaw is not on PATH and no notify command is set",
                "install OpenClaw, or set HEARTBEAT_NOTIFY (or notify in the config) to a "
                "command that takes the message",
            )
        ]
    command = shlex.join(notify)
    found = ctx.which(notify[0])
    if not found:
        return [
            Finding(
                "notify",
                Level.FAIL,
                f"the notify command `{command}` ({source}) cannot run: "
                f"{notify[0]} is not on PATH; every notification would fail",
                f"install {notify[0]}, add its folder to path_prefix, or change the notify command",
            )
        ]
    extra = ""
    if os.path.basename(notify[0]) == "openclaw":
        extra = " (`openclaw system event` needs a running gateway: `openclaw gateway status`)"
    return [Finding("notify", Level.OK, f"notifications: `{command}` via {found}{extra}")]


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


# --------------------------------------------------------------------------- cron


def crontab_text(ctx: Context) -> str | None:
    """The crontab's text (read once), or None with ``ctx.table_error`` set."""
    if ctx.table is not None or ctx.table_error is not None:
        return ctx.table
    try:
        from heartbeat import cron
    except ImportError:  # pragma: no cover - the cron module ships with the package
        ctx.table_error = "cron support is not in this installation"
        return None
    try:
        ctx.table = cron.read_table().text
    except ConfigError as error:
        ctx.table_error = str(error)
    return ctx.table


_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_SCHEDULE = re.compile(r"^\s*(?:@\w+|(?:\S+\s+){4}\S+)\s+(.*)$")


@dataclasses.dataclass(frozen=True)
class CronEntry:
    """The heartbeat's crontab line, as cron will run it."""

    line: str
    schedule: str
    where: str
    #: PATH set inline by the entry (``env PATH=…`` or ``PATH=… cmd``), else None.
    inline_path: str | None
    #: The last ``PATH=`` line of the crontab above the entry, else None.
    table_path: str | None
    #: The program the entry runs (after env and assignments).
    program: str | None

    @property
    def path(self) -> str:
        return self.inline_path or self.table_path or CRON_DEFAULT_PATH


def parse_entry(line: str) -> tuple[str | None, str | None]:
    """(inline PATH, program) of a crontab entry line; (None, None) when unreadable."""
    match = _SCHEDULE.match(line)
    if not match:
        return None, None
    try:
        words = shlex.split(match.group(1).replace("\\%", "%"))
    except ValueError:
        return None, None
    index = 1 if words[:1] == ["env"] else 0
    path = None
    while index < len(words):
        assignment = _ASSIGNMENT.match(words[index])
        if assignment is None:
            if words[index].startswith("-") and words[0] == "env":
                index += 1
                continue
            break
        if assignment.group(1) == "PATH":
            path = assignment.group(2)
        index += 1
    return path, words[index] if index < len(words) else None


def find_entry(text: str) -> CronEntry | None:
    """The entry that runs the heartbeat: the managed block's, else a hand-written one.

    Raises the cron module's CrontabError (a ConfigError) for a broken block.
    """
    from heartbeat import cron

    schedule, where = cron.installed_schedule(text)
    if schedule is None:
        return None
    table_path: str | None = None
    blocks = cron.find_blocks(text)
    target = blocks[0].entry if blocks else None
    for raw in text.splitlines():
        line = raw.strip()
        assignment = _ASSIGNMENT.match(line)
        if assignment and assignment.group(1) == "PATH":
            table_path = assignment.group(2).strip().strip("'\"")
            continue
        if target is not None:
            if line == target:
                break
        elif cron.schedule_of(line) == schedule and "heartbeat" in line and "check" in line:
            target = line
            break
    if target is None:
        return None
    inline, program = parse_entry(target)
    return CronEntry(target, schedule, where or "entry", inline, table_path, program)


#: Tools a check run by cron needs on PATH, and how bad their absence is.
CRON_TOOLS: tuple[tuple[str, Level, str], ...] = (
    ("tmux", Level.FAIL, "the check cannot probe or restart anything"),
    ("codex", Level.FAIL, "restarted codex sessions would fail with 'command not found'"),
    ("git", Level.WARN, "finished sessions cannot be verified"),
    ("ralphy", Level.WARN, "restarted Ralph loops would fail with 'command not found'"),
)


def check_cron(ctx: Context) -> list[Finding]:
    text = crontab_text(ctx)
    if text is None:
        return [
            Finding(
                "crontab",
                Level.WARN,
                f"the crontab cannot be read: {ctx.table_error}",
                "install cron (Debian/Ubuntu: apt-get install cron), "
                "or run `heartbeat check` from another scheduler",
            )
        ]
    from heartbeat import cron

    try:
        entry = find_entry(text)
    except ConfigError as error:
        return [Finding("crontab", Level.FAIL, str(error), "see `crontab -l`")]
    if entry is None:
        return [
            Finding(
                "crontab",
                Level.WARN,
                "no heartbeat entry in the crontab: nothing runs the checks",
                "`heartbeat cron install` (every 5 minutes; --every 1m for every minute)",
            )
        ]
    words = cron.describe_schedule(entry.schedule)
    findings = [
        Finding("crontab", Level.OK, f"crontab: the {entry.where} runs heartbeat check {words}")
    ]
    findings.extend(_cron_path(ctx, entry))
    return findings


def _cron_path(ctx: Context, entry: CronEntry) -> list[Finding]:
    """What the entry's PATH (plus the configured prefix) gives a check run by cron."""
    source = (
        "set by the entry"
        if entry.inline_path
        else "a PATH= line of the crontab"
        if entry.table_path
        else "cron's default"
    )
    path = with_prefix(ctx.settings.path_prefix, entry.path)
    reinstall = "run `heartbeat cron install` again from this shell (it pins the folders it finds)"
    findings: list[Finding] = []
    program = entry.program
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
                    "cron_path",
                    Level.FAIL,
                    f"the crontab entry runs {program}, which cron cannot run "
                    "(moved or uninstalled?)",
                    reinstall,
                )
            )
    missing: list[tuple[str, Level, str, str]] = []
    for tool, level, why in CRON_TOOLS:
        if shutil.which(tool, path=path):
            continue
        here = ctx.which(tool)
        if here is None:
            continue  # not installed at all: its own finding says so
        missing.append((tool, level, why, str(pathlib.Path(here).parent)))
    notify = ctx.settings.notify
    if notify and not shutil.which(notify[0], path=path) and ctx.which(notify[0]):
        here = str(pathlib.Path(ctx.which(notify[0]) or ".").parent)
        missing.append((notify[0], Level.WARN, "notifications would fail", here))
    if not missing:
        findings.append(
            Finding("cron_path", Level.OK, f"under cron, PATH={path} ({source}) finds every tool")
        )
        return findings
    worst = Level.FAIL if any(level is Level.FAIL for _, level, _, _ in missing) else Level.WARN
    names = ", ".join(f"{tool} ({why})" for tool, _, why, _ in missing)
    folders = ":".join(dict.fromkeys(folder for *_, folder in missing))
    findings.append(
        Finding(
            "cron_path",
            worst,
            f"under cron, PATH={path} ({source}) lacks {names}",
            f"{reinstall}, or add {folders} to path_prefix in the config",
        )
    )
    return findings


def check_last_check(ctx: Context) -> list[Finding]:
    """The heartbeat watching itself: the last check against the crontab's schedule."""
    from heartbeat.state import load_state

    text = crontab_text(ctx)
    try:
        from heartbeat import cron
    except ImportError:  # pragma: no cover - the cron module ships with the package
        text = None
    if text is not None:
        watch = cron.self_watch(ctx.settings, ctx.now, table=text)
        status = cron.WatchStatus
        if watch.status is status.OK:
            return [Finding("last_check", Level.OK, watch.message)]
        if watch.status is status.LATE:
            return [
                Finding(
                    "last_check",
                    Level.FAIL,
                    watch.message,
                    "see that cron runs (`pgrep -x cron` / `systemctl status cron`) and "
                    f"read {ctx.settings.state_dir / 'cron.log'}",
                )
            ]
        if watch.status is status.NEVER:
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
                "run `heartbeat check` once, then let cron run it",
            )
        ]
    minutes = max(0.0, ctx.now.timestamp() - last) / 60
    return [Finding("last_check", Level.OK, f"last check {minutes:.0f} min ago (no schedule)")]


CHECKS: tuple[Callable[[Context], list[Finding]], ...] = (
    check_config,
    check_tmux,
    check_socket,
    check_notes_folder,
    check_today_note,
    check_state,
    check_codex,
    check_codex_log,
    check_ralphy,
    check_notify,
    check_git,
    check_cron,
    check_last_check,
)
