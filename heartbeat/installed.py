"""The agents installed here: their versions and the flags they reject, asked of the binaries.

Each binary is asked once per version: the answer is cached in the state
folder, keyed by the binary's path, size and mtime (an upgrade changes them).
``launch`` builds commands the installed codex accepts; ``notes list`` and
``doctor`` flag logged commands that use a flag it rejects.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
import os
import pathlib
import re
import shutil
import tomllib
import typing as t

from heartbeat import proc
from memory_schema import atomic_write

if t.TYPE_CHECKING:
    from heartbeat.profiles import Profile

CACHE_FILE = "agents.json"
TIMEOUT = 20.0
VERSION_RE = re.compile(r"\b(\d+\.\d+\.\d+)\b")


@dataclasses.dataclass(frozen=True)
class Installed:
    """One agent as installed on this machine (``path`` None: not on PATH)."""

    name: str
    path: str | None = None
    version: str | None = None
    #: Flags of the profile's rewrites that this version does not accept.
    rejects: tuple[str, ...] = ()
    #: The release the test bed runs (pins.toml).
    tested: str | None = None

    @property
    def newer_than_tested(self) -> bool:
        return bool(self.version and self.tested and _key(self.version) > _key(self.tested))

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["newer_than_tested"] = self.newer_than_tested
        return data


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def pins() -> dict[str, str]:
    """The tested release of each agent, from ``heartbeat/profiles/pins.toml``."""
    text = importlib.resources.files("heartbeat.profiles").joinpath("pins.toml").read_text()
    agents = tomllib.loads(text).get("agents", {})
    return {name: str(pin["version"]) for name, pin in agents.items() if "version" in pin}


def installed(
    profile: Profile, path: str | None, cache_dir: pathlib.Path | None, *, write: bool = True
) -> Installed:
    """Ask *profile*'s binary (found on *path*) its version and the flags it rejects.

    The answer is cached in *cache_dir* (not written when *write* is False:
    `doctor` changes nothing). Never raises: a missing binary, one that fails
    or hangs, or an unwritable cache gives what could be learnt.
    """
    tested = pins().get(profile.name)
    binary = next((b for c in profile.commands if (b := shutil.which(c, path=path))), None)
    if binary is None or not profile.version_args:
        return Installed(profile.name, binary, tested=tested)
    try:
        info = pathlib.Path(binary).stat()
    except OSError:
        return Installed(profile.name, binary, tested=tested)
    key = f"{os.path.realpath(binary)}:{info.st_size}:{info.st_mtime_ns}"
    cache = _read_cache(cache_dir)
    known = cache.get(profile.name)
    if isinstance(known, dict) and known.get("key") == key:
        rejects = tuple(str(f) for f in known.get("rejects", []))
        return Installed(profile.name, binary, known.get("version"), rejects, tested)
    version_text = _ask([binary, *profile.version_args])
    found = VERSION_RE.search(version_text or "")
    version = found.group(1) if found else None
    rejects = _rejected(profile, binary, version)
    cache[profile.name] = {"key": key, "version": version, "rejects": list(rejects)}
    if write:
        _write_cache(cache_dir, cache)
    return Installed(profile.name, binary, version, rejects, tested)


def _rejected(profile: Profile, binary: str, version: str | None) -> tuple[str, ...]:
    """The rewrite flags this binary rejects: absent from its help, else by release."""
    if not profile.rewrites:
        return ()
    help_text = _ask([binary, *profile.help_args]) if profile.help_args else None
    rejects = []
    for change in profile.rewrites:
        if help_text:
            if not re.search(rf"(?<![\w-]){re.escape(change.flag)}(?![\w-])", help_text):
                rejects.append(change.flag)
        elif version and change.removed_in and _key(version) >= _key(change.removed_in):
            rejects.append(change.flag)
    return tuple(rejects)


def _ask(argv: list[str]) -> str | None:
    done = proc.run(argv, timeout=TIMEOUT)
    return (done.stdout + done.stderr) if done.ok else None


def _read_cache(cache_dir: pathlib.Path | None) -> dict[str, t.Any]:
    if cache_dir is None:
        return {}
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(cache_dir: pathlib.Path | None, data: dict[str, t.Any]) -> None:
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(cache_dir / CACHE_FILE, json.dumps(data, indent=1).encode(), mode=0o600)
    except OSError:
        pass
