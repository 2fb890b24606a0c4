"""Stand-in for the Ralph loop CLI ``ralphy`` (npm ``ralphy-cli`` RELEASE) in a tmux pane.

Run by the launcher ``tests/standins/bin/ralphy``. Like the real one it works through the
unchecked ``- [ ] task`` lines of the PRD (default ``PRD.md``), or one TASK given as an
argument, running ``codex exec --full-auto --json --output-last-message FILE PROMPT`` for
each: with codex 0.169 (and the stand-in codex) every task fails at once, because codex
rejects ``--full-auto``, and ralphy still ticks its box, says ``[OK] All tasks completed!``
and ends ``Completed: 0`` / ``Failed: N``, exit 1. Its lines (``LINES``) are checked by
tests/test_standin_lines.py against what the real release printed.

Usage::

    ralphy --codex [--prd FILE | TASK] [--parallel] [--max-parallel N] [--max-retries N]
           [--retry-delay N] [--max-iterations N] [--version]

With a codex that accepts ``--full-auto`` it also does what 4.7.2 does: retries a retryable
error (a rate limit, a network error) ``--max-retries`` times, defers the task
(``.ralphy/deferred.json``) and stops early; stops everything on a fatal error (401, 403,
invalid token) without ticking; ``--parallel`` runs each task in a git worktree on a
``ralphy/agent-N-…`` branch and merges the finished ones. Stand-in differences: only
``--codex`` runs; no spinner animation (the ✔/✖ line is printed at the end); retry waits
sleep STANDIN_DELAY seconds (default 0.2).
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
import typing as t

from tests.standins.common import Stop, delay, err, install_signals, log_run, out, render

RELEASE = "4.7.2"
TASK_RE = re.compile(r"^- \[ \] (.+)$")
RULE = "=" * 50
#: cli/src/engines/base.ts formatCommandError: the first line of a failed command's error.
COMMAND_FAILED = "Command failed with exit code {code}. Output:"

#: Every line of ralphy's own this stand-in prints ({name}: a value; an error may span lines).
LINES: dict[str, str] = {
    "version": "{version}",
    "starting": "[INFO] Starting Ralphy with {engine}",
    "remaining": "[INFO] Tasks remaining: {n}",
    "sequential": "[INFO] Mode: Sequential",
    "parallel": "[INFO] Mode: Parallel (max {n} agents)",
    "task": "[INFO] Task {n}: {title} ({remaining} remaining)",
    "single": "[INFO] Running task with {engine}...",
    "worked": "✔ Working [{elapsed}] {task} [{elapsed}]",
    "done": "✔ Done  [{elapsed}]",
    "failed": "✖ {error} [{elapsed}]",
    "failed_command": "✖ " + COMMAND_FAILED,
    "attempt": "[WARN] Attempt {n}/{count} failed: {error}",
    "temporary": "[WARN] Temporary failure, stopping early ({n}/{count}): {error}",
    "deferrals": '[ERROR] Task "{title}" failed after {n} deferrals: {error}',
    "fatal": "[ERROR] Fatal error: {error}",
    "aborting": "[ERROR] Aborting remaining tasks due to configuration/authentication issue.",
    "all_done": "[OK] All tasks completed!",
    "batch": "[INFO] Batch {n}: {count} tasks in parallel",
    "batch_task": "[INFO]   -> {title}",
    "agent_ok": '[OK] Task "{title}" completed',
    "agent_failed": '[ERROR] Task "{title}" failed: {error}',
    "deferred": '[WARN] Task "{title}" deferred ({n}/{count}): {error}',
    "batch_done": "[INFO] Batch {n} completed in {elapsed}",
    "stopping": "[WARN] Stopping early due to retryable errors. Try again later.",
    "merge_info": "[INFO] ",
    "merge_phase": "Merge phase: merging {n} branch(es) into {base}",
    "merging": "[INFO] Merging {branch}... ({files} changed)",
    "merged": "[OK] Merged {branch}",
    "merged_all": "[OK] Successfully merged {n} branch(es) in {elapsed}",
    "rule": RULE,
    "summary": "[INFO] Summary:",
    "completed": "  Completed: {n}",
    "failed_count": "  Failed:    {n}",
    "duration": "  Duration:  {elapsed}",
    "no_prd": "[ERROR] {prd} not found in current directory",
    "create_prd": "[INFO] Create a {prd} file with tasks",
    "nothing_left": "[OK] No tasks remaining. All done!",
    "no_cli": "[ERROR] {engine} CLI not found. Make sure '{command}' is in your PATH.",
}
# cli/src/utils/errors.ts (isRetryableError) and cli/src/execution/retry.ts (isFatalError)
RETRYABLE = re.compile(
    r"rate limit|rate_limit|hit your limit|quota|too many requests|timeout|network|connection"
    r"|overloaded",
    re.IGNORECASE,
)
RETRYABLE_CASED = re.compile(r"429|ECONNRESET|ETIMEDOUT|ENOTFOUND")
FATAL = re.compile(
    r"not authenticated|no authentication|authentication failed|invalid.*token"
    r"|invalid.*api.?key|unauthorized|\b401\b|\b403\b|command not found|not installed"
    r"|is not recognized",
    re.IGNORECASE,
)
ENGINES = {"--claude": ("Claude Code", "claude"), "--codex": ("Codex", "codex")}
ENGINES |= {"--opencode": ("OpenCode", "opencode"), "--cursor": ("Cursor Agent", "agent")}
ENGINES |= {"--qwen": ("Qwen-Code", "qwen"), "--droid": ("Factory Droid", "droid")}
ENGINES |= {"--copilot": ("GitHub Copilot", "copilot"), "--gemini": ("Gemini CLI", "gemini")}
VALUE_OPTIONS = {"--prd", "--max-parallel", "--max-retries", "--retry-delay", "--model"}
VALUE_OPTIONS |= {"--max-iterations", "--base-branch"}


class Task(t.NamedTuple):
    line: int  # 1-based: ralphy's task id for a markdown PRD
    title: str


class Options(t.NamedTuple):
    prd: str
    parallel: bool
    max_parallel: int
    max_retries: int
    max_iterations: int


class Totals:
    def __init__(self) -> None:
        self.completed = 0
        self.failed = 0


#: What goes to stderr: console.error's [ERROR] lines and the spinner's end.
STDERR = {"no_prd", "no_cli", "deferrals", "fatal", "aborting", "agent_failed"}
STDERR |= {"worked", "done", "failed"}


def say(name: str, **values: object) -> None:
    (err if name in STDERR else out)(render(LINES[name], **values))


def duration(ms: int) -> str:
    """cli/src/ui/logger.ts formatDuration."""
    if ms < 1000:
        return f"{ms}ms"
    secs = ms // 1000
    return f"{secs}s" if secs < 60 else f"{secs // 60}m {secs % 60}s"


def since(started: float) -> str:
    return duration(int((time.monotonic() - started) * 1000))


# --- the PRD ----------------------------------------------------------------------------------
def read_prd(path: pathlib.Path) -> list[str]:
    return path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")


def pending(path: pathlib.Path) -> list[Task]:
    lines = enumerate(read_prd(path), start=1)
    return [Task(n, m.group(1).strip()) for n, line in lines if (m := TASK_RE.match(line))]


def mark_complete(path: pathlib.Path, task: Task) -> None:
    """Ticks the box by line number, whether the task worked or not (as ralphy does)."""
    lines = read_prd(path)
    if 0 < task.line <= len(lines):
        lines[task.line - 1] = lines[task.line - 1].replace("- [ ] ", "- [x] ", 1)
        path.write_text("\n".join(lines), encoding="utf-8")


def deferrals(work_dir: pathlib.Path, prd: str, task: Task, *, clear: bool = False) -> int:
    """cli/src/execution/deferred.ts: deferral counts in .ralphy/deferred.json."""
    path = work_dir / ".ralphy" / "deferred.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        tasks = state["tasks"] if isinstance(state.get("tasks"), dict) else {}
    except (OSError, ValueError, AttributeError):
        tasks = {}
    key = f"markdown:{prd}:{task.line}"
    if clear:
        count = 0
        tasks.pop(key, None)
    else:
        count = int(tasks.get(key, {}).get("count", 0)) + 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        tasks[key] = {"count": count, "last": stamp, "title": task.title}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"tasks": tasks}, indent=2), encoding="utf-8")
    return count


# --- the agent --------------------------------------------------------------------------------
class Failure(Exception):
    """A retryable error that outlived the retries."""


def prompt_for(task: str) -> str:
    return (
        "You are working on a specific task. Focus ONLY on this task:\n\n"
        f"TASK: {task}\n\n## Instructions\n1. Implement the task described above\n"
        "2. Commit your changes with a descriptive message\n\n"
        "Do NOT mark tasks complete - that will be handled separately.\n"
        f"Focus only on implementing: {task}"
    )


def run_codex(prompt: str, work_dir: pathlib.Path) -> tuple[bool, str, str]:
    """cli/src/engines/codex.ts execute: (success, error, the last message)."""
    suffix = f"{int(time.time() * 1000)}-{os.getpid()}"
    last = work_dir / f".codex-last-message-{suffix}.txt"
    args = ["codex", "exec", "--full-auto", "--json", "--output-last-message", str(last), prompt]
    try:
        done = subprocess.run(
            args, cwd=work_dir, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        output, code = done.stdout + done.stderr, done.returncode
    except OSError as exc:
        output, code = f"\nSpawn error: {exc}", 1
    response = last.read_text(encoding="utf-8").strip() if last.exists() else ""
    last.unlink(missing_ok=True)
    if '"type":"error"' in output:
        match = re.search(r'"message":"([^"]+)"', output)
        return False, match.group(1) if match else "Unknown error", ""
    if code != 0:
        lines = [line for line in output.strip().split("\n") if line][-12:]
        if not lines:
            return False, f"Command failed with exit code {code}", ""
        head = render(COMMAND_FAILED, code=code)
        return False, "\n".join([head, *lines]), ""
    return True, "", response or "Task completed"


def retryable(error: str) -> bool:
    return bool(RETRYABLE.search(error) or RETRYABLE_CASED.search(error))


def with_retry(prompt: str, work_dir: pathlib.Path, opts: Options) -> tuple[bool, str, str]:
    """cli/src/execution/retry.ts withRetry: a retryable error is retried, then raised."""
    for attempt in range(1, opts.max_retries + 1):
        result = run_codex(prompt, work_dir)
        if result[0] or not retryable(result[1]):
            return result
        if attempt < opts.max_retries:
            say("attempt", n=attempt, count=opts.max_retries, error=result[1])
            time.sleep(delay())
    raise Failure(result[1])


def attempt(prompt: str, work_dir: pathlib.Path, opts: Options) -> tuple[bool, str, str]:
    try:
        return with_retry(prompt, work_dir, opts)
    except Failure as failure:
        return False, str(failure), ""


# --- sequential -------------------------------------------------------------------------------
def run_sequential(work_dir: pathlib.Path, prd: pathlib.Path, opts: Options, n: Totals) -> None:
    """cli/src/execution/sequential.ts."""
    iteration = 0
    while True:
        if opts.max_iterations and iteration >= opts.max_iterations:
            return
        tasks = pending(prd)
        if not tasks:
            say("all_done")
            return
        task, iteration = tasks[0], iteration + 1
        say("task", n=iteration, title=task.title, remaining=len(tasks))
        started = time.monotonic()
        ok, error, _ = attempt(prompt_for(task.title), work_dir, opts)
        if ok:
            short = task.title if len(task.title) <= 40 else task.title[:37] + "..."
            say("worked", elapsed=since(started), task=short)
            mark_complete(prd, task)
            deferrals(work_dir, opts.prd, task, clear=True)
            n.completed += 1
            continue
        n.failed += 1
        say("failed", error=error, elapsed=since(started))
        if retryable(error):
            count = deferrals(work_dir, opts.prd, task)
            if count < opts.max_retries:
                say("temporary", n=count, count=opts.max_retries, error=error)
                return
            say("deferrals", title=task.title, n=count, error=error)
        elif FATAL.search(error):
            say("fatal", error=error)
            say("aborting")
            return
        mark_complete(prd, task)
        deferrals(work_dir, opts.prd, task, clear=True)


# --- parallel ---------------------------------------------------------------------------------
def git(cwd: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def run_parallel(
    work_dir: pathlib.Path, prd: pathlib.Path, opts: Options, n: Totals, base: str
) -> None:
    """cli/src/execution/parallel.ts (worktrees; a markdown PRD gives one task per batch)."""
    worktrees = pathlib.Path(tempfile.mkdtemp(prefix="ralphy-worktrees-"))
    finished: list[str] = []
    try:
        batch = 0
        while not opts.max_iterations or batch < opts.max_iterations:
            tasks = pending(prd)
            if not tasks:
                break
            task, batch = tasks[0], batch + 1
            started = time.monotonic()
            say("batch", n=batch, count=1)
            say("batch_task", title=task.title)
            slug = re.sub(r"[^a-z0-9]+", "-", task.title.lower()).strip("-")[:50]
            rand = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
            branch = f"ralphy/agent-{batch}-{int(time.time() * 1000)}-{rand}-{slug}"
            tree = worktrees / f"agent-{batch}"
            git(work_dir, "worktree", "add", "-q", "-b", branch, str(tree), base)
            ok, error, _ = attempt(prompt_for(task.title), tree, opts)
            stop = False
            if ok:
                say("agent_ok", title=task.title)
                n.completed += 1
                finished.append(branch)
            else:
                n.failed += 1
                count = deferrals(work_dir, opts.prd, task) if retryable(error) else 0
                if 0 < count < opts.max_retries:
                    say("deferred", title=task.title, n=count, count=opts.max_retries, error=error)
                    stop = True
                elif count:
                    say("deferrals", title=task.title, n=count, error=error)
                else:
                    say("agent_failed", title=task.title, error=error)
            if not stop:
                mark_complete(prd, task)
            git(work_dir, "worktree", "remove", "--force", str(tree))
            say("batch_done", n=batch, elapsed=since(started))
            if stop:
                say("stopping")
                break
        if finished:
            merge(work_dir, finished, base)
    finally:
        git(work_dir, "worktree", "prune")
        shutil.rmtree(worktrees, ignore_errors=True)


def merge(work_dir: pathlib.Path, branches: list[str], base: str) -> None:
    started = time.monotonic()
    say("merge_info")
    say("merge_phase", n=len(branches), base=base)
    merged = 0
    for branch in branches:
        names = git(work_dir, "diff", "--name-only", f"{base}...{branch}").stdout.split()
        files = f"{len(names)} file{'' if len(names) == 1 else 's'}"
        say("merging", branch=branch, files=files)
        if git(work_dir, "merge", "--no-edit", branch).returncode == 0:
            say("merged", branch=branch)
            git(work_dir, "branch", "-D", branch)
            merged += 1
        else:
            git(work_dir, "merge", "--abort")
    if merged:
        say("merged_all", n=merged, elapsed=since(started))


# --- command line -----------------------------------------------------------------------------
def parse(argv: list[str]) -> tuple[Options, str, list[str]]:
    values: dict[str, str] = {}
    flags: set[str] = set()
    engine = "--claude"
    positional: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("-V", "--version"):
            out(RELEASE)
            raise Stop(0)
        if arg in VALUE_OPTIONS:
            values[arg] = next(args, "")
        elif arg in ENGINES:
            engine = arg
        elif arg.startswith("-"):
            flags.add(arg)
        else:
            positional.append(arg)

    def number(key: str, default: int) -> int:
        try:
            return int(values.get(key, default)) or default
        except ValueError:
            return default

    opts = Options(
        prd=values.get("--prd", "PRD.md"),
        parallel="--parallel" in flags,
        max_parallel=number("--max-parallel", 3),
        max_retries=number("--max-retries", 3),
        max_iterations=number("--max-iterations", 0),
    )
    return opts, engine, positional


def run(argv: list[str]) -> int:
    opts, engine, positional = parse(argv)
    work_dir = pathlib.Path.cwd()
    started = time.monotonic()
    prd = work_dir / opts.prd
    if not positional and not prd.exists():
        say("no_prd", prd=opts.prd)
        say("create_prd", prd=opts.prd)
        return 1
    name, command = ENGINES[engine]
    if shutil.which(command) is None:
        say("no_cli", engine=name, command=command)
        return 1
    if engine != "--codex":
        raise ValueError("the ralphy stand-in runs only --codex")
    if positional:
        return run_single(" ".join(positional), work_dir, opts)
    if not pending(prd):
        say("nothing_left")
        return 0
    base = ""
    if opts.parallel:
        base = git(work_dir, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    say("starting", engine=name)
    say("remaining", n=len(pending(prd)))
    if opts.parallel:
        say("parallel", n=opts.max_parallel)
    else:
        say("sequential")
    out("")
    totals = Totals()
    if opts.parallel:
        run_parallel(work_dir, prd, opts, totals, base)
    else:
        run_sequential(work_dir, prd, opts, totals)
    out("")
    say("rule")
    say("summary")
    say("completed", n=totals.completed)
    say("failed_count", n=totals.failed)
    say("duration", elapsed=since(started))
    say("rule")
    return 1 if totals.failed else 0


def run_single(task: str, work_dir: pathlib.Path, opts: Options) -> int:
    """Single-task mode (``ralphy --codex "TASK"``): one task, retried, no PRD."""
    say("single", engine="Codex")
    started = time.monotonic()
    ok, error, _response = attempt(prompt_for(task), work_dir, opts)
    if not ok:
        say("failed", error=error, elapsed=since(started))
        return 1
    say("done", elapsed=since(started))  # (4.7.2 then prints "Result:" and the last message)
    return 0


def main() -> int:
    install_signals()
    code = 1
    try:
        code = run(sys.argv[1:])
    except Stop as stop:
        code = stop.code
    finally:
        log_run("ralphy", "-", sys.argv[1:], code)
    return code
