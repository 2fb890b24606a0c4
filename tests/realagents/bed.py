"""The test bed: a real agent, configured against the fake API, in a real tmux pane.

``prepare(scenario, root, fake, bin_dir)`` builds a private world under ``root`` — HOME, a
git repository to work in, the agent's own configuration (a ``CODEX_HOME`` whose
``config.toml`` points a ``model_providers`` entry at the fake; ``ANTHROPIC_BASE_URL`` for
Claude Code; ``GOOGLE_GEMINI_BASE_URL`` for gemini-cli) — and returns a ``Bed``: the folders
and the environment the agent needs. ``start(bed, socket, name)`` runs the scenario's command
in a tmux session with the seed's anatomy (``cd DIR && PATH=…:$PATH COMMAND; EXIT_CODE=$?;
echo 'EXITED:' $EXIT_CODE; sleep 999999``); ``finish(bed, socket, name)`` waits for the
scenario's end (the hook's line, or for a running scenario the request it waits on) and
returns a ``Run``: the pane text, the exit code and what the agent recorded on disk.

Nothing here reaches beyond 127.0.0.1: the agents' telemetry, update checks and error
reporting are switched off in their configuration and environment.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shlex
import subprocess
import time
import typing as t

from tests.realagents import records
from tests.realagents.normalize import normalize

if t.TYPE_CHECKING:
    from tests.realagents.fakeapi import FakeAPI
    from tests.realagents.scenarios import Scenario

WIDTH, HEIGHT = 200, 50
FAKE_KEY = "sk-fake-0123456789abcdef"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class Bed(t.NamedTuple):
    scenario: Scenario
    root: pathlib.Path
    home: pathlib.Path
    workdir: pathlib.Path
    bin_dir: pathlib.Path
    env: dict[str, str]  # what the agent's pane needs on top of the inherited environment
    key: str  # the fake API's scenario key (the first segment of base_url's path)
    base_url: str

    def command(self) -> str:
        return self.scenario.command

    def dirs(self) -> list[str]:
        """What normalize() turns into <dir>: the run's root (also as Claude Code's project
        slug of it) and the agents' cache."""
        root = str(self.root)
        slug = "".join(c if c.isalnum() else "-" for c in root)
        return [root, slug, str(self.bin_dir), str(self.bin_dir.parent.parent)]


class Run(t.NamedTuple):
    text: str  # the pane, as captured (tmux strips the escape sequences)
    exit_code: int | None  # from the hook's EXITED line; None while the agent runs
    records: dict[str, t.Any]  # what the agent wrote to disk (see records.py)

    def normalized(self, bed: Bed) -> str:
        return normalize(self.text, bed.dirs())


def anatomy(bed: Bed) -> str:
    """The seed's pane command (coding-sessions.md), without the notification."""
    return (
        f"cd {shlex.quote(str(bed.workdir))} && "
        f"PATH={shlex.quote(str(bed.bin_dir))}:$PATH {bed.command()}; "
        "EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; sleep 999999"
    )


def git_repo(path: pathlib.Path) -> None:
    """A repository with one commit, dated two minutes ago (before any session starts)."""
    path.mkdir(parents=True, exist_ok=True)
    then = f"@{int(time.time()) - 120} +0000"
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": then, "GIT_COMMITTER_DATE": then}
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    (path / "README.md").write_text("# demo\n")
    subprocess.run(["git", "-C", str(path), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(path), "commit", "-qm", "init"], check=True, env=env)


def prepare(
    scenario: Scenario,
    root: pathlib.Path,
    fake: FakeAPI,
    bin_dir: pathlib.Path,
    home: pathlib.Path | None = None,
    tag: str = "",
) -> Bed:
    """Folders, configuration and environment for one run of ``scenario`` under ``root``."""
    home = home or root / "home"
    home.mkdir(parents=True, exist_ok=True)
    workdir = root / "work"
    if scenario.git:
        git_repo(workdir)
    else:
        workdir.mkdir(parents=True, exist_ok=True)
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    key = f"{scenario.api}~{tag}" if tag else scenario.api
    base = fake.base(key)
    env = {
        "HOME": str(home),
        "TMPDIR": str(tmp),  # codex declines helper binaries under a CODEX_HOME in $TMPDIR
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "NO_UPDATE_NOTIFIER": "1",
        **GIT_ENV,
    }
    if scenario.agent in {"codex", "ralphy"}:
        env.update(_codex_home(root / "codex", base, scenario))
    if scenario.agent == "claude":
        env.update(_claude_env(home, base, scenario))
    if scenario.agent == "gemini":
        env.update(_gemini_env(home, base, scenario))
    for name, text in scenario.files.items():
        (workdir / name).write_text(text)
    return Bed(scenario, root, home, workdir, bin_dir, env, key, base)


def _codex_home(codex_home: pathlib.Path, base: str, scenario: Scenario) -> dict[str, str]:
    codex_home.mkdir(parents=True, exist_ok=True)
    chatgpt = scenario.auth == "chatgpt"
    lines = [
        'model_provider = "fakeapi"',
        "check_for_update_on_startup = false",
        # ChatGPT's own endpoints (apps, plugins, usage) go to the fake too, never out.
        f'chatgpt_base_url = "{base}/backend-api/"',
        "",
        "[analytics]",
        "enabled = false",
        "",
        "[feedback]",
        "enabled = false",
        "",
        # ChatGPT apps and plugins are MCP servers on chatgpt.com: nothing a run here needs.
        "[features]",
        "apps = false",
        "plugins = false",
        "",
        "[model_providers.fakeapi]",
        'name = "fakeapi"',
        f'base_url = "{base}/v1"',
        'wire_api = "responses"',
        f"request_max_retries = {scenario.retries}",
        f"stream_max_retries = {scenario.stream_retries}",
        "requires_openai_auth = true" if chatgpt else 'env_key = "FAKEAPI_KEY"',
    ]
    (codex_home / "config.toml").write_text("\n".join(lines) + "\n")
    env = {"CODEX_HOME": str(codex_home), "FAKEAPI_KEY": FAKE_KEY}
    if chatgpt:
        _chatgpt_auth(codex_home, stale=scenario.name.startswith("refresh"))
        env["CODEX_REFRESH_TOKEN_URL_OVERRIDE"] = f"{base}/oauth/token"
        del env["FAKEAPI_KEY"]
    return env


def _jwt(claims: dict[str, t.Any]) -> str:
    def part(value: dict[str, t.Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def _chatgpt_auth(codex_home: pathlib.Path, stale: bool) -> None:
    """An auth.json as `codex login` writes it for a ChatGPT Plus account (fake tokens)."""
    now = int(time.time())
    auth_claims = {
        "chatgpt_account_id": "acct-fake",
        "chatgpt_plan_type": "plus",
        "chatgpt_user_id": "user-fake",
    }
    id_token = _jwt(
        {
            "email": "dev@example.invalid",
            "exp": now + 3600,
            "https://api.openai.com/auth": auth_claims,
        }
    )
    access = _jwt(
        {"exp": (now - 3600) if stale else (now + 3600), "https://api.openai.com/auth": auth_claims}
    )
    last_refresh = (
        "2026-01-01T00:00:00Z" if stale else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    )
    auth = {
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": id_token,
            "access_token": access,
            "refresh_token": "rt-fake",
            "account_id": "acct-fake",
        },
        "last_refresh": last_refresh,
    }
    path = codex_home / "auth.json"
    path.write_text(json.dumps(auth, indent=2))
    path.chmod(0o600)


def _claude_env(home: pathlib.Path, base: str, scenario: Scenario) -> dict[str, str]:
    env = {
        "ANTHROPIC_BASE_URL": base,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_BUG_COMMAND": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
        "CLAUDE_CODE_MAX_RETRIES": str(scenario.retries),
    }
    if scenario.auth == "key":
        env["ANTHROPIC_API_KEY"] = FAKE_KEY
    if scenario.auth == "oauth":  # a subscriber's token, as `claude setup-token` prints one
        env["CLAUDE_CODE_OAUTH_TOKEN"] = "sk-ant-oat01-fake"
    return env


def _gemini_env(home: pathlib.Path, base: str, scenario: Scenario) -> dict[str, str]:
    """~/.gemini/settings.json: API-key auth, no usage statistics, telemetry or updates."""
    security: dict[str, t.Any] = {"folderTrust": {"enabled": scenario.name == "untrusted"}}
    if scenario.auth == "key":
        security["auth"] = {"selectedType": "gemini-api-key"}
    settings = {
        "general": {
            "enableAutoUpdate": False,
            "enableAutoUpdateNotification": False,
            "maxAttempts": scenario.retries + 1,
        },
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "security": security,
    }
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings, indent=2))
    env = {
        "GOOGLE_GEMINI_BASE_URL": base,
        "GEMINI_CLI_NO_RELAUNCH": "true",
        "COLORTERM": "truecolor",  # as in the terminals users run; else a warning per run
    }
    if scenario.auth == "key":
        env["GEMINI_API_KEY"] = FAKE_KEY
    return env


# ------------------------------------------------------------------------ tmux


def tmux(socket: pathlib.Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["tmux", "-S", str(socket), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=30,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def start(
    bed: Bed, socket: pathlib.Path, name: str, server_env: dict[str, str] | None = None
) -> None:
    """A session running the scenario with the seed's anatomy; the bed's env set for it.

    The env goes both into the tmux client's environment (so a server started by this call
    has it globally, and sessions heartbeat recreates on it inherit it) and into the session
    (-e), which is what counts when the server already runs.
    """
    flags: list[str] = []
    for key, value in bed.env.items():
        flags += ["-e", f"{key}={value}"]
    tmux(
        socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        str(WIDTH),
        "-y",
        str(HEIGHT),
        *flags,
        anatomy(bed),
        env={**bed.env, **(server_env or {})},
    )


def kill_server(socket: pathlib.Path) -> None:
    subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True, timeout=30)


def capture(socket: pathlib.Path, name: str) -> str:
    return tmux(socket, "capture-pane", "-p", "-J", "-t", f"={name}:", "-S", "-", "-E", "-")


def wait_for(socket: pathlib.Path, name: str, text: str, seconds: float = 120) -> None:
    """Until the pane shows *text*: a hang guard of two minutes (the agents answer in seconds)."""
    from libtmux.test.retry import retry_until

    if not retry_until(lambda: text in capture(socket, name), seconds, raises=False):
        raise AssertionError(f"{text!r} not seen in {name}: {capture(socket, name)[-2000:]}")


def exit_code(text: str) -> int | None:
    for line in reversed(text.splitlines()):
        if line.startswith("EXITED: "):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None


def finish(bed: Bed, socket: pathlib.Path, name: str, fake: FakeAPI, timeout: float = 180) -> Run:
    """Wait for the scenario's end; the pane text, the exit code and the agent's records.

    A scenario that ends with the agent still running (``until`` is a text) ends when that
    text is in the pane and the pane has been quiet for a second. Raises TimeoutError with
    the pane's last lines when neither comes.
    """
    deadline = time.monotonic() + timeout
    until = bed.scenario.until
    text = ""
    while time.monotonic() < deadline:
        text = capture(socket, name)
        if until == "exit":
            if "EXITED: " in text:
                break
        elif (fake.seen(bed.key) if until == "@request" else until in text) and _settled(
            socket, name, text
        ):
            text = capture(socket, name)
            break
        time.sleep(0.2)
    else:
        raise TimeoutError(f"{bed.scenario.id}: {until!r} not seen; pane ends:\n{text[-1500:]}")
    return Run(text, exit_code(text), records.collect(bed))


def _settled(socket: pathlib.Path, name: str, text: str) -> bool:
    time.sleep(1.0)
    return capture(socket, name) == text
