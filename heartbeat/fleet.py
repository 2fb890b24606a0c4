"""Several machines, one view (DESIGN §9): every host's own heartbeat, read over OpenSSH.

Each host stays in charge of its own sessions: its scheduler runs its own
`heartbeat check`. The fleet only reads. ``fleet_status`` runs each configured
host's ``heartbeat status --json`` over ``ssh`` — in parallel threads, answers
in configuration order, this machine first as ``local`` — and ``fleet_report``
its ``heartbeat report --json``; both merge the answers.

ssh is asked to fail rather than wait or ask: ``BatchMode=yes`` (no password or
host-key prompt: an unknown or changed host key is an error, as ssh judges it),
``ConnectTimeout`` (the TCP connect and the banner), ``ServerAliveInterval`` (a
connection that goes silent), and a hard timeout on the process (a host whose
heartbeat never answers). Connections are shared (``ControlMaster=auto``,
``ControlPersist``) through a socket per host in the state folder. A master
that died leaves its socket behind: ssh unlinks it itself (the socket refuses);
a master that is alive but wedged would keep every client waiting, so a socket
found on disk is first asked ``ssh -O check`` with a short timeout, and removed
when no master answers.

``serve_argv`` is the other end: the forced command of the fleet's key
(`heartbeat fleet serve`) reads ``SSH_ORIGINAL_COMMAND`` and allows only
`heartbeat status --json` and `heartbeat report --json [--since WHEN]`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import hashlib
import json
import os
import pathlib
import re
import shlex
import stat
import sys
import time
import typing as t
import zoneinfo

from heartbeat import proc
from heartbeat.config import LOCAL_HOST, FleetHost, FleetSettings
from heartbeat.errors import ExitCode, UsageError
from heartbeat.schedule.job import heartbeat_command

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from heartbeat.config import Settings

#: Seconds ``ssh -O check`` may take to say a shared connection's master is alive.
MASTER_CHECK_TIMEOUT = 2.0
#: The longest folder a control socket may live in: a socket path holds at most 107
#: bytes, and ssh binds ``PATH.`` plus 16 random characters before renaming it.
MAX_CONTROL_DIR = 107 - 1 - 20 - 17
#: What the forced command runs: the command words after `heartbeat`.
ALLOWED = ("status --json", "report --json [--since WHEN]")
#: ``--since WHEN`` (DESIGN §8): yesterday, today, HH:MM, 12h / 30m / 2d, an ISO date-time.
WHEN_RE = re.compile(
    r"yesterday|today|[0-2]?\d:[0-5]\d|\d{1,4}[mhd]"
    r"|\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?"
)
#: Outcomes of a report's sessions (DESIGN §8), most urgent first: how `fleet report`
#: orders the needs-you list across hosts.
URGENCY = (
    "misconfigured",
    "gave_up",
    "blocked",
    "failed",
    "died",
    "waiting_input",
    "stalled",
    "not_owned",
    "held",
)


class SshError(t.NamedTuple):
    """What ssh's own last words (exit status 255) mean, and how to fix it."""

    pattern: re.Pattern[str]
    what: str
    fix: str


#: ssh's error lines, first match wins; ``{ssh}`` is the host's destination.
SSH_ERRORS = (
    SshError(
        re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed"),
        "host key changed: ssh refused the connection",
        "if the host was reinstalled, check its new fingerprint, then `ssh-keygen -R HOST` "
        "and `ssh {ssh}` once by hand",
    ),
    SshError(
        re.compile(r"host key is known|Host key verification failed|No .* host key is known"),
        "host key unknown: ssh will not connect to a host it has never seen in batch mode",
        "connect once by hand (`ssh {ssh}`) and check the fingerprint it shows",
    ),
    SshError(
        re.compile(r"Permission denied|Too many authentication failures"),
        "key refused: the host did not accept any of ssh's keys",
        "install the fleet's key there: `heartbeat fleet key` prints the authorized_keys line",
    ),
    SshError(
        re.compile(r"Connection refused"),
        "unreachable: connection refused",
        "is sshd running on the host, on that port?",
    ),
    SshError(
        re.compile(r"timed out|Timeout, server .* not responding"),
        "unreachable: no answer in time",
        "is the host up and its ssh port open? (`ssh -v {ssh}` shows where it stops)",
    ),
    SshError(
        re.compile(r"Could not resolve hostname|Name or service not known"),
        "unreachable: unknown host name",
        "check `ssh` of the host in the config (a destination or an ~/.ssh/config alias)",
    ),
    SshError(
        re.compile(r"No route to host|Network is unreachable|Connection reset|closed by remote"),
        "unreachable: the network dropped the connection",
        "is the host up? (`ssh -v {ssh}` shows where it stops)",
    ),
)


@dataclasses.dataclass(frozen=True)
class HostAnswer:
    """One host's answer: its ``heartbeat … --json`` object, or what went wrong.

    ``reachable`` is whether ssh got through (a host that answered garbage was
    reached); ``error`` is None only when ``answer`` is the host's JSON object.
    """

    name: str
    reachable: bool
    error: str | None
    seconds: float
    answer: dict[str, t.Any] | None = None
    #: Whether the call went through an existing shared connection.
    shared: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.answer is not None

    @property
    def last_check(self) -> str | None:
        """When the host's own scheduled check last ran (its ``last_check``), ISO 8601."""
        value = (self.answer or {}).get("last_check")
        return value if isinstance(value, str) else None

    @property
    def keeps_schedule(self) -> bool | None:
        """Whether the host's heartbeat keeps its schedule; None when it cannot say.

        Read from the host's ``self_watch`` sentence (``heartbeat.schedule.watch.judge``
        words it "keeps its schedule" or "missed its schedule").
        """
        watch = (self.answer or {}).get("self_watch")
        if not isinstance(watch, str):
            return None
        if "keeps its schedule" in watch:
            return True
        if "missed its schedule" in watch:
            return False
        return None

    def status_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "reachable": self.reachable,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "last_check": self.last_check,
            "keeps_schedule": self.keeps_schedule,
            "self_watch": (self.answer or {}).get("self_watch"),
            "shared": self.shared,
            "status": self.answer,
        }

    def report_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "reachable": self.reachable,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "shared": self.shared,
            "report": self.answer,
        }


@dataclasses.dataclass(frozen=True)
class FleetStatus:
    """`heartbeat fleet status`: every host's `status --json`, in configuration order."""

    checked_at: str
    hosts: list[HostAnswer]

    @property
    def exit_code(self) -> int:
        """As `status`: 1 when a host needs attention, a host that could not be read included."""
        bad = any(
            not host.ok or (host.answer or {}).get("exit_code", 1) != 0 for host in self.hosts
        )
        return int(ExitCode.ATTENTION if bad else ExitCode.OK)

    def rows(self) -> list[dict[str, object]]:
        """One row per session of every host (a host without sessions or answer: one row)."""
        rows: list[dict[str, object]] = []
        for host in self.hosts:
            common = {
                "host": host.name,
                "last_check": host.last_check,
                "keeps_schedule": host.keeps_schedule,
                "error": host.error,
            }
            sessions = (host.answer or {}).get("sessions") or []
            if not sessions:
                rows.append({**common, "session": None, "diagnosis": None, "action": None})
            for session in sessions:
                rows.append(
                    {
                        **common,
                        "session": session.get("name"),
                        "diagnosis": session.get("diagnosis"),
                        "action": session.get("action"),
                    }
                )
        return rows

    def to_json(self) -> dict[str, object]:
        return {
            "checked_at": self.checked_at,
            "hosts": [host.status_json() for host in self.hosts],
            "exit_code": self.exit_code,
        }


@dataclasses.dataclass(frozen=True)
class FleetReport:
    """`heartbeat fleet report`: every host's report (DESIGN §8), merged."""

    checked_at: str
    hosts: list[HostAnswer]

    @property
    def needs_you(self) -> list[dict[str, object]]:
        """Every host's needs-you list, most urgent first across hosts; a host that
        could not be read is one entry (``session`` None) at the top."""
        found: list[tuple[int, int, int, dict[str, object]]] = []
        for order, host in enumerate(self.hosts):
            if not host.ok:
                found.append(
                    (-1, order, 0, {"host": host.name, "session": None, "reason": host.error})
                )
                continue
            sessions = {s.get("name"): s for s in _dicts((host.answer or {}).get("sessions"))}
            for rank, name in enumerate((host.answer or {}).get("needs_you") or []):
                session = sessions.get(name, {})
                outcome = session.get("outcome")
                urgency = URGENCY.index(outcome) if outcome in URGENCY else len(URGENCY)
                reason = session.get("needs_you") or outcome
                found.append(
                    (urgency, order, rank, {"host": host.name, "session": name, "reason": reason})
                )
        return [entry for *_, entry in sorted(found, key=lambda item: item[:3])]

    @property
    def sessions(self) -> list[dict[str, object]]:
        return [
            {"host": host.name, **session}
            for host in self.hosts
            for session in _dicts((host.answer or {}).get("sessions"))
        ]

    @property
    def totals(self) -> dict[str, int]:
        """The hosts' totals added up (a total a host does not give counts 0)."""
        sums = {"sessions": 0, "commits": 0, "restarts": 0, "tokens": 0}
        for host in self.hosts:
            totals = (host.answer or {}).get("totals") or {}
            for key in sums:
                value = totals.get(key) if isinstance(totals, dict) else None
                if isinstance(value, int) and not isinstance(value, bool):
                    sums[key] += value
        return sums

    @property
    def exit_code(self) -> int:
        return int(ExitCode.ATTENTION if self.needs_you else ExitCode.OK)

    def to_json(self) -> dict[str, object]:
        return {
            "checked_at": self.checked_at,
            "needs_you": self.needs_you,
            "totals": self.totals,
            "sessions": self.sessions,
            "hosts": [host.report_json() for host in self.hosts],
            "exit_code": self.exit_code,
        }


def _dicts(value: object) -> list[dict[str, t.Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# -- ssh ---------------------------------------------------------------------------------------


def control_dir(settings: Settings) -> pathlib.Path:
    """The folder of the shared connections' sockets: ``ssh`` in the state folder.

    A socket path must fit in 107 bytes: when the state folder's is too long, a
    short folder of this user's in /tmp, named after the state folder, instead.
    """
    own = settings.state_dir / "ssh"
    if len(os.fsencode(own)) <= MAX_CONTROL_DIR:
        return own
    tag = hashlib.sha256(os.fsencode(settings.state_dir)).hexdigest()[:12]
    return pathlib.Path("/tmp") / f"heartbeat-ssh-{os.geteuid()}-{tag}"


def prepare_control_dir(folder: pathlib.Path) -> str | None:
    """Create *folder* (mode 700); None when it is safe to share connections through,
    else why not (another user owns it, or others may write it)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as error:
        return f"cannot create {folder} ({error.strerror}): connections are not shared"
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        return f"{folder} is not a folder of yours: connections are not shared"
    if stat.S_IMODE(info.st_mode) & 0o077:
        return f"{folder} is open to others: connections are not shared (chmod 700 it)"
    return None


def control_path(folder: pathlib.Path, host: FleetHost, fleet: FleetSettings) -> pathlib.Path:
    """The socket of *host*'s shared connection: a hash of how it is reached.

    Named by heartbeat rather than by ssh's ``%C`` so that a socket left behind
    can be found (and removed) without asking ssh.
    """
    key = "\0".join((host.ssh, str(fleet.ssh_config or "")))
    return folder / hashlib.sha256(key.encode()).hexdigest()[:20]


def ssh_argv(
    host: FleetHost,
    fleet: FleetSettings,
    remote: str,
    *,
    socket: pathlib.Path | None,
    ssh: str = "ssh",
) -> list[str]:
    """The ssh command line that runs *remote* on *host*: never a prompt, never a hang.

    *socket* None: no connection sharing. The destination comes after ``--``
    (the config refuses one that starts with ``-`` anyway).
    """
    alive = max(1, round(fleet.connect_timeout / 2))
    argv = [ssh]
    if fleet.ssh_config is not None:
        argv += ["-F", str(fleet.ssh_config)]
    argv += [
        "-T",  # no terminal: the answer is JSON
        "-x",
        "-a",
        "-o", "BatchMode=yes",
        "-o", f"ConnectTimeout={max(1, round(fleet.connect_timeout))}",
        "-o", f"ServerAliveInterval={alive}",
        "-o", "ServerAliveCountMax=2",
        "-o", "ClearAllForwardings=yes",
        "-o", "PermitLocalCommand=no",
    ]  # fmt: skip
    if socket is None:
        argv += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
    else:
        argv += [
            "-o", "ControlMaster=auto",
            "-o", f"ControlPath={socket}",
            "-o", f"ControlPersist={max(1, round(fleet.control_persist))}s",
        ]  # fmt: skip
    return [*argv, "--", host.ssh, remote]


def clear_stale_master(
    host: FleetHost, fleet: FleetSettings, socket: pathlib.Path, *, ssh: str = "ssh"
) -> bool:
    """Whether a live master holds *socket*; a socket no master answers is removed.

    A master killed outright leaves a socket that refuses connections (ssh
    itself then unlinks it); one that is stopped or wedged accepts and never
    answers, and would hold every client: ``ssh -O check`` is given
    ``MASTER_CHECK_TIMEOUT`` seconds. Only a socket file is ever removed.
    """
    try:
        if not stat.S_ISSOCK(socket.lstat().st_mode):
            return False
    except OSError:
        return False
    argv = [ssh] + (["-F", str(fleet.ssh_config)] if fleet.ssh_config else [])
    argv += ["-o", f"ControlPath={socket}", "-O", "check", "--", host.ssh]
    if proc.run(argv, timeout=MASTER_CHECK_TIMEOUT).ok:
        return True
    try:
        if stat.S_ISSOCK(socket.lstat().st_mode):
            socket.unlink()
    except OSError:
        pass
    return False


def explain(result: proc.Result, host: FleetHost, command: str, timeout: float) -> str:
    """One line on why *host* gave no answer: ssh's error, the host's, or the timeout."""
    said = (result.stderr.strip() or result.stdout.strip()).splitlines()
    last = said[-1].strip()[:300] if said else ""
    if result.error is not None:
        if result.missing:
            return "ssh is not installed here: install OpenSSH's client (openssh-client)"
        if result.returncode is None and "timed out" in result.error:
            return (
                f"no answer within {timeout:g} s: the host accepted the connection but "
                "neither it nor its heartbeat answered (is it overloaded, or is its "
                "heartbeat stuck?)"
            )
        return f"ssh could not run: {result.error}"
    if result.returncode == 255:
        everything = result.stderr
        for known in SSH_ERRORS:
            if known.pattern.search(everything):
                return f"{known.what} ({last}); {known.fix.format(ssh=host.ssh)}"
        return f"ssh failed ({last or 'exit 255'}); `ssh -v {host.ssh}` shows why"
    if result.returncode in (126, 127):
        return (
            f"no heartbeat there: `{command}` was not found or cannot run ({last}); install "
            f'heartbeat on the host or set heartbeat = "/path/to/heartbeat" for it'
        )
    return f"its heartbeat failed (exit {result.returncode}): {last or 'it said nothing'}"


def parse_answer(result: proc.Result, required: str) -> dict[str, t.Any] | None:
    """The host's JSON object when it is one with *required* (a list), else None."""
    if result.returncode not in (0, 1):
        return None
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(required), list):
        return None
    return data


def garbage(result: proc.Result, command: str) -> str:
    shown = result.stdout.strip()[:80]
    said = result.stderr.strip().splitlines()[-1:]
    what = repr(shown) if shown else "nothing" + (f" (it said {said[0][:200]!r})" if said else "")
    return (
        f"answered something that is not `{command}`'s JSON: {what}; is `heartbeat` "
        "on that host heartbeat, and recent enough?"
    )


def ask_host(
    host: FleetHost,
    fleet: FleetSettings,
    words: Sequence[str],
    *,
    required: str,
    folder: pathlib.Path | None,
    timeout: float,
    ssh: str = "ssh",
) -> HostAnswer:
    """Run ``HEARTBEAT WORDS`` on *host* over ssh; its answer or the error, never raises.

    Takes at most ``MASTER_CHECK_TIMEOUT`` (only with a socket on disk) plus
    ``connect_timeout`` plus *timeout* seconds.
    """
    started = time.monotonic()
    socket = None if folder is None else control_path(folder, host, fleet)
    shared = socket is not None and clear_stale_master(host, fleet, socket, ssh=ssh)
    remote = " ".join([host.heartbeat, *(shlex.quote(word) for word in words)])
    argv = ssh_argv(host, fleet, remote, socket=socket, ssh=ssh)
    limit = fleet.connect_timeout + timeout
    result = proc.run(argv, timeout=limit)
    seconds = time.monotonic() - started
    shown = shlex.join(["heartbeat", *words])
    reached = result.error is None and result.returncode != 255
    answer = parse_answer(result, required)
    if answer is not None:
        return HostAnswer(host.name, True, None, seconds, answer, shared)
    if reached and result.returncode in (0, 1):
        return HostAnswer(host.name, True, garbage(result, shown), seconds, None, shared)
    error = explain(result, host, host.heartbeat, limit)
    return HostAnswer(host.name, reached, error, seconds, None, shared)


def ask_local(words: Sequence[str], *, required: str, timeout: float) -> HostAnswer:
    """This machine's own ``heartbeat WORDS`` (this installation, this environment)."""
    started = time.monotonic()
    result = proc.run([*heartbeat_command(), *words], timeout=timeout)
    seconds = time.monotonic() - started
    answer = parse_answer(result, required)
    if answer is not None:
        return HostAnswer(LOCAL_HOST, True, None, seconds, answer)
    shown = shlex.join(["heartbeat", *words])
    if result.error is None and result.returncode in (0, 1):
        return HostAnswer(LOCAL_HOST, True, garbage(result, shown), seconds)
    said = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
    why = result.error or f"exit {result.returncode}"
    return HostAnswer(LOCAL_HOST, True, f"`{shown}` failed ({why}): {' '.join(said)}", seconds)


def ask_all(
    settings: Settings,
    words: Sequence[str],
    *,
    required: str,
    timeout: float,
    ssh: str = "ssh",
    share: bool = True,
) -> tuple[list[HostAnswer], list[str]]:
    """Every host's answer to ``heartbeat WORDS``, in parallel, in configuration order
    (``local`` first); and warnings (connections that could not be shared)."""
    fleet = settings.fleet
    warnings: list[str] = []
    folder: pathlib.Path | None = None
    if share and fleet.control_persist > 0 and fleet.hosts:
        folder = control_dir(settings)
        why = prepare_control_dir(folder)
        if why is not None:
            warnings.append(why)
            folder = None
    jobs: list[Callable[[], HostAnswer]] = []
    if fleet.local:
        jobs.append(lambda: ask_local(words, required=required, timeout=timeout))
    for host in fleet.hosts:
        jobs.append(
            lambda host=host: ask_host(  # type: ignore[misc]
                host, fleet, words, required=required, folder=folder, timeout=timeout, ssh=ssh
            )
        )
    if not jobs:
        return [], warnings
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(32, len(jobs))) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [future.result() for future in futures], warnings


def _now_iso(settings: Settings) -> str:
    zone = None
    if settings.timezone:
        zone = zoneinfo.ZoneInfo(settings.timezone)
    return datetime.datetime.now(zone).astimezone(zone).isoformat(timespec="seconds")


def fleet_status(
    settings: Settings, *, ssh: str = "ssh", share: bool = True
) -> tuple[FleetStatus, list[str]]:
    """Every host's `heartbeat status --json` (DESIGN §9), and warnings. Never raises
    for a host: a host that cannot be read is a row with its error. Read-only."""
    answers, warnings = ask_all(
        settings,
        ["status", "--json"],
        required="sessions",
        timeout=settings.fleet.command_timeout,
        ssh=ssh,
        share=share,
    )
    return FleetStatus(_now_iso(settings), answers), warnings


def fleet_report(
    settings: Settings, since: str | None = None, *, ssh: str = "ssh", share: bool = True
) -> tuple[FleetReport, list[str]]:
    """Every host's `heartbeat report --json [--since WHEN]` (DESIGN §8), merged.

    Raises UsageError for a WHEN that is not one of §8's forms.
    """
    words = ["report", "--json"]
    if since is not None:
        words += ["--since", check_when(since)]
    answers, warnings = ask_all(
        settings,
        words,
        required="sessions",
        timeout=2 * settings.fleet.command_timeout,
        ssh=ssh,
        share=share,
    )
    return FleetReport(_now_iso(settings), answers), warnings


# -- the forced command ------------------------------------------------------------------------


def check_when(value: str) -> str:
    """*value* when it is a WHEN of DESIGN §8 (``yesterday``, ``18:00``, ``12h``, an ISO
    date-time), else UsageError."""
    if len(value) > 40 or not WHEN_RE.fullmatch(value):
        raise UsageError(
            f"--since {value!r} is not a time heartbeat reads: write yesterday, today, "
            "HH:MM, 12h (or 30m, 2d) or an ISO date-time such as 2026-11-25T08:00"
        )
    return value


def serve_argv(original: str | None) -> list[str]:
    """What the forced command runs for the client's ``SSH_ORIGINAL_COMMAND``.

    Only ``… status --json`` and ``… report --json [--since WHEN]``; the words
    before ``status`` / ``report`` (the client's name for heartbeat) are ignored,
    never run. The command is split as words (``shlex``), never given to a
    shell. Raises UsageError for anything else.
    """
    refuse = (
        "this key may only run `heartbeat status --json` or `heartbeat report --json "
        "[--since WHEN]` (a forced command: heartbeat fleet serve)"
    )
    if not original or not original.strip():
        raise UsageError(f"no command given; {refuse}")
    if len(original) > 1000 or any(not (c.isprintable() or c == " ") for c in original):
        raise UsageError(f"refused a command that is not plain text; {refuse}")
    try:
        words = shlex.split(original)
    except ValueError:
        raise UsageError(f"refused {original[:100]!r}; {refuse}") from None
    starts = [i for i, word in enumerate(words) if word in {"status", "report"}]
    if not starts:
        raise UsageError(f"refused {original[:100]!r}; {refuse}")
    rest = words[starts[0] :]
    if rest == ["status", "--json"]:
        return rest
    if rest[:2] == ["report", "--json"]:
        tail = rest[2:]
        if not tail:
            return rest
        if len(tail) == 1 and tail[0].startswith("--since="):
            tail = ["--since", tail[0].partition("=")[2]]
        if len(tail) == 2 and tail[0] == "--since":
            try:
                return [*rest[:2], "--since", check_when(tail[1])]
            except UsageError as error:
                raise UsageError(f"{error}; {refuse}") from None
    raise UsageError(f"refused {original[:100]!r}; {refuse}")


def serve_exec_argv(argv: Sequence[str]) -> list[str]:
    """The full command line `fleet serve` replaces itself with: this interpreter's heartbeat."""
    return [sys.executable, "-m", "heartbeat", *argv]


# -- the key -----------------------------------------------------------------------------------

#: Key types an authorized_keys line may hold.
KEY_TYPE_RE = re.compile(
    r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com"
    r"|sk-ecdsa-sha2-nistp256@openssh\.com|ssh-dss)"
)


@dataclasses.dataclass(frozen=True)
class KeyLine:
    """The authorized_keys line of `heartbeat fleet key`, and how to install it."""

    line: str
    key_file: pathlib.Path
    command: str

    def howto(self, hosts: Sequence[FleetHost]) -> list[str]:
        names = [h.ssh for h in hosts] or ["HOST"]
        lines = [
            "Add the line above to ~/.ssh/authorized_keys on each host; from here, for example:",
        ]
        quoted = shlex.quote(self.line)
        for name in names:
            lines.append(
                f"  echo {quoted} | ssh {shlex.quote(name)} "
                "'umask 077; mkdir -p ~/.ssh && cat >> ~/.ssh/authorized_keys'"
            )
        lines += [
            "That key then runs only `heartbeat status --json` and `heartbeat report --json`",
            f"(no shell, no forwarding: restrict), whatever the client asks. {self.command} must",
            "be heartbeat's path on the host (--heartbeat PATH if it lives elsewhere there).",
            "Use a key of its own for this (ssh-keygen -t ed25519 -f ~/.ssh/heartbeat_fleet),",
            "named by IdentityFile for the hosts in your ssh config: the same key with a shell",
            "line earlier in authorized_keys would not be restricted.",
            "Then: heartbeat fleet status",
        ]
        return lines


def key_line(key_file: pathlib.Path, heartbeat: str | None = None) -> KeyLine:
    """The ``restrict,command="… fleet serve"`` line for the public key in *key_file*.

    *heartbeat* is heartbeat's command on the hosts (default: this installation's
    absolute path). Raises UsageError for a file that is not one public key, or a
    command that cannot be written inside the option's quotes.
    """
    try:
        text = key_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise UsageError(
            f"no public key at {key_file}: make one with `ssh-keygen -t ed25519 -f "
            f"{str(key_file).removesuffix('.pub')}`, or pass --key PUBKEY"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{key_file} cannot be read ({error}); pass --key PUBKEY") from None
    lines = [line for line in text.splitlines() if line.strip()]
    fields = lines[0].split() if len(lines) == 1 else []
    if len(fields) < 2 or not KEY_TYPE_RE.fullmatch(fields[0]):
        raise UsageError(
            f"{key_file} is not one OpenSSH public key (a line such as `ssh-ed25519 AAAA… "
            "you@host`); pass the .pub file with --key"
        )
    if heartbeat is not None and ('"' in heartbeat or "\\" in heartbeat or not heartbeat.strip()):
        raise UsageError(f"--heartbeat {heartbeat!r}: a path without quotes or backslashes")
    # sshd gives the forced command to the user's shell: the path is one quoted word
    # (a space, `;` or `$(` in it stays part of the path)
    program = shlex.join(heartbeat_command()) if heartbeat is None else shlex.quote(heartbeat)
    command = f"{program} fleet serve"
    return KeyLine(f'restrict,command="{command}" {" ".join(fields)}', key_file, command)
