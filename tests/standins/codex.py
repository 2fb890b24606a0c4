"""Stand-in for OpenAI's ``codex`` CLI (``@openai/codex`` RELEASE), as seen from a tmux pane.

Run by the launcher ``tests/standins/bin/codex``. It prints only lines the real release
prints (``LINES``, checked by tests/test_standin_lines.py against real output) and behaves
like it where heartbeat can tell: exit codes, ``--full-auto`` rejected (removed in 0.147;
exit 2), each fatal ``ERROR:`` line printed twice, no run outside a git repository without
``--skip-git-repo-check`` (exit 1), and ``.git`` read-only unless the sandbox is
``danger-full-access`` (``-s workspace-write`` cannot commit). What the model says and
what its commands print (``CONTENT``) stands in for a model; codex prints any of it as is.

Usage::

    codex exec [-s MODE] [--dangerously-bypass-approvals-and-sandbox] [-m MODEL] [-C DIR]
               [-o FILE] [other exec flags] PROMPT
    codex login [status | --with-api-key]      codex logout      codex --version

The scenario is a word ``scenario:NAME`` in PROMPT (a restart replays it); default ``ok``.
``--json`` is accepted, but the human lines are printed (JSONL is not emulated).

Environment: STANDIN_DELAY (seconds per step, default 0.2), STANDIN_RESET (the usage limit's
reset, default ``3:15 PM``), STANDIN_FLAKY (failed runs before ``flaky`` works, default 1;
counted in ``./.standin-runs``), STANDIN_LOG (one line per run), CODEX_HOME.

Login state: ``codex login status`` says "Not logged in" (exit 1) while
``$CODEX_HOME/stand-in-logged-out`` exists. The ``auth*`` scenarios fail until ``codex login``
has run, then work like ``ok``; ``codex logout`` undoes that.
"""

from __future__ import annotations

import os
import pathlib
import random
import re
import shlex
import subprocess
import sys
import typing as t
import uuid

from tests.standins.common import (
    Stop,
    err,
    install_signals,
    is_tty,
    log_run,
    out,
    pause,
    render,
    sleep_forever,
)

RELEASE = "0.169.0"
DEFAULT_MODEL = "gpt-6.1-sol"
SCENARIO_RE = re.compile(r"scenario:([A-Za-z0-9_-]+)")

REFRESH = "Your access token could not be refreshed because your refresh token {why}. "
REFRESH += "Please log out and sign in again."
REUSED = render(REFRESH, why="was already used")
EXPIRED = render(REFRESH, why="has expired")
USAGE_LIMIT = (
    "ERROR: You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), "
    "visit https://chatgpt.com/settings/usage to purchase more credits or try again at {reset}."
)
LOGIN_URL = (
    "https://auth.openai.com/oauth/authorize?response_type=code&client_id="
    "app_EMoamEEZ73f0CkXaXp7hrann&redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2F"
    "callback&code_challenge={challenge}&code_challenge_method=S256&state={state}&scope=openid+"
    "profile+email+offline_access+api.connectors.read+api.connectors.invoke&id_token_add_"
    "organizations=true&codex_cli_simplified_flow=true&originator=codex_cli_rs"
)

#: Every line of codex's own this stand-in prints ({name}: a value).
LINES: dict[str, str] = {
    "version": "codex-cli {version}",
    "unexpected_argument": "error: unexpected argument '{arg}' found",
    "unexpected_tip": "  tip: to pass '{arg}' as a value, use '-- {arg}'",
    "usage": "Usage: codex exec [OPTIONS] [PROMPT]",
    "usage_2": "       codex exec [OPTIONS] <COMMAND> [ARGS]",
    "more_info": "For more information, try '--help'.",
    "exec_help": "Run Codex non-interactively",
    "no_prompt": "No prompt provided. Either specify one as an argument or pipe the prompt "
    "into stdin.",
    "stdin": "Reading additional input from stdin...",
    "not_trusted": "Not inside a trusted directory and --skip-git-repo-check was not specified.",
    "banner": "OpenAI Codex v{version}",
    "rule": "--------",
    "workdir": "workdir: {dir}",
    "model": "model: {model}",
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
    "router_error": "{time} ERROR codex_core::tools::router: error=unsupported call: shell_command",
    "reconnecting": "ERROR: Reconnecting... {n}/5",
    "offline": "ERROR: Reconnecting... waiting for network",
    "retry_limit": "ERROR: exceeded retry limit, last status: 429 Too Many Requests, "
    "request id: {request_id}",
    "usage_limit": USAGE_LIMIT,
    "quota": "ERROR: Quota exceeded. Check your plan and billing details.",
    "high_demand": "ERROR: We’re currently experiencing high demand, which may cause "
    "temporary errors.",
    "context_window": "ERROR: Codex ran out of room in the model's context window. Start a new "
    "thread or clear earlier history before retrying.",
    "unexpected_status": "ERROR: unexpected status 401 Unauthorized: {message}, url: {url}",
    "refresh_status": "{time} ERROR codex_login::auth::manager: Failed to refresh token "
    "status=401 Unauthorized",
    "refresh_reused": "{time} ERROR codex_login::auth::manager: Failed to refresh token: " + REUSED,
    "refresh_expired": "{time} ERROR codex_login::auth::manager: Failed to refresh token: "
    + EXPIRED,
    "error_reused": "ERROR: " + REUSED,
    "error_expired": "ERROR: " + EXPIRED,
    "logged_in": "Logged in using ChatGPT",
    "not_logged_in": "Not logged in",
    "api_key_reading": "Reading API key from stdin...",
    "api_key_saved": "API key saved. Authentication is checked when you send a request.",
    "logged_out": "Successfully logged out",
    "login_server": "Starting local login server on http://localhost:1455.",
    "login_browser": "If your browser did not open, navigate to this URL to authenticate:",
    "login_url": LOGIN_URL,
    "login_device": "On a remote or headless machine? Use `codex login --device-auth` instead.",
}

#: The model's words and its commands' output: text codex prints as it comes.
#: (kind, text, output): "think" a reasoning summary, "say" a message, "run" a command.
PROGRESS: tuple[tuple[str, str, str], ...] = (
    ("think", "**Reading the request handlers**", ""),
    (
        "run",
        "rg -n 'def handle_' src",
        "src/app/handlers.py:12:def handle_get(request):\n"
        "src/app/handlers.py:31:def handle_post(request):",
    ),
    ("say", "I'm adding input validation to the POST handler and a test for it.", ""),
    ("run", "sed -n '1,40p' src/app/handlers.py", "import json\n\nfrom .db import session"),
    ("think", "**Running the test suite**", ""),
    ("run", "pytest -q -k 'handler'", "8 passed in 0.42s"),
)
QUOTE429: tuple[tuple[str, str, str], ...] = (
    (
        "say",
        "I'll add retry handling for `429 Too Many Requests` responses and a clearer "
        "message when refreshing the token fails.",
        "",
    ),
    (
        "run",
        "sed -n '1,12p' src/client/retry.py",
        "RATE_LIMIT_STATUS = 429  # 429 Too Many Requests\n"
        "def should_retry(status: int, body: str) -> bool:\n"
        '    return status == RATE_LIMIT_STATUS or "rate limit" in body.lower()\n'
        "def on_refresh_error(exc: Exception) -> None:\n"
        '    log.warning("Failed to refresh token: %s", exc)',
    ),
    (
        "run",
        "pytest -q tests/test_retry.py -k '429'",
        "tests/test_retry.py::test_retries_on_429_too_many_requests PASSED\n"
        "tests/test_retry.py::test_failed_to_refresh_token_is_logged PASSED\n"
        "2 passed in 0.18s",
    ),
    ("think", "**Handling the rate limit header**", ""),
)
READ_ONLY = "I've read through the project layout and the README. Which change should I make?"
API_KEY_401 = (
    "Incorrect API key provided: sk-abc. You can find your API key at "
    "https://platform.openai.com/account/api-keys."
)
#: Fake but well-formed secrets (a server's error body, echoed), for the redaction tests.
SECRET_SK = "sk-abc123" + "DEF456ghi789JKL012mno345PQR678stu901VWX234"
SECRET_JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLXN0YW5kaW4iLCJleHAiOjE3OTk5OTk5OTl9"
    ".c3RhbmQtaW4tc2lnbmF0dXJlLW5vdC1hLXJlYWwtb25l"
)
SECRET_GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SECRETS_401 = (
    f"Incorrect API key provided: {SECRET_SK}. (Authorization: Bearer {SECRET_JWT}; git token "
    f"{SECRET_GHP}) while running $(touch /tmp/pwned) and '; rm -rf ~' in `\"; rm -rf ~ #`"
)
API_URL = "https://api.openai.com/v1/responses"
READ_ONLY_FS = "Read-only file system"
NO_WRITE = "The sandbox is read-only, so I could not write the change."
NO_COMMIT = "; I could not commit it: .git is read-only in this sandbox."

#: Every fixed text the stand-in's "model" says or its commands print (not codex's own).
CONTENT: frozenset[str] = frozenset(
    line
    for steps in (PROGRESS, QUOTE429)
    for _kind, text, output in steps
    for line in [*text.splitlines(), *output.splitlines()]
) | {
    READ_ONLY,
    NO_WRITE,
    "**Inspecting the repository layout**",
    "**Exploring the repository**",
    "**Reading the codebase**",
}
#: The model's texts that hold the task's words, and what its commands print.
CONTENT_PATTERNS = (
    r"Done: .+\. I updated `standin-work/[a-z0-9-]+\.md`(?: and committed it\.|\.|"
    + re.escape(NO_COMMIT)
    + ")",
    r"mkdir: cannot create directory 'standin-work': " + READ_ONLY_FS,
    r"fatal: Unable to create '.+/\.git/index\.lock': " + READ_ONLY_FS,
)

SCENARIOS = {
    "ok": "looks, writes standin-work/<slug>.md, commits (danger-full-access only), exit 0",
    "noisy": "like ok, plus a harmless tracing ERROR line",
    "work-forever": "commands and messages every STANDIN_DELAY seconds, forever",
    "sleep": "the same as work-forever",
    "quiet": "the banner, then silence forever (a slow stream)",
    "quote429": "works forever on code that mentions 429s and token refreshes",
    "ratelimit": "HTTP 429 until codex gives up: exceeded retry limit, exit 1",
    "usagelimit": "You’ve hit your usage limit … try again at STANDIN_RESET, exit 1",
    "quota": "Quota exceeded, exit 1",
    "overloaded": "five reconnects, then high demand (HTTP 5xx), exit 1",
    "offline": "Reconnecting... waiting for network, forever",
    "reconnect": "two reconnects, then works like ok",
    "auth": "ChatGPT refresh token already used: tracing lines, ERROR, exit 1",
    "auth-refresh": "the same for an expired refresh token",
    "auth-apikey": "a rejected API key: five reconnects, unexpected status 401, exit 1",
    "echo-secrets": "a 401 whose body holds secrets and shell text, echoed, exit 1",
    "fail": "the context window is exhausted, exit 1",
    "read-exit": "reads files, changes nothing, exit 0",
    "flaky": "fails like fail the first STANDIN_FLAKY runs, then works like ok",
}
TOKEN_LOST = ("auth", "auth-refresh")
EXEC_VALUE_FLAGS = {"-c", "--config", "--enable", "--disable", "-i", "--image", "-m", "--model"}
EXEC_VALUE_FLAGS |= {"--local-provider", "-p", "--profile", "-s", "--sandbox", "-C", "--cd"}
EXEC_VALUE_FLAGS |= {"--add-dir", "--thread-source", "--cyber-access-program", "--output-schema"}
EXEC_VALUE_FLAGS |= {"--color", "-o", "--output-last-message"}
EXEC_FLAGS = {"--strict-config", "--oss", "--approve-for-me", "--worktree", "--trust", "--json"}
EXEC_FLAGS |= {"--dangerously-bypass-approvals-and-sandbox", "--dangerously-bypass-hook-trust"}
EXEC_FLAGS |= {"--skip-git-repo-check", "--ephemeral", "--ignore-user-config", "--ignore-rules"}


def say(name: str, **values: object) -> None:
    err(render(LINES[name], version=RELEASE, **values))


def stamp() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def codex_home() -> pathlib.Path:
    env = os.environ.get("CODEX_HOME")
    return pathlib.Path(env) if env else pathlib.Path.home() / ".codex"


def git(cwd: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return subprocess.CompletedProcess(["git", *args], 1, "", str(exc))


class Options(t.NamedTuple):
    prompt: str
    trusted: bool
    sandbox: str
    model: str
    last_message: pathlib.Path | None
    cwd: pathlib.Path


class Run:
    """One ``codex exec`` turn, made of the steps a model takes."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.cwd = opts.cwd
        self.tokens = 0

    def banner(self) -> None:
        say("banner")
        say("rule")
        say("workdir", dir=self.cwd)
        say("model", model=self.opts.model)
        say("provider")
        say("approval")
        if self.opts.sandbox == "workspace-write":
            say("sandbox_write")
        else:
            say("sandbox", sandbox=self.opts.sandbox)
        say("effort")
        say("summaries")
        say("session", uuid=uuid.uuid4())
        say("rule")
        say("user")
        err(self.opts.prompt)
        pause()

    def think(self, text: str) -> None:
        self.tokens += random.randint(900, 1500)
        err(text)
        pause()

    def message(self, text: str) -> None:
        self.tokens += random.randint(900, 1500)
        say("message")
        err(text)

    def run(self, script: str, output: str, code: int = 0) -> None:
        self.tokens += random.randint(900, 1500)
        say("exec")
        say("exec_command", script=quote(script), dir=self.cwd)
        pause()
        ms = random.randint(0, 90)
        if code == 0:
            say("exec_ok", ms=ms)
        else:
            say("exec_failed", code=code, ms=ms)
        for line in output.splitlines()[:20]:
            err(line)

    def play(self, steps: t.Iterable[tuple[str, str, str]]) -> None:
        for kind, text, output in steps:
            if kind == "think":
                self.think(text)
            elif kind == "say":
                self.message(text)
                pause()
            else:
                self.run(text, output)

    def finish(self, text: str) -> int:
        """The last message and the token count; exit 0 (the turn succeeded)."""
        self.message(text)
        say("tokens")
        say("tokens_count", tokens=f"{self.tokens:,}")
        if self.opts.last_message is not None:
            try:
                self.opts.last_message.write_text(text + "\n", encoding="utf-8")
            except OSError:
                pass
        if not is_tty(sys.stdout):
            out(text)
        return 0

    def fatal(self, name: str, **values: object) -> int:
        """codex exec's end on an error: the ERROR line twice, exit 1."""
        say(name, **values)
        say(name, **values)
        return 1

    def reconnects(self, count: int) -> None:
        for n in range(1, count + 1):
            pause(2)
            say("reconnecting", n=n)

    def summary(self) -> str:
        match = re.search(r"^TASK:\s*(.+)$", self.opts.prompt, re.MULTILINE)
        text = match.group(1) if match else self.opts.prompt
        text = re.sub(r"[^A-Za-z0-9 ,.:/_-]+", " ", SCENARIO_RE.sub("", text))
        return " ".join(text.split())[:60].strip(" .") or "Update the project"

    def do_work(self, noisy: bool = False) -> int:
        """``ok``: look, write a file, commit where the sandbox lets it, report."""
        summary = self.summary()
        self.think("**Inspecting the repository layout**")
        self.run("ls", listing(self.cwd))
        slug = re.sub(r"[^a-z0-9]+", "-", summary.lower()).strip("-")[:40] or "work"
        rel = f"standin-work/{slug}.md"
        script = f"mkdir -p standin-work && echo '- {summary}: done' >> {rel}"
        if self.opts.sandbox == "read-only":
            self.run(script, f"mkdir: cannot create directory 'standin-work': {READ_ONLY_FS}", 1)
            return self.finish(NO_WRITE)
        path = self.cwd / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"- {summary}: done\n")
        self.run(script, "")
        tail = "."
        if git(self.cwd, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true":
            tail = self.commit(summary)
        if noisy:
            say("router_error", time=stamp())
        return self.finish(f"Done: {summary}. I updated `{rel}`{tail}")

    def commit(self, summary: str) -> str:
        script = f"git add -A && git commit -m '{summary}'"
        if self.opts.sandbox != "danger-full-access":
            top = git(self.cwd, "rev-parse", "--show-toplevel").stdout.strip() or str(self.cwd)
            lock = f"fatal: Unable to create '{top}/.git/index.lock': {READ_ONLY_FS}"
            self.run(script, lock, 128)
            return NO_COMMIT
        git(self.cwd, "add", "-A")
        git(self.cwd, "rm", "--cached", "-q", "--ignore-unmatch", "--", ".standin-runs")
        identity: list[str] = []
        if not git(self.cwd, "config", "user.email").stdout.strip():
            identity = ["-c", "user.name=Codex Stand-in", "-c", "user.email=codex@example.invalid"]
        done = git(self.cwd, *identity, "commit", "-m", summary)
        self.run(script, (done.stdout + done.stderr).strip(), done.returncode)
        return " and committed it." if done.returncode == 0 else "."


def quote(script: str) -> str:
    """How codex shows a command: bare, or in double quotes around single-quoted words."""
    if re.fullmatch(r"[\w./-]+", script):
        return script
    if "'" in script and not any(c in script for c in '"$`\\'):
        return f'"{script}"'
    return shlex.quote(script)


def listing(cwd: pathlib.Path) -> str:
    try:
        return "\n".join(sorted(p.name for p in cwd.iterdir() if not p.name.startswith(".")))
    except OSError:
        return ""


def auth_repaired() -> bool:
    home = codex_home()
    return (home / "stand-in-relogin").exists() and not (home / "stand-in-token-dead").exists()


def token_dead() -> None:
    try:
        codex_home().mkdir(parents=True, exist_ok=True)
        (codex_home() / "stand-in-token-dead").touch()
    except OSError:
        pass


def flaky_count(cwd: pathlib.Path) -> int:
    runs_file = cwd / ".standin-runs"
    try:
        count = int(runs_file.read_text(encoding="utf-8").strip() or "0") + 1
    except (OSError, ValueError):
        count = 1
    runs_file.write_text(f"{count}\n", encoding="utf-8")
    return count


def play(run: Run, scenario: str) -> int:
    """Plays one scenario; returns the exit code (the forever scenarios never return)."""
    if scenario in TOKEN_LOST and not auth_repaired():
        token_dead()
        say("refresh_status", time=stamp())
        say("refresh_reused" if scenario == "auth" else "refresh_expired", time=stamp())
        run.banner()
        return run.fatal("error_reused" if scenario == "auth" else "error_expired")
    run.banner()
    if scenario in ("ok", "noisy", *TOKEN_LOST):
        return run.do_work(noisy=scenario == "noisy")
    if scenario in ("work-forever", "sleep", "quote429"):
        while True:
            run.play(QUOTE429 if scenario == "quote429" else PROGRESS)
    if scenario == "quiet":
        sleep_forever()
    if scenario == "offline":
        while True:
            pause(5)
            say("offline")
    if scenario == "ratelimit":
        pause(2)
        return run.fatal("retry_limit", request_id=f"req_{uuid.uuid4().hex[:24]}")
    if scenario == "usagelimit":
        return run.fatal("usage_limit", reset=os.environ.get("STANDIN_RESET", "3:15 PM"))
    if scenario == "quota":
        return run.fatal("quota")
    if scenario in ("overloaded", "auth-apikey", "echo-secrets"):
        run.reconnects(5)
        if scenario == "overloaded":
            return run.fatal("high_demand")
        body = API_KEY_401 if scenario == "auth-apikey" else SECRETS_401
        return run.fatal("unexpected_status", message=body, url=API_URL)
    if scenario == "reconnect":
        run.reconnects(2)
        return run.do_work()
    if scenario == "read-exit":
        run.think("**Exploring the repository**")
        run.run("ls", listing(run.cwd))
        readme = run.cwd / "README.md"
        if readme.exists():
            text = readme.read_text(encoding="utf-8", errors="replace")
            run.run("sed -n '1,120p' README.md", "\n".join(text.splitlines()[:20]))
        return run.finish(READ_ONLY)
    if scenario == "fail" or (scenario == "flaky" and flaky_count(run.cwd) <= flaky_limit()):
        run.think("**Reading the codebase**")
        run.fatal("context_window")
        say("tokens")
        say("tokens_count", tokens="0")
        return 1
    return run.do_work()


def flaky_limit() -> int:
    try:
        return int(os.environ.get("STANDIN_FLAKY", "1"))
    except ValueError:
        return 1


def unexpected(arg: str) -> int:
    say("unexpected_argument", arg=arg)
    err("")
    say("unexpected_tip", arg=arg)
    err("")
    say("usage")
    say("usage_2")
    err("")
    say("more_info")
    return 2


def parse_exec(argv: list[str]) -> Options | int:
    """clap's parse of ``codex exec``: an Options, or the exit code of a usage error."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    positional: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            positional.extend(args)
        elif arg.startswith("--") and "=" in arg:
            values[arg.split("=", 1)[0]] = arg.split("=", 1)[1]
        elif arg in EXEC_VALUE_FLAGS:
            values[arg] = next(args, "")
        elif arg in EXEC_FLAGS:
            flags.add(arg)
        elif arg.startswith("-") and arg != "-":
            return unexpected(arg)
        else:
            positional.append(arg)
    prompt = positional[0] if positional else None
    if prompt is None and is_tty(sys.stdin):
        say("no_prompt")
        return 1
    if prompt is None or prompt == "-" or not is_tty(sys.stdin):
        say("stdin")
        piped = sys.stdin.read()
        prompt = piped if prompt in (None, "-") else f"{prompt}\n\n{piped}".rstrip()
    sandbox = values.get("-s") or values.get("--sandbox") or "read-only"
    if "--dangerously-bypass-approvals-and-sandbox" in flags:
        sandbox = "danger-full-access"
    cwd_arg = values.get("-C") or values.get("--cd")
    last = values.get("-o") or values.get("--output-last-message")
    return Options(
        prompt=prompt,
        trusted="--skip-git-repo-check" in flags,
        sandbox=sandbox,
        model=values.get("-m") or values.get("--model") or DEFAULT_MODEL,
        last_message=pathlib.Path(last) if last else None,
        cwd=pathlib.Path(cwd_arg).resolve() if cwd_arg else pathlib.Path.cwd(),
    )


def cmd_exec(argv: list[str], state: dict[str, str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        state["scenario"] = "help"
        out(LINES["exec_help"])
        out("")
        out(LINES["usage"])
        out(LINES["usage_2"])
        return 0
    opts = parse_exec(argv)
    if isinstance(opts, int):
        state["scenario"] = "usage-error"
        return opts
    names = SCENARIO_RE.findall(opts.prompt)
    scenario = names[0] if names else "ok"
    state["scenario"] = scenario
    if scenario not in SCENARIOS:
        raise ValueError(f"codex stand-in: unknown scenario {scenario!r}; see SCENARIOS")
    if opts.cwd != pathlib.Path.cwd():
        os.chdir(opts.cwd)
    if not opts.trusted and git(opts.cwd, "rev-parse", "--is-inside-work-tree").returncode:
        say("not_trusted")  # codex exec runs only in a git repository (or a trusted folder)
        return 1
    return play(Run(opts), scenario)


def cmd_login(argv: list[str], state: dict[str, str]) -> int:
    home = codex_home()
    state["scenario"] = "login-status" if argv[:1] == ["status"] else "login"
    if argv[:1] == ["status"]:
        if (home / "stand-in-logged-out").exists():
            say("not_logged_in")
            return 1
        say("logged_in")
        return 0
    home.mkdir(parents=True, exist_ok=True)
    if "--with-api-key" in argv:
        say("api_key_reading")
        sys.stdin.read()
        say("api_key_saved")
    else:
        say("login_server")
        say("login_browser")
        err("")
        say("login_url", challenge=uuid.uuid4().hex, state=uuid.uuid4().hex)
        err("")
        say("login_device")
        pause()  # the user signs in in the browser; codex then exits quietly
    for name in ("stand-in-logged-out", "stand-in-token-dead"):
        (home / name).unlink(missing_ok=True)
    (home / "stand-in-relogin").touch()
    return 0


def cmd_logout(state: dict[str, str]) -> int:
    state["scenario"] = "logout"
    home = codex_home()
    home.mkdir(parents=True, exist_ok=True)
    was_in = not (home / "stand-in-logged-out").exists()
    (home / "stand-in-logged-out").touch()
    (home / "stand-in-relogin").unlink(missing_ok=True)
    say("logged_out" if was_in else "not_logged_in")
    return 0


def dispatch(argv: list[str], state: dict[str, str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command in ("--version", "-V"):
        state["scenario"] = "version"
        out(render(LINES["version"], version=RELEASE))
        return 0
    if command in ("exec", "e"):
        return cmd_exec(rest, state)
    if command == "login" or argv[:2] == ["auth", "login"]:
        return cmd_login(rest if command == "login" else rest[1:], state)
    if command == "logout":
        return cmd_logout(state)
    state["scenario"] = "tui"
    return 2  # the interactive TUI is not emulated


def main() -> int:
    install_signals()
    argv = sys.argv[1:]
    state: dict[str, str] = {}
    code = 1
    try:
        code = dispatch(argv, state)
    except Stop as stop:
        code = stop.code
    finally:
        log_run("codex", state.get("scenario", "-"), argv, code)
    return code
