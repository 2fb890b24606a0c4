"""Settings: flags, then environment, then the TOML file, then defaults.

One function owns each location (llm's ``user_dir()``): ``config_path``,
``default_notes_dir``, ``default_state_dir``, ``codex_home``.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shlex
import typing as t

from heartbeat import proc
from heartbeat.errors import ConfigError

#: Where each setting may come from, highest first.
SOURCES = ("flag", "env", "config", "default")

ENV = {
    "notes_dir": "HEARTBEAT_NOTES_DIR",
    "socket": "HEARTBEAT_SOCKET",
    "state_dir": "HEARTBEAT_STATE_DIR",
    "notify": "HEARTBEAT_NOTIFY",
    "codex_home": "CODEX_HOME",
    "ping_url": "HEARTBEAT_PING_URL",
    "timezone": "HEARTBEAT_TZ",
    "digest_at": "HEARTBEAT_DIGEST_AT",
}
#: Settings whose empty value in the environment means "off", not "unset".
EMPTY_MEANS_OFF = {"notify", "digest_at"}


#: A fleet host's name as shown: letters, digits, ``.``, ``_`` and ``-``.
HOST_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
#: The name this machine has in the fleet's views.
LOCAL_HOST = "local"


@dataclasses.dataclass(frozen=True)
class FleetHost:
    """One ``[[fleet.hosts]]`` entry: shown as ``name``, reached as ``ssh``."""

    name: str
    #: An ssh destination (``user@host``, ``ssh://…``) or an ``~/.ssh/config`` alias.
    ssh: str
    #: The command that runs heartbeat on that host (its remote shell reads it).
    heartbeat: str = "heartbeat"


@dataclasses.dataclass(frozen=True)
class FleetSettings:
    """The ``[fleet]`` table (DESIGN §9): the hosts and how they are reached."""

    hosts: tuple[FleetHost, ...] = ()
    #: Passed as ``ssh -F``; None: ssh reads ``~/.ssh/config`` as usual.
    ssh_config: pathlib.Path | None = None
    connect_timeout: float = 5.0
    #: Seconds a host's heartbeat may take to answer once connected (a report: twice).
    command_timeout: float = 10.0
    #: Seconds a shared connection stays open after the last use; 0 turns sharing off.
    control_persist: float = 120.0
    #: Whether this machine is a row of the views too (as ``local``).
    local: bool = True

    def __str__(self) -> str:
        names = ", ".join(host.name for host in self.hosts) or "no hosts"
        sharing = f"shared {self.control_persist:g} s" if self.control_persist else "not shared"
        return f"{names} (connect {self.connect_timeout:g} s, {sharing})"


FLEET_KEYS = {
    "hosts",
    "ssh_config",
    "connect_timeout",
    "command_timeout",
    "control_persist",
    "local",
}
HOST_KEYS = {"name", "ssh", "heartbeat"}


def parse_fleet(value: object, where: str) -> FleetSettings:
    """The ``[fleet]`` table as settings; raises ConfigError naming the key that is wrong."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table ([fleet])")
    unknown = sorted(set(value) - FLEET_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(FLEET_KEYS))}"
        )
    numbers: dict[str, float] = {}
    for key in ("connect_timeout", "command_timeout", "control_persist"):
        if key not in value:
            continue
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ConfigError(f"{where}.{key} must be a number of seconds, not {number!r}")
        if number < 0 or (number == 0 and key != "control_persist") or number > 86400:
            raise ConfigError(
                f"{where}.{key} must be between 0 and 86400 seconds"
                + ("" if key == "control_persist" else " and not 0")
            )
        numbers[key] = float(number)
    local = value.get("local", True)
    if not isinstance(local, bool):
        raise ConfigError(f"{where}.local must be true or false, not {local!r}")
    ssh_config = value.get("ssh_config")
    if ssh_config is not None and (not isinstance(ssh_config, str) or not ssh_config):
        raise ConfigError(f"{where}.ssh_config must be a path string")
    hosts = value.get("hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, dict) for h in hosts):
        raise ConfigError(f"{where}.hosts must be a list of tables ([[fleet.hosts]])")
    parsed: list[FleetHost] = []
    for number, host in enumerate(hosts, 1):
        parsed.append(_fleet_host(host, f"{where}.hosts #{number}", {h.name for h in parsed}))
    return FleetSettings(
        hosts=tuple(parsed),
        ssh_config=expand(ssh_config) if ssh_config else None,
        local=local,
        **numbers,
    )


def _fleet_host(host: dict[str, t.Any], where: str, taken: set[str]) -> FleetHost:
    unknown = sorted(set(host) - HOST_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(HOST_KEYS))}"
        )
    for key in ("name", "ssh"):
        if not isinstance(host.get(key), str) or not host[key]:
            raise ConfigError(f"{where}: {key} is missing; every host needs a name and an ssh")
    name, ssh = host["name"], host["ssh"]
    if not HOST_NAME_RE.fullmatch(name):
        raise ConfigError(
            f"{where}: name {name!r} must be letters, digits, '.', '_' and '-' (at most 63)"
        )
    if name == LOCAL_HOST:
        raise ConfigError(f"{where}: the name {LOCAL_HOST!r} is this machine's; choose another")
    if name in taken:
        raise ConfigError(f"{where}: a second host is named {name!r}; names must differ")
    if ssh.startswith("-") or any(c.isspace() or not c.isprintable() for c in ssh):
        raise ConfigError(
            f"{where}: ssh {ssh!r} must be a destination (user@host, host or an ssh config "
            "alias): no spaces, not starting with '-'"
        )
    command = host.get("heartbeat", "heartbeat")
    if not isinstance(command, str) or not command.strip() or "\n" in command:
        raise ConfigError(f"{where}: heartbeat must be the command that runs heartbeat there")
    return FleetHost(name=name, ssh=ssh, heartbeat=command.strip())


@dataclasses.dataclass
class Settings:
    """Every setting of a run, with where each came from in ``sources``."""

    notes_dir: pathlib.Path
    socket: pathlib.Path
    state_dir: pathlib.Path
    codex_home: pathlib.Path
    notify: list[str] | None = None
    timezone: str | None = None
    ping_url: str | None = None
    config_file: pathlib.Path | None = None
    #: Earlier notes whose active sessions are still watched and carried over.
    days: int = 2
    stall_minutes: float = 20.0
    read_exit_seconds: float = 120.0
    max_restarts_per_hour: int = 3
    backoff_minutes: float = 1.0
    backoff_cap_minutes: float = 16.0
    healthy_reset_minutes: float = 60.0
    max_restarts_per_check: int = 3
    rate_limit_margin_minutes: float = 2.0
    rate_limit_backoff_minutes: float = 5.0
    rate_limit_backoff_cap_minutes: float = 120.0
    second_look_seconds: float = 2.0
    path_prefix: str = "/opt/homebrew/bin:/usr/local/bin"
    auto_ralph: bool = False
    #: "resume": a restart resumes the agent's conversation where its profile can; "fresh".
    restart_mode: str = "resume"
    #: What a resumed agent is told.
    continue_prompt: str = (
        "Continue the task you were working on; check git status and the files first."
    )
    notify_timeout: float = 10.0
    #: Where `openclaw message send` delivers (both needed), and the gateway's wake hook.
    notify_channel: str | None = None
    notify_target: str | None = None
    gateway_url: str | None = None
    gateway_token: str | None = None
    capture_lines: int = 200
    log_bytes_per_check: int = 4 * 1024 * 1024
    cron_grace_minutes: float = 5.0
    #: When the day's digest goes into the note (local HH:MM); "" turns it off (DESIGN §8).
    digest_at: str = "08:00"
    signatures: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    #: Agent profiles of the user's own ([[profiles]]), before the shipped ones.
    profiles: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    #: The other machines of `heartbeat fleet` ([fleet], [[fleet.hosts]]).
    fleet: FleetSettings = dataclasses.field(default_factory=lambda: FleetSettings())
    sources: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def codex_log(self) -> pathlib.Path:
        return self.codex_home / "log" / "codex-tui.log"

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value, source) rows for ``heartbeat config show``."""
        rows = []
        for field in dataclasses.fields(self):
            if field.name in {"sources"}:
                continue
            value = getattr(self, field.name)
            if field.name == "notify":
                shown = "off" if value is None else shlex.join(value)
            elif field.name in {"signatures", "profiles"}:
                shown = f"{len(value)} extra"
            elif field.name == "gateway_token":
                shown = "(set)" if value else ""
            elif field.name == "digest_at":
                shown = value or "off"
            else:
                shown = "" if value is None else str(value)
            rows.append((field.name, shown, self.sources.get(field.name, "default")))
        return rows


def expand(value: str | os.PathLike[str]) -> pathlib.Path:
    """A path with ``~`` and environment variables expanded (typer does neither)."""
    return pathlib.Path(os.path.expandvars(os.path.expanduser(os.fspath(value))))


def _home(env: t.Mapping[str, str]) -> pathlib.Path:
    return pathlib.Path(env.get("HOME") or os.path.expanduser("~"))


def config_path(env: t.Mapping[str, str]) -> pathlib.Path:
    """``HEARTBEAT_CONFIG``, else ``$XDG_CONFIG_HOME/heartbeat/config.toml``."""
    if env.get("HEARTBEAT_CONFIG"):
        return expand(env["HEARTBEAT_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return pathlib.Path(base) / "heartbeat" / "config.toml"


def default_notes_dir(env: t.Mapping[str, str]) -> pathlib.Path:
    """``~/.openclaw/workspace/memory`` where it exists, else ``./memory``."""
    openclaw = _home(env) / ".openclaw" / "workspace" / "memory"
    return openclaw if openclaw.is_dir() else pathlib.Path.cwd() / "memory"


def default_state_dir(env: t.Mapping[str, str]) -> pathlib.Path:
    base = env.get("XDG_STATE_HOME") or str(_home(env) / ".local" / "state")
    return pathlib.Path(base) / "heartbeat"


def default_socket(env: t.Mapping[str, str]) -> pathlib.Path:
    return _home(env) / ".tmux" / "sock"


def codex_home(env: t.Mapping[str, str]) -> pathlib.Path:
    """``CODEX_HOME`` when set, else ``~/.codex`` (where codex keeps auth and logs)."""
    return expand(env["CODEX_HOME"]) if env.get("CODEX_HOME") else _home(env) / ".codex"


def default_notify(env: t.Mapping[str, str]) -> list[str] | None:
    """``openclaw system event --text MSG --mode now`` when openclaw is on PATH."""
    if proc.which("openclaw", path=env.get("PATH")):
        return ["openclaw", "system", "event", "--text", "{message}", "--mode", "now"]
    return None


def parse_notify(value: str, where: str) -> list[str] | None:
    """A notify command string as an argument list; empty turns notification off."""
    if not value.strip():
        return None
    try:
        argv = shlex.split(value)
    except ValueError as error:
        raise ConfigError(
            f"{where}: the notify command cannot be split ({error}); fix its quotes"
        ) from None
    return argv


PATH_KEYS = {"notes_dir", "socket", "state_dir", "codex_home"}


def _coerce(key: str, value: object, where: str) -> object:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    if key not in fields or key in {"sources", "config_file"}:
        known = ", ".join(sorted(k for k in fields if k not in {"sources", "config_file"}))
        raise ConfigError(f"{where}: unknown setting {key!r}; known settings: {known}")
    if key in PATH_KEYS:
        if not isinstance(value, str | os.PathLike) or not os.fspath(value):
            raise ConfigError(f"{where}: {key} must be a path string")
        return expand(value)
    if key == "notify":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value or None
        if isinstance(value, str):
            return parse_notify(value, where)
        raise ConfigError(f"{where}: notify must be a command string or a list of strings")
    if key == "fleet":
        return parse_fleet(value, where)
    if key in {"signatures", "profiles"}:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(f"{where}: {key} must be a list of tables ([[{key}]])")
        return value
    default = getattr(Settings, key, None)
    expected: type = type(default) if default is not None else str
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")
        return value
    if expected in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
        if value < 0:
            raise ConfigError(f"{where}: {key} must not be negative")
        return expected(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, not {value!r}")
    if key == "digest_at" and value and not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        raise ConfigError(f'{where}: digest_at must be a local time such as "08:00", or ""')
    if key == "restart_mode" and value not in {"resume", "fresh"}:
        raise ConfigError(f'{where}: restart_mode must be "resume" or "fresh", not {value!r}')
    return value


def read_config_file(path: pathlib.Path) -> dict[str, t.Any]:
    """The TOML file's settings; {} when it does not exist. Raises ConfigError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    import tomllib  # only for a file there is

    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error}); fix the file") from None
    table = parsed.get("heartbeat", parsed)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [heartbeat] must be a table")
    return table


def load_settings(
    flags: t.Mapping[str, object] | None = None,
    env: t.Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting: flags, then environment, then the file, then defaults.

    Raises ConfigError naming the key (and file) of any setting that cannot be used.
    """
    env = os.environ if env is None else env
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    sources: dict[str, str] = {}
    cfg_path = config_path(env)
    file_values = read_config_file(cfg_path)
    values: dict[str, object] = {
        "notes_dir": default_notes_dir(env),
        "socket": default_socket(env),
        "state_dir": default_state_dir(env),
        "codex_home": codex_home(env),
        "notify": default_notify(env),
    }
    for key, value in file_values.items():
        values[key] = _coerce(key, value, f"{cfg_path}: {key}")
        sources[key] = f"config {cfg_path}"
    for key, var in ENV.items():
        if var in env and (env[var] or key in EMPTY_MEANS_OFF):
            if key == "notify":
                values[key] = parse_notify(env[var], var)
            else:
                values[key] = _coerce(key, env[var], var)
            sources[key] = f"env {var}"
    for key, value in flags.items():
        values[key] = _coerce(key, value, f"--{key.replace('_', '-')}")
        sources[key] = "flag"
    values["config_file"] = cfg_path if cfg_path.exists() else None
    settings = Settings(**values)  # type: ignore[arg-type]
    settings.sources = sources
    return settings
