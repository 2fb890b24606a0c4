#!/usr/bin/env python3
"""`heartbeat check` against the naive per-session shell loop, side by side (DESIGN §6).

Run it from a clone with the test extra installed, with the project's Python:

    python benchmarks/bench_check.py            # N = 1, 10, 50; logs of 1 MiB and 1 GiB

No network. Everything lives in a temporary folder under /tmp: a private tmux
server (``tmux -S <tmp>/sock``, killed at the end), 50 sessions running the
stand-in ``codex exec -s workspace-write 'scenario:work-forever …'`` (it prints
progress forever; all of them run throughout, so every N sees the same load), a
notes folder whose note lists N of them in the canonical form, and a codex log
``CODEX_HOME/log/codex-tui.log`` of real tracing lines (the 1 GiB one is
written block by block, not as a sparse file, and is skipped with a note when
less than 3 GiB is free).

For each N and log size it measures:

* the median wall time of the installed ``heartbeat check --dry-run --json``
  (a subprocess, 9 runs, all cells interleaved run by run), after one real
  check (``HEARTBEAT_NOTIFY=""``)
  has put the log offset at the end of the file; a few lines are appended
  before every run so that each check has new bytes to read;
* the median wall time of the naive loop an LLM-driven heartbeat would run:
  per session ``tmux has-session``, ``tmux capture-pane -p -S -200`` and
  ``grep -E '<auth|429 patterns>' codex-tui.log`` (runs within a time budget
  when one run takes long: at least one);
* tmux client invocations per check, counted by a wrapper ``tmux`` on PATH;
* log bytes read per check (``log_bytes_read`` in the JSON) against the bytes
  appended since the offset was saved;
* peak memory (GNU time's ``%M``; else ``ru_maxrss`` from ``wait4``).

Then the import cost of ``heartbeat --help``, ``heartbeat status`` and
``import heartbeat.cli`` (``-X importtime``), optionally against a second
virtualenv (``--compare-venv``, e.g. one with another typer). It prints a table
and writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

REPO = pathlib.Path(__file__).resolve().parent.parent
AGENTS = REPO / "tests" / "standins" / "bin"
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
#: Free space needed before the 1 GiB log is written (the log, plus room for everything else).
GIB_FREE_NEEDED = 3 * GIB
#: What a steady-state check may read beyond the new bytes (DESIGN §6, issue 6).
SLACK = 64 * KIB
#: Most runs of the naive loop per cell (fewer when one run is long: see --naive-budget).
NAIVE_RUNS = 5
#: Lines appended to the codex log before each timed check.
APPEND_LINES = 20
#: Seconds between the stand-in's lines: it prints, but 50 of them leave the 2 cores free.
STANDIN_DELAY = "1.0"
#: What `--help` and `status` must not import (only restarts, cron or verification need them).
FORBIDDEN = ("heartbeat.verify", "heartbeat.cron", "heartbeat.notify", "croniter", "libtmux")
#: The naive loop's signatures: the auth and 429 phrases of DESIGN §4, as one ERE.
NAIVE_PATTERN = (
    "Failed to refresh token|access token could not be refreshed|"
    "refresh_token_(reused|expired|invalidated)|Please log out and sign in again|"
    "429 Too Many Requests|exceeded retry limit|usage limit|[Rr]ate limit|"
    "[Tt]oo many requests|Quota exceeded"
)
NAIVE_LOOP = """\
#!/bin/sh
# The naive heartbeat: ask tmux about each session, read its pane, grep the codex log.
sock=$1; log=$2; shift 2
for name in "$@"; do
    if tmux -S "$sock" has-session -t "=$name" 2>/dev/null; then
        pane=$(tmux -S "$sock" capture-pane -p -t "=$name:" -S -200)
        printf '%s: %s lines\\n' "$name" "$(printf '%s\\n' "$pane" | wc -l)"
    else
        printf '%s: gone\\n' "$name"
    fi
    grep -E "$NAIVE_PATTERN" "$log" | tail -n 5
done
"""
COUNTING_TMUX = """\
#!/bin/sh
echo x >> {count}
exec {real} "$@"
"""


# ------------------------------------------------------------------------------ the codex log

LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "DEBUG", "TRACE")
FILES = (
    "src/app/handlers.py",
    "src/app/db.py",
    "tests/test_handlers.py",
    "README.md",
    "pyproject.toml",
)
COMMANDS = (
    'rg -n "def handle_" src',
    "pytest -q",
    "git status --short",
    "sed -n '1,80p' src/app/db.py",
)
STAMP = "%Y-%m-%dT%H:%M:%S.%f"
STAMP_LEN = len("2026-11-25T14:32:01.123456")


def _message(rng: random.Random) -> tuple[str, str, str]:
    """One (level, target, message) of the kinds codex-tui.log is made of; none is an error."""
    turn = f"{rng.getrandbits(64):016x}"
    level = rng.choice(LEVELS)
    kind = rng.randrange(12)
    if kind == 0:
        return level, "codex_core::codex", f"new turn started turn_id={turn} model=gpt-5-codex"
    if kind == 1:
        return (
            level,
            "codex_core::client",
            "POST https://chatgpt.com/backend-api/codex/responses status=200 "
            f"elapsed_ms={rng.randint(150, 4000)} request_id=req_{turn}",
        )
    if kind == 2:
        cmd = rng.choice(COMMANDS)
        return (
            level,
            "codex_core::exec",
            f'exec_command cmd=["bash", "-lc", "{cmd}"] cwd=/home/dev/code/app '
            f"exit_code=0 duration_ms={rng.randint(3, 900)}",
        )
    if kind == 3:
        return (
            level,
            "codex_core::codex",
            f"SSE event: response.output_text.delta item_id=msg_{turn}",
        )
    if kind == 4:
        return (
            level,
            "codex_core::rollout",
            f"recorded response item type=function_call_output call_id=call_{turn[:12]}",
        )
    if kind == 5:
        return (
            level,
            "codex_tui::app",
            f"resize cols={rng.randint(80, 240)} rows={rng.randint(24, 70)}",
        )
    if kind == 6:
        return (
            level,
            "codex_core::apply_patch",
            f"applied patch to {rng.choice(FILES)} (+{rng.randint(1, 40)} -{rng.randint(0, 20)})",
        )
    if kind == 7:
        return (
            level,
            "codex_core::mcp_connection_manager",
            f"tool list refreshed server=filesystem tools={rng.randint(3, 14)}",
        )
    if kind == 8:
        return (
            level,
            "codex_core::conversation_manager",
            f"token usage input={rng.randint(2000, 90000)} cached={rng.randint(0, 60000)} "
            f"output={rng.randint(10, 4000)} reasoning={rng.randint(0, 3000)}",
        )
    if kind == 9:
        return (
            level,
            "codex_otel::otel_event_manager",
            f"event.name=codex.sse_event event.kind=response.completed duration_ms="
            f"{rng.randint(200, 30000)} conversation.id={turn}",
        )
    if kind == 10:
        return (
            "WARN",
            "codex_core::codex",
            f"stream disconnected - retrying turn ({rng.randint(1, 4)}/5 in "
            f"{rng.randint(150, 900)}ms)...",
        )
    return level, "codex_tui::chatwidget", f"history cell committed lines={rng.randint(1, 60)}"


def log_line(rng: random.Random, stamp: datetime.datetime) -> str:
    """A tracing line as codex writes it: ``<RFC 3339 µs>Z <LEVEL:>5> <target>: <message>``."""
    level, target, message = _message(rng)
    return f"{stamp.strftime(STAMP)}Z {level:>5} {target}: {message}\n"


BLOCK_HOUR = "2026-11-25T14:"


def log_block(size: int, seed: int = 6) -> bytes:
    """At least *size* bytes of whole lines spread evenly over 2026-11-25 14:00-15:00 UTC."""
    rng = random.Random(seed)
    bodies: list[str] = []
    total = 0
    while total < size:
        level, target, message = _message(rng)
        bodies.append(f"Z {level:>5} {target}: {message}\n")
        total += STAMP_LEN + len(bodies[-1])
    start = datetime.datetime(2026, 11, 25, 14, 0, 0)
    step = 3_600_000_000 // len(bodies)
    return "".join(
        (start + datetime.timedelta(microseconds=i * step)).strftime(STAMP) + body
        for i, body in enumerate(bodies)
    ).encode()


def write_log(path: pathlib.Path, size: int) -> None:
    """*size* bytes (to a line) of real text: one block rewritten hour after hour, not a hole.

    Synced to disk, so that no write-back runs under the timings.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    block = log_block(min(size, 2 * MIB))
    first = datetime.datetime(2026, 11, 1, 0)
    written = 0
    with path.open("wb") as handle:
        hour = 0
        while written < size:
            when = first + datetime.timedelta(hours=hour)
            chunk = block.replace(BLOCK_HOUR.encode(), when.strftime("%Y-%m-%dT%H:").encode())
            room = size - written
            if len(chunk) > room:
                chunk = chunk[: chunk.rfind(b"\n", 0, room) + 1]
                if not chunk:
                    break  # not a whole line's room left: the log ends with a newline
            handle.write(chunk)
            written += len(chunk)
            hour += 1
        handle.flush()
        os.fsync(handle.fileno())


def append_lines(path: pathlib.Path, rng: random.Random, count: int = APPEND_LINES) -> int:
    """Append *count* fresh lines (now-stamped); returns the bytes written."""
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    data = "".join(log_line(rng, now) for _ in range(count)).encode()
    with path.open("ab") as handle:
        handle.write(data)
    return len(data)


# ------------------------------------------------------------------------------ processes


@dataclasses.dataclass
class Run:
    seconds: float
    maxrss_kib: int
    returncode: int
    stdout: str
    stderr: str


#: GNU time reports the peak RSS of the command alone; without it, wait4's figure also
#: holds this benchmark's own RSS (the child's memory before exec counts as its peak).
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run(argv: Sequence[str], env: dict[str, str], cwd: pathlib.Path) -> Run:
    """Run *argv*; wall time and the peak RSS (KiB) of its process tree."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss_file,
    ):
        wrapped = list(argv)
        if GNU_TIME:
            wrapped = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *wrapped]
        begin = time.perf_counter()
        proc = subprocess.Popen(
            wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - begin
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        rss = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
        if GNU_TIME:
            lines = [line for line in rss_file.read().splitlines() if line.strip()]
            rss = int(lines[-1]) if lines and lines[-1].strip().isdigit() else 0
    return Run(seconds, int(rss), proc.returncode, stdout, stderr)


@dataclasses.dataclass
class Bench:
    """The temporary world: socket, notes, state, logs, the counting wrapper, the env."""

    root: pathlib.Path
    heartbeat: pathlib.Path
    real_tmux: str
    names: list[str] = dataclasses.field(default_factory=list)

    @property
    def socket(self) -> pathlib.Path:
        return self.root / "sock"

    @property
    def notes(self) -> pathlib.Path:
        return self.root / "memory"

    @property
    def count_file(self) -> pathlib.Path:
        return self.root / "tmux-calls"

    @property
    def wrap_dir(self) -> pathlib.Path:
        return self.root / "wrap"

    def codex_home(self, label: str) -> pathlib.Path:
        return self.root / f"codex-{label.replace(' ', '')}"

    def log(self, label: str) -> pathlib.Path:
        return self.codex_home(label) / "log" / "codex-tui.log"

    def setup(self) -> None:
        for folder in (self.notes, self.wrap_dir, self.root / "home", self.root / "state"):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        wrapper = self.wrap_dir / "tmux"
        wrapper.write_text(COUNTING_TMUX.format(count=self.count_file, real=self.real_tmux))
        wrapper.chmod(0o755)
        (self.root / "naive.sh").write_text(NAIVE_LOOP)
        (self.root / "config.toml").write_text(
            f"path_prefix = {json.dumps(str(AGENTS))}\nsecond_look_seconds = 0\n"
        )

    def env(self, label: str = "1 MiB", *, counting: bool = False) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HEARTBEAT_", "TMUX", "PYTHONPROFILE")) and k != "CODEX_HOME"
        }
        env.update(
            HOME=str(self.root / "home"),
            SHELL="/bin/sh",
            LC_ALL="C.UTF-8",
            HEARTBEAT_NOTES_DIR=str(self.notes),
            HEARTBEAT_SOCKET=str(self.socket),
            HEARTBEAT_STATE_DIR=str(self.root / "state"),
            HEARTBEAT_CONFIG=str(self.root / "config.toml"),
            HEARTBEAT_NOTIFY="",
            CODEX_HOME=str(self.codex_home(label)),
            XDG_STATE_HOME=str(self.root / "xdg-state"),
            XDG_CONFIG_HOME=str(self.root / "xdg-config"),
            STANDIN_DELAY=STANDIN_DELAY,
            NAIVE_PATTERN=NAIVE_PATTERN,
        )
        path = env.get("PATH", "/usr/bin:/bin")
        env["PATH"] = f"{self.wrap_dir}:{path}" if counting else path
        return env

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.real_tmux, "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            env=self.env(),
            check=False,
        )

    def grow(self, count: int) -> None:
        """Start sessions until *count* run (the seed's anatomy), and wait for their output."""
        new = []
        while len(self.names) < count:
            name = f"bench-{len(self.names):02d}"
            shell = (
                f"PATH={AGENTS}:$PATH codex exec -s workspace-write "
                f"'scenario:work-forever {name}'; EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; "
                "sleep 999999"
            )
            result = self.tmux("new-session", "-d", "-s", name, "-x", "200", "-y", "50", shell)
            if result.returncode != 0:
                raise SystemExit(f"tmux new-session {name} failed: {result.stderr.strip()}")
            self.names.append(name)
            new.append(name)
        deadline = time.monotonic() + 60
        for name in new:
            while "OpenAI Codex" not in self.tmux("capture-pane", "-p", "-t", f"={name}:").stdout:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the stand-in in {name} printed nothing in 60 s")
                time.sleep(0.1)

    def write_note(self, count: int) -> None:
        from memory_schema import render_entry

        day = datetime.date.today().isoformat()
        lines = [f"# {day}\n", "\n", "## Active Long-Running Processes\n", "\n"]
        for name in self.names[:count]:
            command = f"codex exec -s workspace-write 'scenario:work-forever {name}'"
            lines += render_entry(name, command, started=f"{day} 00:00", dir=str(self.root))
        (self.notes / f"{day}.md").write_text("".join(lines))

    def calls(self) -> int:
        """tmux invocations since the last call (and reset the count)."""
        try:
            return len(self.count_file.read_text().splitlines())
        except FileNotFoundError:
            return 0
        finally:
            self.count_file.unlink(missing_ok=True)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.tmux("kill-server")


# ------------------------------------------------------------------------------ measuring


@dataclasses.dataclass
class Row:
    n: int
    label: str
    check_ms: list[float]
    check_rss: int
    check_calls: int
    check_calls_json: int
    bytes_read: list[int]
    new_bytes: list[int]
    naive_ms: list[float]
    naive_rss: int
    naive_calls: int

    @property
    def check_median(self) -> float:
        return statistics.median(self.check_ms)

    @property
    def naive_median(self) -> float:
        return statistics.median(self.naive_ms)

    @property
    def bytes_ok(self) -> bool:
        return all(r <= n + SLACK for r, n in zip(self.bytes_read, self.new_bytes, strict=True))


def check_once(bench: Bench, label: str, *, dry: bool, counting: bool = False) -> Run:
    argv = [str(bench.heartbeat), "check", "--json"] + (["--dry-run"] if dry else [])
    result = run(argv, bench.env(label, counting=counting), bench.root)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise SystemExit(f"heartbeat check failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def measure(
    bench: Bench, ns: Sequence[int], labels: Sequence[str], runs: int, budget: float
) -> list[Row]:
    """Every (N, log) cell: the checks interleaved run by run, then the naive loops.

    All sessions run throughout; the note lists the first N. Interleaving the
    cells spreads whatever else the machine does evenly over them.
    """
    cells = [(n, label) for label in labels for n in ns]
    rng = random.Random(6)
    primed = {}
    bench.write_note(max(ns))
    for label in labels:
        check_once(bench, label, dry=False)  # prime: the offset now sits at the end of the log
        primed[label] = bench.log(label).stat().st_size
    check_ms: dict[tuple[int, str], list[float]] = {c: [] for c in cells}
    bytes_read: dict[tuple[int, str], list[int]] = {c: [] for c in cells}
    new_bytes: dict[tuple[int, str], list[int]] = {c: [] for c in cells}
    rss = dict.fromkeys(cells, 0)
    for _ in range(runs):
        for n, label in cells:
            log = bench.log(label)
            bench.write_note(n)
            append_lines(log, rng)
            result = check_once(bench, label, dry=True)
            report = json.loads(result.stdout)
            unhealthy = [s["name"] for s in report["sessions"] if s["diagnosis"] != "healthy"]
            if unhealthy or len(report["sessions"]) != n:
                print(f"  warning: N={n} {label}: not all healthy: {unhealthy}", file=sys.stderr)
            check_ms[n, label].append(result.seconds * 1000)
            bytes_read[n, label].append(int(report["log_bytes_read"]))
            new_bytes[n, label].append(log.stat().st_size - primed[label])
            rss[n, label] = max(rss[n, label], result.maxrss_kib)
    rows = []
    for n, label in cells:
        log = bench.log(label)
        bench.write_note(n)
        bench.calls()
        counted = check_once(bench, label, dry=True, counting=True)
        check_calls = bench.calls()
        calls_json = int(json.loads(counted.stdout)["tmux_calls"])
        naive = ["/bin/sh", str(bench.root / "naive.sh"), str(bench.socket), str(log)]
        naive += bench.names[:n]
        naive_ms: list[float] = []
        naive_rss = 0
        spent = 0.0
        while len(naive_ms) < NAIVE_RUNS and (not naive_ms or spent + naive_ms[0] / 1000 <= budget):
            result = run(naive, bench.env(label), bench.root)
            naive_ms.append(result.seconds * 1000)
            naive_rss = max(naive_rss, result.maxrss_kib)
            spent += result.seconds
        # the calls do not depend on the log: count them on an empty one, not another 1 GiB pass
        run([*naive[:3], os.devnull, *naive[4:]], bench.env(label, counting=True), bench.root)
        naive_calls = bench.calls()
        row = Row(
            n,
            label,
            check_ms[n, label],
            rss[n, label],
            check_calls,
            calls_json,
            bytes_read[n, label],
            new_bytes[n, label],
            naive_ms,
            naive_rss,
            naive_calls,
        )
        print(
            f"N={n:<3} log {label}: check {row.check_median:.0f} ms, naive "
            f"{row.naive_median:.0f} ms ({len(row.naive_ms)} runs), tmux calls "
            f"{row.check_calls} vs {row.naive_calls}, log read {fmt_bytes(max(row.bytes_read))}",
            flush=True,
        )
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------ imports


@dataclasses.dataclass
class Imports:
    what: str
    median_ms: float | None
    total_import_ms: float
    modules: list[str]
    packages: dict[str, float]  # third-party top-level package -> its import's cumulative ms

    @property
    def forbidden(self) -> list[str]:
        return [m for m in FORBIDDEN if m in self.modules]


def parse_importtime(text: str) -> tuple[float, list[str], dict[str, float]]:
    """(total ms, modules in import order, {third-party package: cumulative ms})."""
    total = 0.0
    modules: list[str] = []
    packages: dict[str, float] = {}
    stdlib = sys.stdlib_module_names
    for line in text.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, raw = line.split("|", 2)
        name = raw[1:].rstrip()
        level = (len(name) - len(name.lstrip())) // 2
        name = name.strip()
        modules.append(name)
        micros = int(cumulative.strip())
        if level == 0:
            total += micros / 1000
        top = name.split(".")[0]
        if (
            name == top
            and top not in stdlib
            and not top.startswith("_")
            and top not in {"heartbeat", "memory_schema", "site"}
            and top not in packages
        ):
            packages[top] = micros / 1000
    return total, modules, packages


#: Runs of each start-up command per virtualenv (the venvs interleaved).
IMPORT_RUNS = 9


def import_costs(
    bench: Bench, venvs: Sequence[tuple[str, pathlib.Path]]
) -> dict[str, list[Imports]]:
    """Import cost of each start-up command in each venv (``(name, bin folder)``).

    One run with ``PYTHONPROFILEIMPORTTIME=1`` for the modules, then the median
    wall time of IMPORT_RUNS runs, the venvs interleaved run by run so that the
    machine's other work falls on all of them alike.
    """
    env = bench.env()
    commands = {
        "import heartbeat.cli": ["{bin}/python", "-c", "import heartbeat.cli"],
        "heartbeat --help": ["{bin}/heartbeat", "--help"],
        "heartbeat status": ["{bin}/heartbeat", "status", "--json"],
        "heartbeat check --dry-run": ["{bin}/heartbeat", "check", "--dry-run", "--json"],
    }
    out: dict[str, list[Imports]] = {name: [] for name, _ in venvs}
    for what, template in commands.items():
        argvs = {name: [a.format(bin=folder) for a in template] for name, folder in venvs}
        times: dict[str, list[float]] = {name: [] for name, _ in venvs}
        for _ in range(IMPORT_RUNS):
            for name, argv in argvs.items():
                times[name].append(run(argv, env, bench.root).seconds * 1000)
        for name, argv in argvs.items():
            traced = run(argv, {**env, "PYTHONPROFILEIMPORTTIME": "1"}, bench.root)
            total, modules, packages = parse_importtime(traced.stderr)
            median = statistics.median(times[name])
            out[name].append(Imports(what, median, total, modules, packages))
    return out


# ------------------------------------------------------------------------------ reporting


def versions(python: pathlib.Path) -> dict[str, str]:
    names = (
        "heartbeat",
        "typer",
        "libtmux",
        "pendulum",
        "croniter",
        "python-frontmatter",
        "markdown-it-py",
        "rich",
        "pydantic",
    )
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        f"for n in {names!r}:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: out[n] = '-'\n"
        "print(json.dumps(out))"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return t.cast("dict[str, str]", json.loads(result.stdout))


def machine(real_tmux: str) -> list[tuple[str, str]]:
    memory = "?"
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    tmux = subprocess.run([real_tmux, "-V"], capture_output=True, text=True).stdout.strip()
    grep = subprocess.run(["grep", "--version"], capture_output=True, text=True).stdout
    return [
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("nproc", str(os.cpu_count())),
        ("memory", memory),
        ("python", platform.python_version()),
        ("tmux", tmux),
        ("grep", grep.splitlines()[0] if grep else "?"),
    ]


def fmt_bytes(count: int) -> str:
    if count >= MIB:
        return f"{count / MIB:.1f} MiB"
    if count >= KIB:
        return f"{count / KIB:.1f} KiB"
    return f"{count} B"


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub Markdown table (also readable as plain text)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return lines


def main_table(rows: Sequence[Row]) -> list[str]:
    head = [
        "N",
        "log",
        "check ms (median)",
        "naive ms (median, runs)",
        "naive/check",
        "tmux calls: check",
        "tmux calls: naive",
        "log read / new bytes (largest read)",
        "peak RSS check",
        "peak RSS naive",
    ]
    body = [head]
    for r in rows:
        worst = max(range(len(r.bytes_read)), key=lambda i: r.bytes_read[i])
        body.append(
            [
                str(r.n),
                r.label,
                f"{r.check_median:.0f}",
                f"{r.naive_median:.0f} ({len(r.naive_ms)})",
                f"{r.naive_median / r.check_median:.1f}x",
                f"{r.check_calls} (self {r.check_calls_json})",
                str(r.naive_calls),
                f"{fmt_bytes(r.bytes_read[worst])} / {fmt_bytes(r.new_bytes[worst])}",
                f"{r.check_rss / 1024:.0f} MiB",
                f"{r.naive_rss / 1024:.0f} MiB",
            ]
        )
    return table(body)


def targets(rows: Sequence[Row], ns: Sequence[int]) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, bound, met) for each number of issue 6."""
    out: list[tuple[str, str, str, bool | None]] = []
    worst_calls = max(r.check_calls for r in rows)
    out.append(("tmux calls per check, any N", str(worst_calls), "<= 3", worst_calls <= 3))
    excess = max(b - n for r in rows for b, n in zip(r.bytes_read, r.new_bytes, strict=True))
    out.append(
        (
            "log bytes read beyond the new bytes, any size",
            fmt_bytes(max(excess, 0)),
            "<= 64 KiB",
            all(r.bytes_ok for r in rows),
        )
    )
    by = {(r.n, r.label): r for r in rows}
    low, high = min(ns), max(ns)
    for label in dict.fromkeys(r.label for r in rows):
        if (low, label) in by and (high, label) in by:
            ratio = by[high, label].check_median / by[low, label].check_median
            out.append(
                (
                    f"check(N={high}) / check(N={low}), {label} log",
                    f"{ratio:.2f}",
                    "<= 1.3",
                    ratio <= 1.3,
                )
            )
    big = by.get((high, "1 GiB"))
    if big is not None:
        ratio = big.naive_median / big.check_median
        out.append((f"naive / check at N={high}, 1 GiB log", f"{ratio:.0f}", ">= 10", ratio >= 10))
    else:
        out.append((f"naive / check at N={high}, 1 GiB log", "skipped", ">= 10", None))
    return out


def imports_table(results: Sequence[Imports], venv: str) -> list[list[str]]:
    body = [
        [
            "command",
            "venv",
            f"wall ms (median of {IMPORT_RUNS})",
            "imports ms",
            "third-party packages (ms)",
            "forbidden imported",
        ]
    ]
    for r in results:
        heavy = sorted(r.packages.items(), key=lambda kv: -kv[1])
        body.append(
            [
                r.what,
                venv,
                f"{r.median_ms:.0f}" if r.median_ms is not None else "-",
                f"{r.total_import_ms:.0f}",
                ", ".join(f"{k} {v:.0f}" for k, v in heavy if v >= 1) or "-",
                ", ".join(r.forbidden) or "none",
            ]
        )
    return body


def compare_lines(imports: dict[str, list[Imports]]) -> list[str]:
    """One line per other venv: its wall-time difference and the packages only it imports."""
    if len(imports) < 2:
        return []
    (base_name, base), *others = imports.items()
    lines = [""]
    for name, results in others:
        for mine, theirs in zip(base, results, strict=True):
            if mine.median_ms is None or theirs.median_ms is None:
                continue
            extra = sorted(set(theirs.packages) - set(mine.packages))
            lines.append(
                f"- {name} against {base_name}, `{mine.what}`: "
                f"{theirs.median_ms - mine.median_ms:+.0f} ms"
                + (f" (imports {', '.join(extra)} besides)" if extra else "")
            )
    return lines


def render(
    rows: Sequence[Row],
    ns: Sequence[int],
    imports: dict[str, list[Imports]],
    facts: list[tuple[str, str]],
    notes: list[str],
    seconds: float,
) -> str:
    lines = ["# Benchmark: `heartbeat check` against the naive per-session loop", ""]
    lines.append(
        "Written by `python benchmarks/bench_check.py` (see benchmarks/README.md); "
        f"the whole run took {seconds:.0f} s."
    )
    lines += ["", "## Machine", ""]
    lines += table([["", ""], *[[k, v] for k, v in facts]])
    lines += ["", "## Check against the naive loop", ""]
    lines += main_table(rows)
    lines += [
        "",
        f"{max(ns)} stand-in agents print throughout; the note lists the first N of them. "
        f"check: the installed `heartbeat check --dry-run --json`, {len(rows[0].check_ms)} runs "
        "each (all cells interleaved run by run), after a real check saved the log offset; "
        f"{APPEND_LINES} lines appended before "
        "each run (a dry run saves no state, so the new bytes accumulate over the runs). "
        "naive: `naive.sh` below, per session `tmux has-session`, `tmux capture-pane -p -S -200`, "
        "`grep -E` over the whole codex log. tmux calls counted by a wrapper `tmux` on PATH "
        "(`self`: the check's own count in its JSON). Peak RSS: the largest of the runs, "
        + (
            "GNU time's `%M`."
            if GNU_TIME
            else "`ru_maxrss` from `wait4` (it includes this benchmark's own RSS at fork)."
        ),
        "",
        "## Targets (issue 6)",
        "",
    ]
    body = [["target", "measured", "bound", "met"]]
    for name, measured, bound, met in targets(rows, ns):
        body.append([name, measured, bound, "skipped" if met is None else ("yes" if met else "NO")])
    lines += table(body)
    lines += ["", "## Import cost", ""]
    merged: list[list[str]] = []
    for venv, results in imports.items():
        merged += imports_table(results, venv)[0 if not merged else 1 :]
    lines += table(merged)
    lines += [
        "",
        f"forbidden on the `--help`/`status` path: {', '.join(FORBIDDEN)}. "
        "`imports ms` is the sum of `-X importtime`'s top-level cumulative times (import "
        "profiling itself inflates it); third-party packages are those not in the standard "
        "library.",
    ]
    lines += [
        "",
        "`heartbeat status` imports `heartbeat.cron` on purpose: it says whether cron keeps the "
        "schedule (DESIGN §7), which reads the crontab (and imports croniter only when a "
        "heartbeat entry is installed).",
    ]
    lines += compare_lines(imports)
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    lines += ["", "## The naive loop", "", "```sh", NAIVE_LOOP.rstrip(), "```", ""]
    lines.append(f"with `NAIVE_PATTERN='{NAIVE_PATTERN}'`.")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ main


def find_heartbeat(python: pathlib.Path) -> pathlib.Path:
    beside = python.parent / "heartbeat"
    if beside.exists():
        return beside
    found = shutil.which("heartbeat")
    if not found:
        raise SystemExit(
            "the `heartbeat` console script is not installed: pip install -e '.[test]'"
        )
    return pathlib.Path(found)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ns", default="1,10,50", help="session counts (default 1,10,50)")
    parser.add_argument(
        "--sizes", default="1MiB,1GiB", help="codex log sizes: 1MiB,1GiB (default both)"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=9,
        help="timed checks per cell (default 9; issue 6 asks for at least 5)",
    )
    parser.add_argument(
        "--naive-budget",
        type=float,
        default=45.0,
        help="seconds of naive-loop runs per cell before stopping short of --runs (default 45)",
    )
    parser.add_argument(
        "--compare-venv",
        type=pathlib.Path,
        action="append",
        default=[],
        help="another virtualenv with heartbeat installed (e.g. another typer): import costs too",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=REPO / "benchmarks" / "results.md",
        help="where to write the results (default benchmarks/results.md; '-' for nowhere)",
    )
    return parser.parse_args(argv)


def sizes_of(text: str) -> dict[str, int]:
    known = {"1MiB": ("1 MiB", MIB), "1GiB": ("1 GiB", GIB)}
    out = {}
    for word in text.split(","):
        word = word.strip().replace(" ", "")
        if word not in known:
            raise SystemExit(f"--sizes: unknown size {word!r}; use 1MiB and/or 1GiB")
        label, size = known[word]
        out[label] = size
    return out


@contextlib.contextmanager
def world() -> Iterator[Bench]:
    real = shutil.which("tmux")
    if not real:
        raise SystemExit("tmux is not on PATH")
    python = pathlib.Path(sys.executable)
    root = pathlib.Path(tempfile.mkdtemp(prefix="hb-bench-", dir="/tmp"))
    bench = Bench(root, find_heartbeat(python), real)
    try:
        bench.setup()
        yield bench
    finally:
        bench.kill()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    ns = sorted({int(x) for x in args.ns.split(",")})
    sizes = sizes_of(args.sizes)
    notes: list[str] = []
    rows: list[Row] = []
    imports: dict[str, list[Imports]] = {}
    python = pathlib.Path(sys.executable)
    with world() as bench:
        print(f"setting up in {bench.root} (heartbeat: {bench.heartbeat})", flush=True)
        if "1 GiB" in sizes:
            free = shutil.disk_usage(bench.root).free
            if free < GIB_FREE_NEEDED:
                del sizes["1 GiB"]
                notes.append(
                    f"the 1 GiB case was skipped: {fmt_bytes(free)} free under {bench.root}, "
                    "3 GiB needed"
                )
                print(f"  {notes[-1]}", flush=True)
        for label, size in sizes.items():
            started = time.monotonic()
            write_log(bench.log(label), size)
            print(f"  wrote {label} of codex log in {time.monotonic() - started:.1f} s", flush=True)
        bench.grow(max(ns))
        print(f"  {max(ns)} stand-in agents are printing", flush=True)
        print(f"  {args.runs} checks per cell, interleaved ...", flush=True)
        rows += measure(bench, ns, list(sizes), args.runs, args.naive_budget)
        rows.sort(key=lambda r: (r.n, list(sizes).index(r.label)))
        bench.write_note(min(ns))
        venvs = [(python.parent.parent.name, bench.heartbeat.parent)]
        venvs += [(venv.name, venv / "bin") for venv in args.compare_venv]
        imports = import_costs(bench, venvs)
        facts = machine(bench.real_tmux)
        for venv_name, path in [
            (python.parent.parent.name, python),
            *[(v.name, v / "bin" / "python") for v in args.compare_venv],
        ]:
            facts.append(
                (
                    f"packages ({venv_name})",
                    ", ".join(f"{k} {v}" for k, v in versions(path).items()),
                )
            )
    seconds = time.monotonic() - began
    text = render(rows, ns, imports, facts, notes, seconds)
    if str(args.out) != "-":
        args.out.write_text(text)
    print()
    print(text)
    if str(args.out) != "-":
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
