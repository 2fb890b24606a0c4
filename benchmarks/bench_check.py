#!/usr/bin/env python3
"""What a `heartbeat check` costs, side by side in one run (DESIGN §6, issue 15).

Run it from a clone with the test extra installed, with the project's Python:

    python benchmarks/bench_check.py                 # about 6-8 minutes on 2 cores
    python benchmarks/bench_check.py --quick         # 1 MiB log only, fewer runs: ~2 minutes
    python benchmarks/bench_check.py --baseline /tmp/old/.venv   # "before" beside "after"

No network. Everything lives in a temporary folder under /tmp, removed at the
end: a private tmux server (``tmux -S <tmp>/sock``, killed at the end), 50
sessions running the stand-in ``codex exec -s workspace-write 'scenario:work-forever …'``
(one line a second each, all of them throughout), notes folders listing N of
them, and codex logs of 1 MiB and 1 GiB of real tracing text (written as data,
not as a sparse file: GNU grep skips holes, which would flatter the naive loop),
stamped in order up to the last hour, as codex-tui.log is.

``PYTHONDONTWRITEBYTECODE`` is unset for every timed process, and each command
runs once before the timing: every start reads its ``.pyc`` files (without them
a start pays ~50 ms more). Wall times are medians; ratios are medians of ratios
of runs made one after the other in the same round (the machine's other work
falls on both sides alike).

Sections:

1. quiet check against the Python floor: the installed ``heartbeat check
   --quiet`` (a real check: nothing changed since the last one, nothing to
   restart) against a minimal Python script making the same two tmux calls
   (``list-panes -a``; one chained ``capture-pane`` for the N panes) and
   reading the same note, for N = 1, 10, 50;
2. the quiet check against the naive shell loop an LLM-driven heartbeat would
   run (per session ``has-session``, ``capture-pane``, ``grep -E`` over the
   whole log), with 1 MiB and 1 GiB logs; tmux client calls and log bytes read
   (with the 1 MiB log the loop runs in every round, paired with the checks);
3. ``status`` and ``check --dry-run`` with no offset kept (a fresh state):
   1 GiB log against 1 MiB;
4. a quiet check with a note of 100, 2,000 and 20,000 lines;
5. the signature scan's speed (MB/s) over the benchmark's log, against every
   pattern on every line and ``grep -E``; and over 50 panes' output;
6. start-up imports: which modules each command pays for, and the largest.

With ``--baseline VENV`` every timed heartbeat command also runs with that
virtualenv's heartbeat (the code before a change), in the same rounds.
It prints the report and writes ``benchmarks/results.md``.
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
    from collections.abc import Callable, Iterator, Sequence

REPO = pathlib.Path(__file__).resolve().parent.parent
AGENTS = REPO / "tests" / "standins" / "bin"
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
#: Free space needed before the 1 GiB log is written.
GIB_FREE_NEEDED = 3 * GIB
#: Lines appended to the codex log before each timed check (it grows while agents work).
APPEND_LINES = 20
#: Seconds between the stand-in's lines: it prints, but 50 of them leave the 2 cores free.
STANDIN_DELAY = "1.0"
#: Sessions of the fresh-log section and of the note-size section.
FRESH_N = 10
NOTE_N = 1
#: Most runs of the naive loop per cell (fewer when one run is long: see --naive-budget).
NAIVE_RUNS = 5
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
#: The Python floor: the check's two tmux calls and its note read, and nothing else
#: (as ruff formats it: results.md shows it in a code block the format gate reads).
FLOOR = """\
import subprocess, sys

sock, note, names = sys.argv[1], sys.argv[2], set(sys.argv[3:])
listing = subprocess.run(
    ["tmux", "-S", sock, "list-panes", "-a", "-F", "#{pane_id} #{session_name}"],
    capture_output=True,
    text=True,
).stdout
args = []
for line in listing.splitlines():
    pane, name = line.split(" ", 1)
    if name in names:
        args += ["capture-pane", "-p", "-J", "-t", pane, "-S", "-200", ";"]
if args:
    subprocess.run(["tmux", "-S", sock, *args[:-1]], capture_output=True, text=True)
with open(note, encoding="utf-8") as handle:
    handle.read()
"""
COUNTING_TMUX = """\
#!/bin/sh
echo x >> {count}
exec {real} "$@"
"""
#: What a quiet check must not import (DESIGN §6), and what --help/status must not.
QUIET_FORBIDDEN = ("typer", "click", "rich", "pendulum", "markdown_it", "logging.handlers")
STARTUP_FORBIDDEN = ("heartbeat.verify", "heartbeat.notify", "croniter", "libtmux")
STATUS_FORBIDDEN = ("heartbeat.verify", "heartbeat.notify", "libtmux")


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
#: Bytes of log per hour: a busy codex writes a couple of MiB an hour at TRACE.
PER_HOUR = 2 * MIB


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
    """*size* bytes (to a line) of real text, PER_HOUR an hour, the last hour the one before now.

    One block rewritten hour after hour (data, not a hole); synced to disk, so
    that no write-back runs under the timings. Every session starts after its
    last line: what a check must read is what is appended while they run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    block = log_block(PER_HOUR)
    hours = -(-size // len(block))
    last = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    first = last - datetime.timedelta(hours=hours)
    skip = hours * len(block) - size  # the oldest hour is cut: the log ends with whole hours
    with path.open("wb") as handle:
        for hour in range(hours):
            when = first + datetime.timedelta(hours=hour)
            chunk = block.replace(BLOCK_HOUR.encode(), when.strftime("%Y-%m-%dT%H:").encode())
            if hour == 0 and skip:
                chunk = chunk[chunk.find(b"\n", skip) + 1 :]
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())


def append_lines(path: pathlib.Path, rng: random.Random, count: int = APPEND_LINES) -> int:
    """Append *count* fresh lines (now-stamped); returns the bytes written."""
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    data = "".join(log_line(rng, now) for _ in range(count)).encode()
    with path.open("ab") as handle:
        handle.write(data)
    return len(data)


# ------------------------------------------------------------------------------ notes


def note_text(day: str, entries: Sequence[str], lines: int = 0) -> str:
    """A daily note: the Active section with *entries*, then the day's writing up to *lines*."""
    out = [f"# {day}\n", "\n", "## Active Long-Running Processes\n", "\n", *entries]
    rng = random.Random(lines)
    topics = ("auth redirect", "db migration", "flaky test", "release notes", "perf")
    hour = 8
    while len(out) + 8 < lines:
        hour = hour % 23 + 1
        out += ["\n", f"## {hour:02d}:{rng.randint(0, 59):02d} UTC - {rng.choice(topics)}\n", "\n"]
        for _ in range(rng.randint(3, 12)):
            words = " ".join(
                rng.choice(("the", "fix", "codex", "test", "note", "ok")) for _ in range(12)
            )
            out.append(f"- {words.capitalize()}.\n" if rng.random() < 0.6 else f"{words}.\n")
    out += ["\n"] * max(0, lines - len(out))
    return "".join(out[:lines] if lines else out)


# ------------------------------------------------------------------------------ processes


@dataclasses.dataclass
class Run:
    seconds: float
    cpu: float
    maxrss_kib: int
    returncode: int
    stdout: str
    stderr: str


def run(argv: Sequence[str], env: dict[str, str], cwd: pathlib.Path) -> Run:
    """Run *argv*; wall time, CPU time (user + system) and peak RSS (KiB) of its process tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        begin = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - begin
        out.seek(0)
        err.seek(0)
        rss = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
        return Run(
            seconds,
            usage.ru_utime + usage.ru_stime,
            int(rss),
            os.waitstatus_to_exitcode(status),
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------------------ the world


@dataclasses.dataclass
class Variant:
    """One heartbeat installation: this checkout's ("after") or a baseline ("before")."""

    name: str
    bin: pathlib.Path

    @property
    def heartbeat(self) -> pathlib.Path:
        return self.bin / "heartbeat"

    @property
    def python(self) -> pathlib.Path:
        return self.bin / "python"


@dataclasses.dataclass
class Bench:
    """The temporary world: socket, sessions, notes and state per cell, logs, the env."""

    root: pathlib.Path
    real_tmux: str
    variants: list[Variant]
    names: list[str] = dataclasses.field(default_factory=list)
    logs: dict[str, pathlib.Path] = dataclasses.field(default_factory=dict)

    @property
    def socket(self) -> pathlib.Path:
        return self.root / "sock"

    @property
    def count_file(self) -> pathlib.Path:
        return self.root / "tmux-calls"

    @property
    def wrap_dir(self) -> pathlib.Path:
        return self.root / "wrap"

    def notes(self, cell: str) -> pathlib.Path:
        return self.root / "notes" / cell

    def state(self, variant: Variant, cell: str) -> pathlib.Path:
        return self.root / "state" / variant.name / cell

    def setup(self) -> None:
        for folder in (self.wrap_dir, self.root / "home", self.root / "work"):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # the sessions' project: codex (and its stand-in) runs only in a git repository
        subprocess.run(["git", "init", "-q", str(self.root / "work")], check=True)
        wrapper = self.wrap_dir / "tmux"
        wrapper.write_text(COUNTING_TMUX.format(count=self.count_file, real=self.real_tmux))
        wrapper.chmod(0o755)
        (self.root / "naive.sh").write_text(NAIVE_LOOP)
        (self.root / "floor.py").write_text(FLOOR)
        (self.root / "config.toml").write_text(
            f"path_prefix = {json.dumps(str(AGENTS))}\nsecond_look_seconds = 0\n"
        )

    def log(self, label: str) -> pathlib.Path:
        return self.root / f"codex-{label.replace(' ', '')}" / "log" / "codex-tui.log"

    def env(
        self,
        variant: Variant | None = None,
        cell: str = "",
        label: str = "1 MiB",
        *,
        state: pathlib.Path | None = None,
        counting: bool = False,
    ) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HEARTBEAT_", "TMUX", "PYTHONPROFILE", "PYTHONDONTWRITE"))
            and k != "CODEX_HOME"
        }
        env.update(
            HOME=str(self.root / "home"),
            SHELL="/bin/sh",
            LC_ALL="C.UTF-8",
            HEARTBEAT_NOTES_DIR=str(self.notes(cell)),
            HEARTBEAT_SOCKET=str(self.socket),
            HEARTBEAT_STATE_DIR=str(
                state or (self.state(variant, cell) if variant else self.root / "state" / "x")
            ),
            HEARTBEAT_CONFIG=str(self.root / "config.toml"),
            HEARTBEAT_NOTIFY="",
            CODEX_HOME=str(self.log(label).parent.parent),
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
                f"PATH={AGENTS}:$PATH "
                f"codex exec -s workspace-write 'scenario:work-forever {name}'; "
                "EXIT_CODE=$?; echo 'EXITED:' $EXIT_CODE; sleep 999999"
            )
            result = self.tmux(
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "200",
                "-y",
                "50",
                "-c",
                str(self.root / "work"),
                shell,
            )
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

    def write_note(self, cell: str, count: int, lines: int = 0) -> pathlib.Path:
        from memory_schema import render_entry

        day = datetime.date.today().isoformat()
        entries = []
        for name in self.names[:count]:
            command = f"codex exec -s workspace-write 'scenario:work-forever {name}'"
            entries += render_entry(name, command, started=f"{day} 00:00", dir=str(self.root))
        folder = self.notes(cell)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{day}.md"
        path.write_text(note_text(day, entries, lines))
        return path

    def calls(self) -> int:
        """tmux invocations since the last call (and reset the count)."""
        try:
            return len(self.count_file.read_text().splitlines())
        except FileNotFoundError:
            return 0
        finally:
            self.count_file.unlink(missing_ok=True)

    def heartbeat(
        self, variant: Variant, cell: str, args: Sequence[str], label: str = "1 MiB", **kw: t.Any
    ) -> Run:
        result = run(
            [str(variant.heartbeat), *args], self.env(variant, cell, label, **kw), self.root
        )
        if result.returncode not in (0, 1):
            raise SystemExit(
                f"{variant.name} heartbeat {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr[-2000:]}"
            )
        return result

    def expect(self, cell: str, count: int, label: str = "1 MiB") -> None:
        """Stop when a cell's check does not see its *count* healthy sessions (a no-op timed)."""
        for variant in self.variants:
            report = json.loads(
                self.heartbeat(variant, cell, ["check", "--dry-run", "--json"], label).stdout
            )
            healthy = [s["name"] for s in report["sessions"] if s["diagnosis"] == "healthy"]
            if len(healthy) != count:
                raise SystemExit(
                    f"{variant.name}, {cell}: {len(healthy)} healthy sessions, not {count}: "
                    f"{report['sessions'][:3]} {report['problems'][:3]}"
                )

    def floor(self, cell: str, count: int) -> Run:
        day = datetime.date.today().isoformat()
        note = self.notes(cell) / f"{day}.md"
        argv = [str(self.variants[0].python), str(self.root / "floor.py"), str(self.socket)]
        return run([*argv, str(note), *self.names[:count]], self.env(), self.root)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.tmux("kill-server")


@contextlib.contextmanager
def world(variants: list[Variant]) -> Iterator[Bench]:
    real = shutil.which("tmux")
    if not real:
        raise SystemExit("tmux is not on PATH")
    root = pathlib.Path(tempfile.mkdtemp(prefix="hb-bench-", dir="/tmp"))
    bench = Bench(root, real, variants)
    try:
        bench.setup()
        yield bench
    finally:
        bench.kill()
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------------------ 1. the floor


@dataclasses.dataclass
class Paired:
    """A command's runs against a reference's, run by run in the same rounds."""

    ms: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def add(self, key: str, seconds: float) -> None:
        self.ms.setdefault(key, []).append(seconds * 1000)

    def median(self, key: str) -> float:
        return median(self.ms.get(key, []))

    def ratio(self, key: str, reference: str) -> float:
        """The median of the run-by-run ratios (each pair ran in the same round)."""
        pairs = zip(self.ms.get(key, []), self.ms.get(reference, []), strict=False)
        return median([a / b for a, b in pairs if b])


def rounds(count: int, cells: Sequence[t.Any], body: Callable[[t.Any, int], None]) -> None:
    """*count* rounds over every cell; the order of the cells alternates round by round."""
    for index in range(count):
        for cell in cells if index % 2 == 0 else list(reversed(cells)):
            body(cell, index)


def quiet_vs_floor(bench: Bench, ns: Sequence[int], runs: int) -> Paired:
    """Section 1: the installed ``check --quiet`` against the floor, per N."""
    paired = Paired()
    rng = random.Random(1)
    log = bench.log("1 MiB")
    for n in ns:
        bench.write_note(f"n{n}", n)
        bench.expect(f"n{n}", n)
        for variant in bench.variants:
            bench.heartbeat(variant, f"n{n}", ["check", "--quiet"])  # prime the state
            bench.heartbeat(variant, f"n{n}", ["check", "--quiet"])
        bench.floor(f"n{n}", n)

    def body(n: int, index: int) -> None:
        append_lines(log, rng)
        order = bench.variants if index % 2 == 0 else list(reversed(bench.variants))
        paired.add(f"floor {n}", bench.floor(f"n{n}", n).seconds)
        for variant in order:
            result = bench.heartbeat(variant, f"n{n}", ["check", "--quiet"])
            paired.add(f"{variant.name} {n}", result.seconds)
            paired.add(f"{variant.name} cpu {n}", result.cpu)

    rounds(runs, list(ns), body)
    return paired


# ------------------------------------------------------------------------------ 2. the naive loop


@dataclasses.dataclass
class NaiveRow:
    n: int
    label: str
    check: dict[str, list[float]]
    naive_ms: list[float]
    calls: dict[str, int]
    naive_calls: int
    bytes_read: dict[str, int]
    new_bytes: int
    rss: dict[str, int]
    #: naive / check of the same round, per variant (cells whose naive loop runs each round).
    ratios: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def ratio(self, variant: str) -> float:
        """naive / check: the median of paired rounds' ratios, else of the medians."""
        if self.ratios.get(variant):
            return median(self.ratios[variant])
        return median(self.naive_ms) / median(self.check[variant])


def versus_naive(
    bench: Bench, ns: Sequence[int], labels: Sequence[str], runs: int, budget: float
) -> list[NaiveRow]:
    """Section 2: the quiet check (state kept, as cron runs it) and the naive loop, per cell."""
    cells = [(n, label) for label in labels for n in ns]
    rng = random.Random(2)
    for n, label in cells:
        for variant in bench.variants:
            state = naive_state(bench, variant, n, label)
            for _ in range(2):  # the first saves the offset, the second reads the .pyc files
                bench.heartbeat(variant, f"n{n}", ["check", "--quiet"], label, state=state)
    ms: dict[tuple[int, str], dict[str, list[float]]] = {c: {} for c in cells}
    rss: dict[tuple[int, str], dict[str, int]] = {c: {} for c in cells}
    # where the naive loop is quick (the small log) it runs in every round, beside the
    # checks, and the ratio is the median of the rounds' ratios (runs under the same load)
    paired = {c for c in cells if c[1] == labels[0]}
    in_rounds: dict[tuple[int, str], list[float]] = {c: [] for c in paired}
    ratios: dict[tuple[int, str], dict[str, list[float]]] = {c: {} for c in cells}

    def naive_argv(n: int, log: pathlib.Path | str) -> list[str]:
        script = str(bench.root / "naive.sh")
        return ["/bin/sh", script, str(bench.socket), str(log), *bench.names[:n]]

    def body(cell: tuple[int, str], index: int) -> None:
        n, label = cell
        append_lines(bench.log(label), rng)
        order = bench.variants if index % 2 == 0 else list(reversed(bench.variants))
        naive = None
        if cell in paired:
            naive = run(naive_argv(n, bench.log(label)), bench.env(), bench.root).seconds
            in_rounds[cell].append(naive * 1000)
        for variant in order:
            state = naive_state(bench, variant, n, label)
            result = bench.heartbeat(variant, f"n{n}", ["check", "--quiet"], label, state=state)
            ms[cell].setdefault(variant.name, []).append(result.seconds * 1000)
            rss[cell][variant.name] = max(rss[cell].get(variant.name, 0), result.maxrss_kib)
            if naive is not None:
                ratios[cell].setdefault(variant.name, []).append(naive / result.seconds)

    rounds(runs, cells, body)
    rows = []
    for n, label in cells:
        log = bench.log(label)
        calls, read = {}, {}
        new = append_lines(log, rng)
        for variant in bench.variants:
            bench.calls()
            state = naive_state(bench, variant, n, label)
            counted = bench.heartbeat(
                variant, f"n{n}", ["check", "--json"], label, state=state, counting=True
            )
            calls[variant.name] = bench.calls()
            read[variant.name] = int(json.loads(counted.stdout)["log_bytes_read"])
        naive = naive_argv(n, log)
        naive_ms: list[float] = in_rounds.get((n, label), [])
        spent = 0.0
        while not naive_ms or (
            (n, label) not in paired
            and len(naive_ms) < NAIVE_RUNS
            and spent + naive_ms[0] / 1000 <= budget
        ):
            result = run(naive, bench.env(), bench.root)
            naive_ms.append(result.seconds * 1000)
            spent += result.seconds
        # the calls do not depend on the log: count them on an empty one
        run([*naive[:3], os.devnull, *naive[4:]], bench.env(counting=True), bench.root)
        row = NaiveRow(
            n,
            label,
            ms[n, label],
            naive_ms,
            calls,
            bench.calls(),
            read,
            new,
            rss[n, label],
            ratios[n, label],
        )
        rows.append(row)
        after = median(row.check[bench.variants[0].name])
        print(
            f"  N={n:<3} log {label}: check {after:.0f} ms, naive {median(naive_ms):.0f} ms "
            f"({len(naive_ms)} runs), tmux calls {calls} vs {row.naive_calls}",
            flush=True,
        )
    return rows


def naive_state(bench: Bench, variant: Variant, n: int, label: str) -> pathlib.Path:
    return bench.state(variant, f"n{n}-{label.replace(' ', '')}")


# ------------------------------------------------------------------------------ 3. fresh logs


def fresh_logs(bench: Bench, labels: Sequence[str], runs: int) -> Paired:
    """Section 3: ``status`` and ``check --dry-run`` with no offset kept, per log size."""
    paired = Paired()
    bench.write_note("fresh", FRESH_N)
    bench.expect("fresh", FRESH_N)
    commands = {"status": ["status", "--json"], "dry-run": ["check", "--dry-run", "--json"]}
    cells = [
        (variant, what, label)
        for variant in bench.variants
        for what in commands
        for label in labels
    ]
    read: dict[str, int] = {}

    def body(cell: tuple[Variant, str, str], index: int) -> None:
        variant, what, label = cell
        empty = (
            bench.root / "state-fresh" / f"{variant.name}-{index}-{what}-{label.replace(' ', '')}"
        )
        result = bench.heartbeat(variant, "fresh", commands[what], label, state=empty)
        key = f"{variant.name} {what} {label}"
        paired.add(key, result.seconds)
        read[key] = int(json.loads(result.stdout).get("log_bytes_read", 0))
        shutil.rmtree(empty, ignore_errors=True)

    for cell in cells:
        body(cell, -1)  # the .pyc files, the page cache
    paired.ms.clear()
    rounds(runs, cells, body)
    paired.ms.update({f"read {k}": [float(v)] for k, v in read.items()})
    return paired


# ------------------------------------------------------------------------------ 4. note sizes


def note_sizes(bench: Bench, sizes: Sequence[int], runs: int) -> Paired:
    """Section 4: a quiet check whose (unchanged) note has 100, 2,000 or 20,000 lines."""
    paired = Paired()
    for lines in sizes:
        bench.write_note(f"l{lines}", NOTE_N, lines)
        bench.expect(f"l{lines}", NOTE_N)
        for variant in bench.variants:
            bench.heartbeat(variant, f"l{lines}", ["check", "--quiet"])
            bench.heartbeat(variant, f"l{lines}", ["check", "--quiet"])
    cells = [(variant, lines) for variant in bench.variants for lines in sizes]

    def body(cell: tuple[Variant, int], _index: int) -> None:
        variant, lines = cell
        paired.add(
            f"{variant.name} {lines}",
            bench.heartbeat(variant, f"l{lines}", ["check", "--quiet"]).seconds,
        )

    rounds(runs, cells, body)
    return paired


# ------------------------------------------------------------------------------ 5. the scan


def scan_speed(bench: Bench, label: str) -> list[tuple[str, str, float]]:
    """Section 5 (this checkout's code, in this process): MB/s of the scans. (what, over, value)."""
    sys.path.insert(0, str(REPO))
    from heartbeat import profiles
    from heartbeat.logscan import KINDS
    from heartbeat.signatures import scan, scan_bytes, scan_plain

    loaded = profiles.load()
    codex = loaded.named("codex")
    log_signatures = [s for s in loaded.signatures(codex) if s.kind in KINDS]
    every = loaded.signatures(None)
    path = bench.log(label)
    size = min(path.stat().st_size, 4 * MIB)  # what one check reads at most
    with path.open("rb") as handle:
        handle.seek(-size, os.SEEK_END)
        data = handle.read()
    data = data[data.find(b"\n") + 1 :]
    sample = bench.root / "scan-sample.log"
    sample.write_bytes(data)
    mb = len(data) / 1e6

    def best(func: Callable[[], object], times: int = 5) -> float:
        spent = []
        for _ in range(times):
            begin = time.perf_counter()
            func()
            spent.append(time.perf_counter() - begin)
        return median(spent)

    text_lines = data.decode("utf-8", "replace").splitlines()
    over = f"{fmt_bytes(len(data))} of the {label} log"
    out = [
        (
            "scan_bytes, the log's signatures (as a check reads the log)",
            over,
            mb / best(lambda: scan_bytes(data, log_signatures, "log")),
        ),
        (
            "every pattern on every line (scan_plain), the same signatures",
            over,
            mb / best(lambda: scan_plain(text_lines, log_signatures, "log"), 1),
        ),
        (
            "scan over the lines, every shipped signature",
            over,
            mb / best(lambda: scan(text_lines, every, "log")),
        ),
        (
            "grep -E '<the naive loop's pattern>'",
            over,
            mb
            / best(
                lambda: subprocess.run(
                    ["grep", "-E", NAIVE_PATTERN, str(sample)], capture_output=True, check=False
                )
            ),
        ),
    ]
    panes = [
        bench.tmux("capture-pane", "-p", "-J", "-t", f"={name}:", "-S", "-200").stdout.split("\n")
        for name in bench.names
    ]
    lines = [line for pane in panes for line in pane]
    pane_mb = sum(len(line) + 1 for line in lines) / 1e6
    what = f"{len(panes)} panes' output ({len(lines)} lines), every shipped signature"
    out.append(
        ("scan, pane output", what, pane_mb / best(lambda: [scan(p, every, "pane") for p in panes]))
    )
    out.append(
        (
            "scan_plain, pane output",
            what,
            pane_mb / best(lambda: [scan_plain(p, every, "pane") for p in panes], 3),
        )
    )
    return out


# ------------------------------------------------------------------------------ 6. imports


@dataclasses.dataclass
class Imports:
    what: str
    variant: str
    median_ms: float
    total_import_ms: float
    modules: list[str]
    packages: dict[str, float]  # third-party top-level package -> its import's cumulative ms
    largest: list[tuple[str, float]]  # (module, cumulative ms) of the top-level imports
    forbidden: list[str]


def parse_importtime(
    text: str,
) -> tuple[float, list[str], dict[str, float], list[tuple[str, float]]]:
    """(total ms, modules in import order, {third-party package: ms}, largest top-level imports)."""
    total = 0.0
    modules: list[str] = []
    packages: dict[str, float] = {}
    top: list[tuple[str, float]] = []
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
            top.append((name, micros / 1000))
        first = name.split(".")[0]
        if (
            name == first
            and first not in stdlib
            and not first.startswith("_")
            and first not in {"heartbeat", "memory_schema", "site"}
            and first not in packages
        ):
            packages[first] = micros / 1000
    return total, modules, packages, sorted(top, key=lambda x: -x[1])


def import_costs(bench: Bench, runs: int) -> list[Imports]:
    """Per command and variant: median wall time, and one ``-X importtime`` run's modules."""
    commands: dict[str, tuple[list[str], str, tuple[str, ...]]] = {
        "import heartbeat.cli": (
            ["{python}", "-c", "import heartbeat.cli"],
            "n1",
            STARTUP_FORBIDDEN,
        ),
        "heartbeat --help": (["{heartbeat}", "--help"], "n1", STARTUP_FORBIDDEN),
        # status says whether cron keeps the schedule: heartbeat.cron (and croniter) are its own
        "heartbeat status": (["{heartbeat}", "status", "--json"], "n1", STATUS_FORBIDDEN),
        "heartbeat check --quiet": (["{heartbeat}", "check", "--quiet"], "n1", QUIET_FORBIDDEN),
    }
    out = []
    for what, (template, cell, forbidden) in commands.items():
        argvs = {
            v.name: [a.format(python=v.python, heartbeat=v.heartbeat) for a in template]
            for v in bench.variants
        }
        times: dict[str, list[float]] = {v.name: [] for v in bench.variants}
        for variant in bench.variants:
            run(argvs[variant.name], bench.env(variant, cell), bench.root)  # the .pyc files
        for _ in range(runs):
            for variant in bench.variants:
                result = run(argvs[variant.name], bench.env(variant, cell), bench.root)
                times[variant.name].append(result.seconds * 1000)
        for variant in bench.variants:
            env = {**bench.env(variant, cell), "PYTHONPROFILEIMPORTTIME": "1"}
            traced = run(argvs[variant.name], env, bench.root)
            total, modules, packages, largest = parse_importtime(traced.stderr)
            firsts = {m.split(".")[0] for m in modules}
            bad = [m for m in forbidden if m in modules or m in firsts]
            out.append(
                Imports(
                    what,
                    variant.name,
                    median(times[variant.name]),
                    total,
                    modules,
                    packages,
                    largest,
                    bad,
                )
            )
    return out


# ------------------------------------------------------------------------------ reporting


def versions(python: pathlib.Path) -> dict[str, str]:
    names = ("heartbeat", "typer", "libtmux", "pendulum", "croniter", "markdown-it-py", "rich")
    code = (
        "import importlib.metadata as m, json\n"
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
    load = "?"
    with contextlib.suppress(OSError):
        load = " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])
    tmux = subprocess.run([real_tmux, "-V"], capture_output=True, text=True).stdout.strip()
    grep = subprocess.run(["grep", "--version"], capture_output=True, text=True).stdout
    return [
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("nproc", str(os.cpu_count())),
        ("memory", memory),
        ("load average at the end (1, 5, 15 min)", load),
        ("python", platform.python_version()),
        ("tmux", tmux),
        ("grep", grep.splitlines()[0] if grep else "?"),
    ]


def fmt_bytes(count: float) -> str:
    if count >= MIB:
        return f"{count / MIB:.1f} MiB"
    if count >= KIB:
        return f"{count / KIB:.1f} KiB"
    return f"{count:.0f} B"


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub Markdown table (also readable as plain text)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return lines


@dataclasses.dataclass
class Results:
    variants: list[str]
    ns: list[int]
    labels: list[str]
    sizes: list[int]
    floor: Paired
    naive: list[NaiveRow]
    fresh: Paired
    notes: Paired
    scans: list[tuple[str, str, float]]
    imports: list[Imports]
    facts: list[tuple[str, str]]
    remarks: list[str]
    seconds: float = 0.0


def floor_table(r: Results) -> list[str]:
    head = ["N", "floor ms"]
    for v in r.variants:
        head += [f"check ms ({v})", f"check / floor ({v})", f"check(N) / check(1) ({v})"]
    body = [head]
    for n in r.ns:
        row = [str(n), f"{r.floor.median(f'floor {n}'):.0f}"]
        for v in r.variants:
            row += [
                f"{r.floor.median(f'{v} {n}'):.0f} (cpu {r.floor.median(f'{v} cpu {n}'):.0f})",
                f"{r.floor.ratio(f'{v} {n}', f'floor {n}'):.2f}x",
                f"{r.floor.ratio(f'{v} {n}', f'{v} {r.ns[0]}'):.2f}",
            ]
        body.append(row)
    return table(body)


def naive_table(r: Results) -> list[str]:
    head = ["N", "log", "naive ms (runs)"]
    for v in r.variants:
        head += [f"check ms ({v})", f"naive / check ({v})", f"tmux calls ({v})", f"log read ({v})"]
    head += ["naive tmux calls", "new bytes"]
    body = [head]
    for row in r.naive:
        line = [str(row.n), row.label, f"{median(row.naive_ms):.0f} ({len(row.naive_ms)})"]
        for v in r.variants:
            check = median(row.check.get(v, []))
            line += [
                f"{check:.0f}",
                f"{row.ratio(v):.1f}x" if v in row.check else "-",
                str(row.calls.get(v, "-")),
                fmt_bytes(row.bytes_read.get(v, 0)),
            ]
        line += [str(row.naive_calls), fmt_bytes(row.new_bytes)]
        body.append(line)
    return table(body)


def fresh_table(r: Results) -> list[str]:
    body = [
        [
            "command",
            "variant",
            *[f"ms, {label} log" for label in r.labels],
            *[f"log read, {label}" for label in r.labels],
            "1 GiB / 1 MiB",
        ]
    ]
    for v in r.variants:
        for what in ("status", "dry-run"):
            keys = [f"{v} {what} {label}" for label in r.labels]
            ratio = r.fresh.ratio(keys[-1], keys[0]) if len(keys) > 1 else float("nan")
            body.append(
                [
                    "status" if what == "status" else "check --dry-run",
                    v,
                    *[f"{r.fresh.median(k):.0f}" for k in keys],
                    *[fmt_bytes(r.fresh.median(f"read {k}")) for k in keys],
                    f"{ratio:.2f}" if len(keys) > 1 else "-",
                ]
            )
    return table(body)


def notes_table(r: Results) -> list[str]:
    body = [
        [
            "note lines",
            *[f"check ms ({v})" for v in r.variants],
            *[f"/ {r.sizes[0]} lines ({v})" for v in r.variants],
        ]
    ]
    for lines in r.sizes:
        body.append(
            [
                f"{lines:,}",
                *[f"{r.notes.median(f'{v} {lines}'):.0f}" for v in r.variants],
                *[f"{r.notes.ratio(f'{v} {lines}', f'{v} {r.sizes[0]}'):.2f}" for v in r.variants],
            ]
        )
    return table(body)


def imports_table(r: Results) -> list[str]:
    body = [
        [
            "command",
            "variant",
            "wall ms (median)",
            "imports ms",
            "third-party packages (ms)",
            "forbidden imported",
        ]
    ]
    for i in r.imports:
        heavy = sorted(i.packages.items(), key=lambda kv: -kv[1])
        body.append(
            [
                i.what,
                i.variant,
                f"{i.median_ms:.0f}",
                f"{i.total_import_ms:.0f}",
                ", ".join(f"{k} {v:.0f}" for k, v in heavy if v >= 1) or "-",
                ", ".join(i.forbidden) or "none",
            ]
        )
    return table(body)


def targets(r: Results) -> list[list[str]]:
    """(target, measured per variant…, bound, met by this checkout)."""
    out: list[list[str]] = []
    after = r.variants[0]

    def add(
        name: str,
        values: dict[str, float],
        bound: str,
        met: Callable[[float], bool],
        fmt: str = "{:.2f}",
    ) -> None:
        shown = [fmt.format(values[v]) if v in values else "-" for v in r.variants]
        value = values.get(after, float("nan"))
        out.append([name, *shown, bound, "yes" if met(value) else "NO"])

    low, high = r.ns[0], r.ns[-1]
    add(
        f"quiet check / floor at N={low}",
        {v: r.floor.ratio(f"{v} {low}", f"floor {low}") for v in r.variants},
        "<= 2.5",
        lambda x: x <= 2.5,
    )
    add(
        f"check(N={high}) / check(N={low})",
        {v: r.floor.ratio(f"{v} {high}", f"{v} {low}") for v in r.variants},
        "<= 1.3",
        lambda x: x <= 1.3,
    )
    for row in r.naive:
        if row.n >= 10:
            values = {v: row.ratio(v) for v in r.variants if v in row.check}
            add(
                f"naive / check at N={row.n}, {row.label} log",
                values,
                "> 1",
                lambda x: x > 1,
                "{:.1f}",
            )
    if len(r.labels) > 1:
        for what in ("status", "dry-run"):
            values = {
                v: r.fresh.ratio(f"{v} {what} {r.labels[-1]}", f"{v} {what} {r.labels[0]}")
                for v in r.variants
            }
            add(
                f"{what}, fresh {r.labels[-1]} / {r.labels[0]} log",
                values,
                "<= 1.1",
                lambda x: x <= 1.1,
            )
    scan = next((x for x in r.scans if x[0].startswith("scan_bytes")), None)
    if scan:
        out.append(
            [
                "signature scan MB/s (the log, as a check reads it)",
                f"{scan[2]:.0f}",
                *["-"] * (len(r.variants) - 1),
                ">= 100",
                "yes" if scan[2] >= 100 else "NO",
            ]
        )
    big, small = r.sizes[-1], r.sizes[0]
    add(
        f"check, {big:,}-line / {small}-line unchanged note",
        {v: r.notes.ratio(f"{v} {big}", f"{v} {small}") for v in r.variants},
        "<= 1.2",
        lambda x: x <= 1.2,
    )
    return out


def render(r: Results) -> str:
    lines = ["# Benchmark: what a `heartbeat check` costs", ""]
    lines.append(
        "Written by `python benchmarks/bench_check.py` (see the module's docstring); "
        f"the whole run took {r.seconds:.0f} s. `PYTHONDONTWRITEBYTECODE` was unset for every "
        "timed process and each command ran once before the timings (every start reads .pyc "
        "files). "
        "The machine is shared: other processes (other test suites) may have been running, so "
        "times are medians and ratios are medians of run-by-run ratios from the same rounds."
    )
    if len(r.variants) > 1:
        lines.append("")
        lines.append(
            f"Variants: `{r.variants[0]}` is this checkout; `{r.variants[1]}` the baseline "
            "(`--baseline`)."
        )
    lines += ["", "## Machine", ""]
    lines += table([["", ""], *[[k, v] for k, v in r.facts]])
    lines += ["", "## Targets (issue 15)", ""]
    lines += table([["target", *r.variants, "bound", "met"], *targets(r)])
    lines += ["", "## 1. Quiet check against the Python floor", ""]
    lines += floor_table(r)
    lines += [
        "",
        "check: the installed `heartbeat check --quiet`, a real check with its state kept, nothing "
        "changed since the last one and 50 agents printing; floor: `floor.py` below with the same "
        "Python, the same two tmux calls (list-panes; one chained capture-pane of the N panes) "
        f"and the same note. {APPEND_LINES} lines are appended to the 1 MiB codex log before each "
        "round. cpu: user + system time of the check.",
    ]
    lines += ["", "## 2. Quiet check against the naive loop", ""]
    lines += naive_table(r)
    lines += [
        "",
        "naive: `naive.sh` below, per session `tmux has-session`, `tmux capture-pane -p -S -200`, "
        "`grep -E` over the whole codex log. With the 1 MiB log it runs in every round beside the "
        "checks, and naive / check is the median of the rounds' ratios; with the 1 GiB log it runs "
        "after the rounds, fewer times when one run is long. tmux calls counted by a "
        "wrapper `tmux` first on PATH; log read: `log_bytes_read` of a `check --json` after "
        f"{APPEND_LINES} new lines (new bytes).",
    ]
    lines += ["", "## 3. status and check --dry-run with a fresh log", ""]
    lines += fresh_table(r)
    lines += [
        "",
        f"The note lists {FRESH_N} sessions; the state folder is empty for each run (no offset "
        "kept, as after an install, or for every status and dry run). The logs hold "
        f"{fmt_bytes(PER_HOUR)} "
        "an hour up to the last hour, and what the benchmark appended since.",
    ]
    lines += ["", "## 4. Note size", ""]
    lines += notes_table(r)
    lines += [
        "",
        f"A quiet check of {NOTE_N} session whose note (unchanged since the last check) holds that "
        "many lines: the Active section, then the day's sections of prose and lists.",
    ]
    lines += ["", "## 5. Signature scan", ""]
    lines += table([["scan", "over", "MB/s"], *[[a, b, f"{c:.0f}"] for a, b, c in r.scans]])
    lines += ["", "## 6. Start-up imports", ""]
    lines += imports_table(r)
    for i in r.imports:
        if i.what == "heartbeat check --quiet":
            lines += [
                "",
                f"Largest top-level imports of `heartbeat check --quiet` ({i.variant}), "
                "cumulative ms under `-X importtime`:",
                "",
            ]
            lines.append(", ".join(f"{name} {ms:.0f}" for name, ms in i.largest[:14]))
    lines += [
        "",
        f"forbidden: for `check --quiet` {', '.join(QUIET_FORBIDDEN)}; for `status` "
        f"{', '.join(STATUS_FORBIDDEN)} (it reads the crontab on purpose: heartbeat.cron, and "
        f"croniter when an entry is installed); for the others {', '.join(STARTUP_FORBIDDEN)}. "
        "`imports ms` is the sum of `-X importtime`'s top-level cumulative times (import "
        "profiling itself inflates it).",
    ]
    if r.remarks:
        lines += ["", "## Notes", ""]
        lines += [f"- {remark}" for remark in r.remarks]
    lines += ["", "## The floor", "", "```python", FLOOR.rstrip(), "```"]
    lines += ["", "## The naive loop", "", "```sh", NAIVE_LOOP.rstrip(), "```", ""]
    lines.append(f"with `NAIVE_PATTERN='{NAIVE_PATTERN}'`.")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 MiB log only, 5 runs: a quick look")
    parser.add_argument("--ns", default="1,10,50", help="session counts (default 1,10,50)")
    parser.add_argument(
        "--runs", type=int, default=None, help="timed runs per cell (default 9; --quick 5)"
    )
    parser.add_argument(
        "--naive-budget",
        type=float,
        default=45.0,
        help="seconds of naive-loop runs per cell before stopping short (default 45; one at least)",
    )
    parser.add_argument(
        "--baseline",
        type=pathlib.Path,
        default=None,
        help="a virtualenv with another heartbeat installed: timed beside this checkout's",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=REPO / "benchmarks" / "results.md",
        help="where to write the results (default benchmarks/results.md; '-' for nowhere)",
    )
    return parser.parse_args(argv)


def find_variants(args: argparse.Namespace) -> list[Variant]:
    here = pathlib.Path(sys.executable).parent
    if not (here / "heartbeat").exists():
        raise SystemExit(
            "the `heartbeat` console script is not beside this Python: pip install -e '.[test]'"
        )
    variants = [Variant("after", here)]
    if args.baseline is not None:
        folder = args.baseline / "bin" if (args.baseline / "bin").is_dir() else args.baseline
        if not (folder / "heartbeat").exists():
            raise SystemExit(f"--baseline: no heartbeat in {folder}")
        variants.append(Variant("before", folder))
    return variants


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    runs = args.runs or (5 if args.quick else 9)
    ns = sorted({int(x) for x in args.ns.split(",")})
    labels = {"1 MiB": MIB} if args.quick else {"1 MiB": MIB, "1 GiB": GIB}
    sizes = [100, 2_000, 20_000]
    remarks: list[str] = []
    with world(find_variants(args)) as bench:
        print(
            f"setting up in {bench.root} ({', '.join(v.name for v in bench.variants)})", flush=True
        )
        if "1 GiB" in labels and shutil.disk_usage(bench.root).free < GIB_FREE_NEEDED:
            del labels["1 GiB"]
            remarks.append(
                f"the 1 GiB log was skipped: less than {fmt_bytes(GIB_FREE_NEEDED)} free under /tmp"
            )
        for label, size in labels.items():
            started = time.monotonic()
            write_log(bench.log(label), size)
            print(f"  wrote {label} of codex log in {time.monotonic() - started:.1f} s", flush=True)
        bench.grow(max(ns))
        print(f"  {max(ns)} stand-in agents are printing; {runs} runs per cell", flush=True)
        print("1. quiet check against the floor", flush=True)
        floor = quiet_vs_floor(bench, ns, runs)
        print("2. against the naive loop", flush=True)
        naive = versus_naive(bench, ns, list(labels), runs, args.naive_budget)
        print("3. fresh logs", flush=True)
        fresh = fresh_logs(bench, list(labels), runs)
        print("4. note sizes", flush=True)
        notes = note_sizes(bench, sizes, runs)
        print("5. signature scan", flush=True)
        scans = scan_speed(bench, list(labels)[-1])
        print("6. imports", flush=True)
        imports = import_costs(bench, runs)
        facts = machine(bench.real_tmux)
        for variant in bench.variants:
            found = versions(variant.python)
            facts.append(
                (f"packages ({variant.name})", ", ".join(f"{k} {v}" for k, v in found.items()))
            )
        results = Results(
            [v.name for v in bench.variants],
            ns,
            list(labels),
            sizes,
            floor,
            naive,
            fresh,
            notes,
            scans,
            imports,
            facts,
            remarks,
        )
    results.seconds = time.monotonic() - began
    text = render(results)
    if str(args.out) != "-":
        args.out.write_text(text)
    print()
    print(text)
    if str(args.out) != "-":
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
