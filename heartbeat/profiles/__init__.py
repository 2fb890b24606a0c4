"""Agent profiles: how each agent is recognised, what it prints, how it is fixed (data).

A profile is a TOML file shipped beside this module (``codex.toml``,
``ralphy.toml``, ``claude.toml``, ``gemini.toml``; ``common.toml`` holds the
lines every pane can show) or a ``[[profiles]]`` table of the configuration.
"Is this codex" is ``recognise(command)``, nowhere a substring test.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pathlib
import re
import types
import typing as t

from heartbeat.errors import ConfigError
from heartbeat.signatures import Signature, compile_signature

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

SHIPPED = ("codex", "ralphy", "claude", "gemini")
#: Exit-code and signature kinds a profile may map to a diagnosis.
EXIT_KINDS = ("config", "auth", "rate_limit")


class Rewrite(t.NamedTuple):
    """A flag the agent no longer accepts, and what replaces it."""

    flag: str
    replacement: str
    removed_in: str

    def apply(self, command: str) -> str:
        """*command* with the flag replaced as a whole word (unchanged when absent)."""
        pattern = rf"(?<!\S){re.escape(self.flag)}(?!\S)"
        return re.sub(pattern, lambda _: self.replacement, command)


class Profile(t.NamedTuple):
    """One agent, as data."""

    name: str
    commands: tuple[str, ...]
    signatures: tuple[Signature, ...]
    login_hint: str = ""
    parallel_hint: str = ""
    account_env: str | None = None
    account_default: str | None = None
    reset_zone: str = "local"
    reads_codex_log: bool = False
    exit_codes: Mapping[int, str] = types.MappingProxyType({})
    rewrites: tuple[Rewrite, ...] = ()
    engines: Mapping[str, str] = types.MappingProxyType({})
    default_engine: str | None = None
    version_args: tuple[str, ...] = ()
    help_args: tuple[str, ...] = ()
    #: Whose records to read (``codex`` rollouts, ``claude`` transcripts); None: none.
    records: str | None = None
    #: A pane line that names the agent's session id (group ``id``).
    session_id: re.Pattern[str] | None = None
    #: The flag that sets the session id at start (``--session-id``).
    session_flag: str | None = None
    #: What replaces the task to resume a conversation (``{id}``, ``{prompt}``); () none.
    resume: tuple[str, ...] = ()
    #: The credentials file in the agent's folder (a change releases an auth block).
    credentials: str | None = None

    def home(self, command: str, env: Mapping[str, str]) -> str | None:
        """The agent's own folder (credentials, records): ``CODEX_HOME``, ``~/.claude`` …

        A ``VAR=value`` assignment in the command wins over the environment.
        """
        if not self.account_env:
            return None
        found = re.search(rf"(?<!\S){re.escape(self.account_env)}=(\S+)", command)
        folder = found.group(1).strip("'\"") if found else env.get(self.account_env)
        home = env.get("HOME") or os.path.expanduser("~")
        folder = folder or (self.account_default or "").replace("~", home, 1)
        return os.path.normpath(os.path.expanduser(folder)) if folder else None

    def account(self, command: str, env: Mapping[str, str]) -> str | None:
        """Which account the session runs on: its agent's folder (None: unknown)."""
        folder = self.home(command, env)
        return f"{self.name}:{folder}" if folder else None


def _profile(raw: Mapping[str, t.Any], where: str, *, check: bool = True) -> Profile:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a profile needs a string 'name'")
    commands = raw.get("commands", [])
    if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
        raise ConfigError(f"{where}: profile {name!r}: commands must be a list of strings")
    signatures = tuple(
        compile_signature(s, f"{where}: profile {name!r}", check=check)
        for s in raw.get("signature", [])
    )
    exit_codes: dict[int, str] = {}
    for code, kind in (raw.get("exit_codes") or {}).items():
        if kind not in EXIT_KINDS or not str(code).lstrip("-").isdigit():
            raise ConfigError(
                f"{where}: profile {name!r}: exit_codes maps a number to one of "
                f"{', '.join(EXIT_KINDS)}, not {code!r} = {kind!r}"
            )
        exit_codes[int(code)] = kind
    rewrites = tuple(
        Rewrite(str(r["flag"]), str(r["replacement"]), str(r.get("removed_in", "")))
        for r in raw.get("rewrite", [])
    )
    text = {k: raw[k] for k in ("login_hint", "parallel_hint", "reset_zone") if k in raw}
    return Profile(
        name=name,
        commands=tuple(commands),
        signatures=signatures,
        account_env=raw.get("account_env"),
        account_default=raw.get("account_default"),
        reads_codex_log=bool(raw.get("reads_codex_log", False)),
        exit_codes=exit_codes,
        rewrites=rewrites,
        engines=dict(raw.get("engines") or {}),
        default_engine=raw.get("default_engine"),
        version_args=tuple(raw.get("version_args", ())),
        help_args=tuple(raw.get("help_args", ())),
        records=raw.get("records"),
        session_id=re.compile(raw["session_id"], re.M) if raw.get("session_id") else None,
        session_flag=raw.get("session_flag"),
        resume=tuple(raw.get("resume", ())),
        credentials=raw.get("credentials"),
        **text,
    )


#: The copy of the shipped profiles' data kept in the state folder (see ``shipped_data``).
CACHE_FILE = "profiles-cache.json"


def _read(stem: str, cache_dir: pathlib.Path | None = None) -> Profile:
    # the shipped patterns are tested; each is compiled when a line first needs it
    data = shipped_data(cache_dir)[stem]
    return _profile(data, f"heartbeat/profiles/{stem}.toml", check=False)


@functools.cache
def shipped_data(cache_dir: pathlib.Path | None = None) -> dict[str, dict[str, t.Any]]:
    """The shipped TOML files as data, by stem: read from *cache_dir*'s copy while unchanged.

    A check runs every minute and the files change only with heartbeat itself:
    their JSON copy (keyed on each file's size and mtime) saves it the TOML
    parser's import and parse. A copy that cannot be read or written is ignored.
    """
    import json

    # beside this module (the package is installed as files; importlib.resources costs more)
    here = pathlib.Path(__file__).parent
    files = {stem: here / f"{stem}.toml" for stem in (*SHIPPED, "common")}
    stats = {stem: path.stat() for stem, path in files.items()}
    key = [[stem, info.st_size, info.st_mtime_ns] for stem, info in stats.items()]
    cache = cache_dir / CACHE_FILE if cache_dir is not None else None
    if cache is not None:
        try:
            kept = json.loads(cache.read_bytes())
            if isinstance(kept, dict) and kept.get("key") == key:
                return t.cast("dict[str, dict[str, t.Any]]", kept["data"])
        except (OSError, ValueError, KeyError):
            pass
    import tomllib

    data = {stem: tomllib.loads(path.read_text("utf-8")) for stem, path in files.items()}
    if cache is not None:
        from memory_schema import atomic_write

        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(cache, json.dumps({"key": key, "data": data}).encode(), mode=0o600)
    return data


@functools.cache
def shipped(cache_dir: pathlib.Path | None = None) -> tuple[Profile, ...]:
    """The shipped profiles, in SHIPPED order (*cache_dir*: see ``shipped_data``)."""
    return tuple(_read(stem, cache_dir) for stem in SHIPPED)


@functools.cache
def common(cache_dir: pathlib.Path | None = None) -> Profile:
    """The lines every pane can show (the completion hook, prompts)."""
    return _read("common", cache_dir)


class Profiles(t.NamedTuple):
    """The profiles of one run: the configuration's first, then the shipped ones."""

    agents: tuple[Profile, ...]
    #: The configuration's own signatures: they apply to every session, before the profiles'.
    configured: tuple[Signature, ...] = ()
    #: The lines every pane can show (None: the shipped ``common`` profile).
    everywhere: Profile | None = None

    def named(self, name: str) -> Profile | None:
        return next((p for p in self.agents if p.name == name), None)

    def recognise(self, command: str) -> Profile | None:
        """The agent a command runs: the first word in command position naming a profile.

        Environment assignments, ``env``, ``exec``, ``nohup``, ``npx`` and a
        folder before the program name are skipped; ``cd DIR &&`` is a command
        of its own. Returns None for a command that runs no known agent.
        """
        for word in command_words(command):
            base = os.path.basename(word)
            for profile in self.agents:
                if base in profile.commands:
                    return profile
        return None

    def signatures(self, profile: Profile | None, command: str = "") -> tuple[Signature, ...]:
        """What to match in a session of *profile*: its own, its engine's, then everywhere's.

        A command of no known agent (a wrapper script, say) is matched against
        every profile's shapes.
        """
        found = list(self.configured)
        if profile is None:
            # a wrapper script or an agent of no profile: every agent's shapes
            for agent in self.agents:
                found += agent.signatures
        else:
            found += profile.signatures
            engine = self.engine(profile, command)
            if engine is not None:
                found += engine.signatures
        found += (self.everywhere or common()).signatures
        return tuple(found)

    def engine(self, profile: Profile, command: str) -> Profile | None:
        """The agent a wrapper (ralphy) runs: by its flag, else its default."""
        if not profile.engines:
            return None
        words = set(command.split())
        name = next((e for flag, e in profile.engines.items() if flag in words), None)
        return self.named(name or profile.default_engine or "")

    def account(self, command: str, env: Mapping[str, str]) -> str | None:
        """The account a session's agent (or its engine) runs on; None when unknown."""
        profile = self.recognise(command)
        if profile is None:
            return None
        engine = self.engine(profile, command)
        return (engine or profile).account(command, env)


def load(
    extra_profiles: Sequence[Mapping[str, t.Any]] = (),
    extra_signatures: Sequence[Mapping[str, t.Any]] = (),
    cache_dir: pathlib.Path | None = None,
) -> Profiles:
    """The run's profiles: the configuration's ``[[profiles]]`` before the shipped ones.

    *cache_dir* (the state folder) keeps a copy of the shipped ones' data
    (``shipped_data``).
    """
    added = tuple(_profile(raw, "config profiles") for raw in extra_profiles)
    signatures = tuple(compile_signature(s, "config signatures") for s in extra_signatures)
    return Profiles(added + shipped(cache_dir), signatures, common(cache_dir))


_SEPARATOR = re.compile(r"&&|\|\||[;|&()\n]")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PREFIXES = frozenset({"env", "exec", "nohup", "npx", "command", "time", "nice", "caffeinate"})


def command_words(command: str) -> list[str]:
    """The program name of each simple command in a shell command line (quotes respected)."""
    return list(_command_words(command))


@functools.lru_cache(maxsize=1024)
def _command_words(command: str) -> tuple[str, ...]:
    # a check asks for each session's command a few times (agent, account, codex log)
    return tuple(command[start:end].strip("'\"") for start, end in _programs(command))


def _programs(command: str) -> list[tuple[int, int]]:
    """The span of each simple command's program word (assignments and prefixes skipped)."""
    found = []
    for words in _simple_commands(command):
        for start, end in words:
            token = command[start:end].strip("'\"")
            if _ASSIGNMENT.match(token) or token in _PREFIXES or token.startswith("-"):
                continue
            found.append((start, end))
            break
    return found


def _simple_commands(command: str) -> list[list[tuple[int, int]]]:
    """*command*'s words as spans, grouped by simple command (cut at ``;``, ``&&``, ``|`` …)."""
    return [list(group) for group in _split(command)]


@functools.lru_cache(maxsize=1024)
def _split(command: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    groups: list[list[tuple[int, int]]] = [[]]
    quote = ""
    start: int | None = None
    index = 0
    while index < len(command):
        char = command[index]
        step = 2 if char == "\\" and quote != "'" else 1
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            start = index if start is None else start
        elif char.isspace() or _SEPARATOR.match(command, index):
            if start is not None:
                groups[-1].append((start, index))
                start = None
            separator = _SEPARATOR.match(command, index)
            if separator:
                groups.append([])
                index = separator.end()
                continue
        elif start is None:
            start = index
        index += step
    if start is not None:
        groups[-1].append((start, len(command)))
    return tuple(tuple(g) for g in groups if g)


def agent_words(command: str, profile: Profile) -> list[tuple[int, int]] | None:
    """The word spans of the simple command that runs *profile*'s agent (None: none does)."""
    for words in _simple_commands(command):
        for start, end in words:
            token = command[start:end].strip("'\"")
            if _ASSIGNMENT.match(token) or token in _PREFIXES or token.startswith("-"):
                continue
            if os.path.basename(token) in profile.commands:
                return words
            break
    return None


def rewrite(profile: Profile | None, command: str) -> tuple[str, list[Rewrite]]:
    """*command* with every flag *profile*'s agent rejects replaced, and the rewrites used."""
    used = []
    for change in profile.rewrites if profile else ():
        fixed = change.apply(command)
        if fixed != command:
            used.append(change)
            command = fixed
    return command, used
