"""The demo's own stand-in ``codex``: a few ``codex exec`` runs of codex 0.169.0, replayed.

``heartbeat demo`` must run from an installed wheel with only Python and tmux around, so it
cannot use the real codex (it needs an account) nor the test suite's stand-ins (not in the
wheel). This one knows four scenarios, named by a word ``scenario:NAME`` in the task:

ok             looks, appends to README.md, fails to commit (``-s workspace-write`` keeps
               ``.git`` read-only), says so, exit 0
ratelimit      HTTP 429 until codex gives up, exit 1
auth           the ChatGPT login's refresh token was already used, exit 1
work-forever   runs commands forever

It prints only lines codex 0.169.0 prints (``LINES``; tests/test_standin_lines.py checks
each against real output), plus what its "model" says and its commands print.
Run as ``python -m heartbeat.demo.standin exec [-s MODE] TASK``; STANDIN_DELAY (seconds
per step, default 0.2) sets the pace.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import random
import re
import subprocess
import sys
import time
import uuid

RELEASE = "0.169.0"
REUSED = (
    "Your access token could not be refreshed because your refresh token was already used. "
    "Please log out and sign in again."
)
READ_ONLY = "Read-only file system"
#: codex's own lines ({name}: a value).
LINES: dict[str, str] = {
    "unexpected_argument": "error: unexpected argument '{arg}' found",
    "usage": "Usage: codex exec [OPTIONS] [PROMPT]",
    "banner": "OpenAI Codex v{version}",
    "rule": "--------",
    "workdir": "workdir: {dir}",
    "model": "model: gpt-6.1-sol",
    "provider": "provider: openai",
    "approval": "approval: never",
    "sandbox": "sandbox: {sandbox}",
    "sandbox_write": "sandbox: workspace-write [workdir, /tmp, $TMPDIR]",
    "effort": "reasoning effort: none",
    "summaries": "reasoning summaries: none",
    "session": "session id: {uuid}",
    "user": "user",
    "exec": "exec",
    "exec_command": "/bin/bash -lc {script} in {dir}",
    "exec_ok": " succeeded in {ms}ms:",
    "exec_failed": " exited {code} in {ms}ms:",
    "message": "codex",
    "tokens": "tokens used",
    "tokens_count": "{tokens}",
    "retry_limit": "ERROR: exceeded retry limit, last status: 429 Too Many Requests, "
    "request id: {request_id}",
    "refresh_status": "{time} ERROR codex_login::auth::manager: Failed to refresh token "
    "status=401 Unauthorized",
    "refresh_reused": "{time} ERROR codex_login::auth::manager: Failed to refresh token: " + REUSED,
    "error_reused": "ERROR: " + REUSED,
}
#: What the stand-in's "model" says and its commands print (codex prints it as it comes).
WORK = (
    ("**Reading the parser**", "sed -n '1,40p' src/parser.py", "def parse(text):"),
    ("**Running the tests**", "pytest -q -k 'parser'", "4 passed in 0.21s"),
)


def say(name: str, **values: object) -> None:
    values.setdefault("version", RELEASE)
    text(re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), LINES[name]))


def text(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def pause(factor: float = 1.0) -> None:
    try:
        seconds = float(os.environ.get("STANDIN_DELAY", "0.2"))
    except ValueError:
        seconds = 0.2
    time.sleep(max(0.0, seconds) * factor)


def stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run(script: str, output: str = "", code: int = 0) -> None:
    """One command of the model: ``exec``, the command, how it ended, what it printed."""
    quoted = f'"{script}"' if " " in script else script
    say("exec")
    say("exec_command", script=quoted, dir=pathlib.Path.cwd())
    pause()
    ms = random.randint(1, 90)
    if code:
        say("exec_failed", code=code, ms=ms)
    else:
        say("exec_ok", ms=ms)
    for line in output.splitlines():
        text(line)


def finish(message: str) -> int:
    say("message")
    text(message)
    say("tokens")
    say("tokens_count", tokens=f"{random.randint(4000, 9000):,}")
    return 0


def work(task: str, sandbox: str) -> int:
    """``ok``: the change goes into README.md; only danger-full-access may commit it."""
    text("**Inspecting the repository layout**")
    pause()
    cwd = pathlib.Path.cwd()
    run("ls", "\n".join(sorted(p.name for p in cwd.iterdir() if not p.name.startswith("."))))
    with (cwd / "README.md").open("a", encoding="utf-8") as handle:
        handle.write(f"\n- {task}: done\n")
    run(f"echo '- {task}: done' >> README.md")
    commit = f"git add -A && git commit -m '{task}'"
    if sandbox != "danger-full-access":
        run(commit, f"fatal: Unable to create '{cwd}/.git/index.lock': {READ_ONLY}", 128)
        tail = "; I could not commit it: .git is read-only in this sandbox."
    else:
        done = subprocess.run(
            ["git", "commit", "-qam", task], capture_output=True, text=True, check=False
        )
        run(commit, done.stdout + done.stderr, done.returncode)
        tail = " and committed it."
    return finish(f"Done: {task}. I updated `README.md`{tail}")


def play(scenario: str, task: str, sandbox: str) -> int:
    if scenario == "auth":
        say("refresh_status", time=stamp())
        say("refresh_reused", time=stamp())
    say("banner")
    say("rule")
    for name in ("workdir", "model", "provider", "approval"):
        say(name, dir=pathlib.Path.cwd())
    if sandbox == "workspace-write":
        say("sandbox_write")
    else:
        say("sandbox", sandbox=sandbox)
    for name in ("effort", "summaries"):
        say(name)
    say("session", uuid=uuid.uuid4())
    say("rule")
    say("user")
    text(task)
    pause()
    if scenario in ("ratelimit", "auth"):
        pause(2)
        name = "error_reused" if scenario == "auth" else "retry_limit"
        for _ in range(2):  # codex prints a fatal error twice
            say(name, request_id=f"req_{uuid.uuid4().hex[:24]}")
        return 1
    if scenario == "work-forever":
        while True:
            for thought, script, output in WORK:
                text(thought)
                pause()
                run(script, output)
    return work(" ".join(re.sub(r"scenario:\S+", "", task).split()), sandbox)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["exec"]:
        return 2
    sandbox, words = "read-only", []
    rest = iter(args[1:])
    for arg in rest:
        if arg in ("-s", "--sandbox"):
            sandbox = next(rest, sandbox)
        elif arg == "--dangerously-bypass-approvals-and-sandbox":
            sandbox = "danger-full-access"
        elif arg.startswith("-"):
            say("unexpected_argument", arg=arg)
            say("usage")
            return 2
        else:
            words.append(arg)
    task = " ".join(words)
    found = re.search(r"scenario:([\w-]+)", task)
    try:
        return play(found.group(1) if found else "ok", task, sandbox)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
