"""The pinned agents: where they are cached, and installing them there with npm.

The pins live in ``heartbeat/profiles/pins.toml``. The cache is
``$HEARTBEAT_AGENTS_CACHE/<hash of pins.toml>`` (default ``~/.cache/heartbeat-agents``, the
real user's home from the password database, not ``$HOME``: the tests point HOME at a
temporary folder), so bumping a pin installs into a new folder and the old one stays valid
for branches that still pin it. An install runs at most once at a time (a lock file) and is
complete only when its stamp ``installed.json`` exists.

``python -m tests.realagents.install`` installs them (``.ci/run`` does) and prints the folder
of their binaries.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pathlib
import pwd
import shutil
import subprocess
import sys
import tomllib
import typing as t

REPO = pathlib.Path(__file__).resolve().parents[2]
PINS = REPO / "heartbeat" / "profiles" / "pins.toml"
STAMP = "installed.json"
INSTALL_TIMEOUT = 900  # seconds: four packages over a slow registry mirror


class Pin(t.NamedTuple):
    agent: str
    package: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


class NotInstalled(Exception):
    """The agents are not in the cache and could not be installed; the message says why."""


def pins() -> list[Pin]:
    data = tomllib.loads(PINS.read_text(encoding="utf-8"))
    return [Pin(name, row["package"], row["version"]) for name, row in data["agents"].items()]


def pin(agent: str) -> Pin:
    return next(p for p in pins() if p.agent == agent)


def real_home() -> pathlib.Path:
    return pathlib.Path(pwd.getpwuid(os.getuid()).pw_dir)


def cache_root() -> pathlib.Path:
    configured = os.environ.get("HEARTBEAT_AGENTS_CACHE")
    if configured:
        return pathlib.Path(configured).expanduser()
    return real_home() / ".cache" / "heartbeat-agents"


def cache_dir() -> pathlib.Path:
    digest = hashlib.sha256(PINS.read_bytes()).hexdigest()[:12]
    return cache_root() / digest


def bin_dir() -> pathlib.Path:
    return cache_dir() / "node_modules" / ".bin"


def installed() -> bool:
    return (cache_dir() / STAMP).is_file() and all(
        (bin_dir() / name).exists() for name in ("codex", "claude", "gemini", "ralphy")
    )


def install() -> pathlib.Path:
    """Install the pinned agents into the cache (once; others wait on the lock).

    Raises NotInstalled with npm's last lines when npm is missing or fails. Idempotent: a
    complete install is left as it is.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise NotInstalled("npm is not on PATH (Debian: apt-get install nodejs npm)")
    target = cache_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed():
            return bin_dir()
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        env = {**os.environ, "HOME": str(real_home()), "npm_config_update_notifier": "false"}
        argv = [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund"]
        argv += ["--loglevel=error", *(p.spec for p in pins())]
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
            )
        except subprocess.TimeoutExpired as exc:
            raise NotInstalled(f"npm install timed out after {INSTALL_TIMEOUT} s") from exc
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
            raise NotInstalled(f"npm install failed (exit {done.returncode}):\n{tail}")
        stamp = {"pins": [p.spec for p in pins()], "pins_file": PINS.read_text()}
        (target / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        if not installed():
            raise NotInstalled(f"npm install left no agent binaries in {bin_dir()}")
    return bin_dir()


def main() -> int:
    try:
        print(install())
    except NotInstalled as exc:
        print(f"heartbeat test bed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
