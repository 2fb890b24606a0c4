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
from heartbeat.signatures import Signature, clean, compile_signature
from memory_schema.shell import tokens as shell_tokens

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["command_words", "resolve_folder"]

SHIPPED = ("codex", "ralphy", "claude", "gemini")
#: How many of a pane's first lines ``recognise_output`` reads for a banner.
BANNER_LINES = 60
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
    #: Its npm packages: ``npx @openai/codex`` runs codex.
    packages: tuple[str, ...] = ()
    #: A line it prints at start (``OpenAI Codex v0.169.0``): names it when its command does not.
    banner: re.Pattern[str] | None = None

    def runs(self, word: str) -> bool:
        """Whether a command's program *word* is this agent: its name, or its package."""
        if os.path.basename(word) in self.commands:
            return True
        package = re.sub(r"(?<=.)@[^/@]*$", "", word)
        return package in self.packages

    def home(self, command: str, env: Mapping[str, str]) -> str | None:
        """The agent's own folder (credentials, records): ``CODEX_HOME``, ``~/.claude`` …

        A ``VAR=value`` assignment in the command wins over the environment. The folder is
        resolved however it is spelled (``~``, ``$HOME``, ``${HOME}``, a symlink): ``~`` and
        ``$VAR`` from *env*, then ``os.path.realpath``. A single-quoted value is literal.
        """
        if not self.account_env:
            return None
        found = re.search(
            rf"(?<!\S){re.escape(self.account_env)}=((?:'[^']*'|\"[^\"]*\"|[^\s'\"])+)", command
        )
        folder = found.group(1) if found else env.get(self.account_env)
        return resolve_folder(folder or self.account_default or "", env)

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
        packages=tuple(raw.get("packages", ())),
        banner=re.compile(raw["banner"]) if raw.get("banner") else None,
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
    their JSON copy saves it the TOML parser's import and parse. The copy is
    keyed on the package's version and each file's content (its CRC-32: a few
    kilobytes read), never on mtimes alone — package managers that normalise
    them (Nix) would otherwise keep serving an old release's signatures. A copy
    that cannot be read or written is ignored.
    """
    import json
    import zlib

    from heartbeat import __version__

    # beside this module (the package is installed as files; importlib.resources costs more)
    here = pathlib.Path(__file__).parent
    texts = {stem: (here / f"{stem}.toml").read_bytes() for stem in (*SHIPPED, "common")}
    key = [__version__, [[stem, len(b), zlib.crc32(b)] for stem, b in texts.items()]]
    cache = cache_dir / CACHE_FILE if cache_dir is not None else None
    if cache is not None:
        try:
            kept = json.loads(cache.read_bytes())
            if isinstance(kept, dict) and kept.get("key") == key:
                return t.cast("dict[str, dict[str, t.Any]]", kept["data"])
        except (OSError, ValueError, KeyError):
            pass
    import tomllib

    data = {stem: tomllib.loads(text.decode("utf-8")) for stem, text in texts.items()}
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

    def agent_of(self, command: str) -> str | None:
        """The name of the agent *command* runs (None: no profile recognises it)."""
        profile = self.recognise(command)
        return profile.name if profile else None

    def recognise(self, command: str) -> Profile | None:
        """The agent a command runs: the first word in command position naming a profile.

        Environment assignments, ``env``, ``exec``, ``nohup``, ``npx`` and a
        folder before the program name are skipped; ``cd DIR &&`` is a command
        of its own. Returns None for a command that runs no known agent.
        """
        for word in command_words(command):
            for profile in self.agents:
                if profile.runs(word):
                    return profile
        return None

    def recognise_output(self, lines: Sequence[str]) -> Profile | None:
        """The agent whose banner is among the first ``BANNER_LINES`` of a pane's *lines*.

        For a command that names no agent (``./agent.sh``, an alias): codex exec's
        ``OpenAI Codex v…``, ralphy's ``Starting Ralphy with …``, gemini's YOLO notice.
        The first line that is some profile's banner decides; None when none is.
        Claude Code prints nothing at start (``claude -p``): never recognised this way.
        """
        for raw in lines[:BANNER_LINES]:
            line = clean(raw)
            for profile in self.agents:
                if profile.banner is not None and profile.banner.search(line):
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


# --------------------------------------------------------------- reading a command line

ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
PREFIXES = frozenset(
    {"env", "exec", "nohup", "npx", "bunx", "command", "time", "nice", "caffeinate"}
)
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@functools.lru_cache(maxsize=256)
def _real(path: str) -> str:
    # a check asks the same account folders once per session: the links are read once
    return os.path.realpath(path)


def resolve_folder(folder: str, env: Mapping[str, str]) -> str | None:
    """*folder* as one path however it is spelled: quotes, ``~``, ``$VAR``/``${VAR}``, symlinks.

    ``~`` and the variables come from *env* (HOME falling back to the user's); a variable
    *env* lacks stays as written. A single-quoted folder is taken literally, as the shell
    does. Returns None for an empty one.
    """
    literal = len(folder) >= 2 and folder[0] == folder[-1] == "'"
    folder = folder.strip("'\"")
    if not folder:
        return None
    if not literal:
        home = env.get("HOME") or os.path.expanduser("~")
        if folder == "~" or folder.startswith("~/"):
            folder = home + folder[1:]
        else:
            folder = os.path.expanduser(folder)
        values = {**env, "HOME": home}
        folder = _VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), m.group()), folder)
    return _real(os.path.normpath(folder))


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
    for words in simple_commands(command):
        for start, end in words:
            token = command[start:end].strip("'\"")
            if ASSIGNMENT.match(token) or token in PREFIXES or token.startswith("-"):
                continue
            found.append((start, end))
            break
    return found


#: The operators that end a simple command (a redirection does not).
_CONTROL = frozenset({";", "&", "&&", "|", "||", ";;", "(", ")", "\n"})


def simple_commands(command: str) -> list[list[tuple[int, int]]]:
    """*command*'s words as spans, grouped by simple command (cut at ``;``, ``&&``, ``|`` …).

    Read by memory_schema's shell reader, the one that reads every command from a
    note; a command it cannot read (an open quote) has no simple commands.
    """
    return [list(group) for group in _split(command)]


@functools.lru_cache(maxsize=1024)
def _split(command: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    try:
        found = shell_tokens(command)
    except ValueError:
        return ()
    groups: list[list[tuple[int, int]]] = [[]]
    for token in found:
        if not token.operator:
            groups[-1].append((token.start, token.end))
        elif token.text in _CONTROL:
            groups.append([])
    return tuple(tuple(g) for g in groups if g)


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


def agent_words(command: str, profile: Profile) -> list[tuple[int, int]] | None:
    """The word spans of the simple command that runs *profile*'s agent (None: none does)."""
    for words in simple_commands(command):
        for start, end in words:
            token = command[start:end].strip("'\"")
            if ASSIGNMENT.match(token) or token in PREFIXES or token.startswith("-"):
                continue
            if profile.runs(token):
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
