"""Field cases: end-to-end checks against inputs taken from tmux's manual, the real agents'
binaries and bundles, and notes as an assistant writes them (DESIGN §3–§5).

Shared here: an injected-clock check, tmux helpers for servers other than the stable one,
and "field" agents — tiny programs named ``codex``, ``claude``, ``gemini``, ``ralphy`` or
``npx`` that print lines the real release prints (taken from its binary or bundle) and
exit, or keep working.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import typing as t

import pendulum
from libtmux.test.retry import retry_until

from heartbeat.check import CheckResult, run_check
from heartbeat.config import load_settings
from heartbeat.tmux import Tmux
from tests import helpers

#: Codex's own banner lines (tests/realagents/transcripts/codex/*.txt), printed on stderr.
CODEX_BANNER = (
    "OpenAI Codex v0.169.0 (research preview)\n"
    "--------\n"
    "workdir: {dir}\n"
    "model: gpt-6.1-sol\n"
    "provider: openai\n"
    "approval: never\n"
    "sandbox: workspace-write [workdir, /tmp, $TMPDIR]\n"
    "reasoning effort: none\n"
    "reasoning summaries: none\n"
    "session id: 019a7c3e-5b1f-7d22-9c1e-2f4b8a6d0e13\n"
    "--------\n"
    "user\n"
    "{task}\n"
)

FIELD_AGENT = '''#!/usr/bin/env python3
"""A field agent: prints what ~/.field/<folder>/ holds, then exits or works on."""
import os, pathlib, sys, time  # noqa: E401
here = pathlib.Path(os.environ["HOME"]) / ".field" / str(pathlib.Path.cwd()).replace("/", "_")
name = pathlib.Path(sys.argv[0]).name
if name == "npx" and sys.argv[1:2] == ["@openai/codex"]:
    os.execvp("codex", ["codex", *sys.argv[2:]])
for stream, part in ((sys.stdout, "out"), (sys.stderr, "err")):
    path = here / part
    if path.exists():
        stream.write(path.read_text(encoding="utf-8"))
        stream.flush()
code = (here / "code").read_text().strip() if (here / "code").exists() else "0"
if code == "forever":
    while True:
        time.sleep(3600)
sys.exit(int(code))
'''


def field_bin(tmp_path: pathlib.Path, *names: str) -> pathlib.Path:
    """A folder of field agents named *names*."""
    folder = tmp_path / "field-bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        script = folder / name
        script.write_text(FIELD_AGENT, encoding="utf-8")
        script.chmod(0o755)
    return folder


def script(work: pathlib.Path, *, out: str = "", err: str = "", code: int | str = 0) -> None:
    """What the field agent run in *work* prints and how it ends ("forever": keeps running)."""
    here = pathlib.Path(os.environ["HOME"]) / ".field" / str(work.resolve()).replace("/", "_")
    here.mkdir(parents=True, exist_ok=True)
    for part, text in (("out", out), ("err", err)):
        path = here / part
        if text:
            path.write_text(text, encoding="utf-8")
        elif path.exists():
            path.unlink()
    (here / "code").write_text(str(code))


def use_field_agents(tmp_path: pathlib.Path, *names: str, **config: object) -> pathlib.Path:
    """Field agents first on the pane's PATH (path_prefix) and the test's; returns the folder."""
    folder = field_bin(tmp_path, *names)
    os.environ["PATH"] = f"{folder}:{os.environ['PATH']}"
    config.setdefault("second_look_seconds", 0)
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=f"{folder}:{helpers.AGENTS}", **config
    )
    return folder


def project(notes_dir: pathlib.Path, name: str) -> pathlib.Path:
    """A git repository of its own beside the notes."""
    folder = notes_dir.parent / name
    if not (folder / ".git").is_dir():
        helpers.git_repo(folder)
    return folder


def check_at(
    offset: float = 0.0, *, now: pendulum.DateTime | None = None, **kwargs: t.Any
) -> CheckResult:
    when = (now or pendulum.now()).add(seconds=offset)
    return run_check(load_settings(), when, sleep=lambda _: None, **kwargs)


def session(result: CheckResult, name: str) -> t.Any:
    found = [s for s in result.sessions if s.name == name]
    assert found, f"{name} not in {[s.name for s in result.sessions]}: {result.problems}"
    return found[0]


def runs(tmp_path: pathlib.Path) -> list[str]:
    log = tmp_path / "runs.log"
    return log.read_text().splitlines() if log.exists() else []


def sessions(socket: pathlib.Path) -> list[str]:
    listing = Tmux(socket).run("list-sessions", "-F", "#{session_name}")
    return sorted(listing.stdout.split()) if listing.returncode == 0 else []


def panes(socket: pathlib.Path, target: str = "") -> list[dict[str, str]]:
    """Every pane of the server (or of session *target*): id, pid, dead, command, start."""
    fields = ("pane_id", "pane_pid", "pane_dead", "pane_current_command", "session_name")
    fmt = "\t".join(f"#{{{f}}}" for f in fields)
    args = ["list-panes", "-s", "-t", f"={target}", "-F", fmt] if target else []
    args = args or ["list-panes", "-a", "-F", fmt]
    listing = Tmux(socket).run(*args)
    rows = [line.split("\t") for line in listing.stdout.splitlines() if line]
    return [dict(zip(fields, row, strict=True)) for row in rows]


def tmux_at(socket: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tmux", "-S", str(socket), *args], capture_output=True, text=True, check=False
    )


def sh(line: str, cwd: pathlib.Path | None = None) -> None:
    """Run a line as the user's shell would."""
    subprocess.run(["sh", "-c", line], check=True, env=os.environ.copy(), cwd=cwd)


def wait_for(socket: pathlib.Path, name: str, text: str, seconds: float = 30) -> None:
    helpers.wait_for_text(socket, name, text, seconds)


def wait_command(socket: pathlib.Path, pane: str, command: str, seconds: float = 30) -> None:
    """Until *pane*'s foreground command is *command*."""

    def current() -> str:
        return tmux_at(socket, "display", "-p", "-t", pane, "#{pane_current_command}").stdout

    if not retry_until(lambda: command in current(), seconds, raises=False):
        raise AssertionError(f"{pane} runs {current()!r}, not {command!r}")


def kill_servers(*sockets: pathlib.Path) -> None:
    for sock in sockets:
        if sock.exists():
            tmux_at(sock, "kill-server")
