"""Performance guards (DESIGN §6, issue 6): counts, not times, so that CI catches a regression.

- tmux is asked a constant number of times per check (≤ 3) whatever the number of
  sessions, and the chained capture falls back to one call per pane only when the
  chain breaks — and then still returns every pane it can;
- a check reads the codex log from the offset kept in the state (at most the cap the
  first time, the new bytes after that), and reads a log that shrank or was replaced
  from the start;
- ``import heartbeat.cli`` and ``heartbeat --help`` do not import what only restarts,
  cron or verification need.

tmux invocations are counted by a wrapper ``tmux`` that logs its arguments, in front
of the real one: real tmux, real processes, nothing mocked.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import typing as t

import pendulum
import pytest

import memory_schema
from heartbeat import logscan
from heartbeat.check import CheckResult, run_check
from heartbeat.config import load_settings
from heartbeat.state import load_state
from heartbeat.tmux import Tmux
from memory_schema import render_entry
from tests import helpers

KIB = 1024
MIB = 1024 * KIB
#: What a steady-state check may read beyond the bytes appended since the last one.
SLACK = 64 * KIB
#: The most tmux client calls one check may make when nothing restarts.
MAX_TMUX_CALLS = 3
SEP = "\x1f"
WORK = "codex exec -s workspace-write 'scenario:work-forever {name}'"
#: The loggers whose DEBUG records belong in the debug log.
OWN_LOGGERS = ("heartbeat", "memory_schema")


# ---------------------------------------------------------------------- counting tmux


def counting_tmux(folder: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """A ``tmux`` in *folder* that logs each invocation's argv (one line) and runs the real one."""
    real = shutil.which("tmux")
    assert real, "tmux is not on PATH"
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "calls.log"
    wrapper = folder / "tmux"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\037' \"$@\" >> '{log}'\n"
        f"printf '\\n' >> '{log}'\n"
        f"exec '{real}' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return wrapper, log


def invocations(log: pathlib.Path) -> list[list[str]]:
    """Each logged tmux call as its argv (without the ``-S SOCKET`` prefix)."""
    if not log.exists():
        return []
    calls = []
    for line in log.read_text().splitlines():
        argv = line.split(SEP)[:-1]
        if argv[:1] == ["-S"]:
            argv = argv[2:]
        calls.append(argv)
    return calls


def heartbeat_script() -> pathlib.Path:
    """The installed console script (what cron runs), beside this Python."""
    beside = pathlib.Path(sys.executable).parent / "heartbeat"
    found = str(beside) if beside.exists() else shutil.which("heartbeat")
    assert found, "the heartbeat console script is not installed (pip install -e '.[test]')"
    return pathlib.Path(found)


@pytest.fixture
def agents(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, socket_path: pathlib.Path
) -> pathlib.Path:
    """Stand-in agents on PATH and in path_prefix (which holds no tmux of its own)."""
    monkeypatch.setenv("PATH", f"{helpers.AGENTS}:{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_DELAY", "0.2")
    helpers.write_config(
        tmp_path / "config.toml", path_prefix=str(helpers.AGENTS), second_look_seconds=0
    )
    return socket_path


def test_check_asks_tmux_a_constant_number_of_times(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The installed `heartbeat check --dry-run` for 1 and then 20 printing sessions.

    Guards against a probe per session: each session costs nothing in tmux calls,
    and every session's output still comes back (from the one chained capture).
    """
    wrapper, log = counting_tmux(tmp_path / "wrap")
    env = {**os.environ, "PATH": f"{wrapper.parent}:{os.environ['PATH']}"}
    counts: dict[int, int] = {}
    names: list[str] = []
    for n in (1, 20):
        while len(names) < n:
            name = f"perf-{len(names):02d}"
            helpers.start(agents, name, WORK.format(name=name), None)
            names.append(name)
        for name in names:
            helpers.wait_for_text(agents, name, "OpenAI Codex")
        helpers.write_note(
            notes_dir, "".join(helpers.canonical(x, WORK.format(name=x)) for x in names)
        )
        log.unlink(missing_ok=True)
        result = subprocess.run(
            [str(heartbeat_script()), "check", "--dry-run", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.stdout.strip(), result.stderr
        report = json.loads(result.stdout)
        calls = invocations(log)
        counts[n] = len(calls)
        assert report["tmux_calls"] == len(calls), calls
        sessions = {s["name"]: s for s in report["sessions"]}
        assert sorted(sessions) == names
        assert all(s["diagnosis"] == "healthy" for s in sessions.values()), report
        assert all(s["last_lines"] for s in sessions.values()), "a pane's output was lost"
        assert not [c for c in calls if c[:1] == ["capture-pane"]], "fell back to one per pane"
    assert counts[1] == counts[20] <= MAX_TMUX_CALLS, counts


def start_printing(socket: pathlib.Path, names: t.Sequence[str]) -> dict[str, str]:
    """Sessions that print ``hello-NAME`` and wait; {pane id: name}."""
    tmux = Tmux(socket)
    for name in names:
        result = tmux.new_session(name, f"printf 'hello-%s\\n' {name}; sleep 999999")
        assert result.returncode == 0, result.stderr
    for name in names:
        helpers.wait_for_text(socket, name, f"hello-{name}")
    listing = tmux.run("list-panes", "-a", "-F", "#{pane_id} #{session_name}")
    panes = dict(line.split(" ", 1) for line in listing.stdout.splitlines())
    return {pane: name for pane, name in panes.items() if name in names}


def test_one_chained_capture_for_every_pane(
    socket_path: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Five panes, one tmux call, every pane's own output."""
    panes = start_printing(socket_path, [f"p{i}" for i in range(5)])
    wrapper, log = counting_tmux(tmp_path / "wrap")
    tmux = Tmux(socket_path, binary=str(wrapper))
    output = tmux.capture(list(panes))
    assert tmux.calls == len(invocations(log)) == 1
    for pane, name in panes.items():
        assert f"hello-{name}" in output.get(pane, ""), (pane, output)


class Gap(t.NamedTuple):
    id: str
    at: int


GAPS = [Gap("first", 0), Gap("middle", 2), Gap("last", 4)]


@pytest.mark.parametrize("gap", GAPS, ids=[g.id for g in GAPS])
def test_capture_falls_back_per_pane_when_the_chain_breaks(
    socket_path: pathlib.Path, tmp_path: pathlib.Path, gap: Gap
) -> None:
    """A pane id that no longer exists (its session died between list and capture).

    tmux drops the rest of a chain at the first failing target: the panes the chain
    did not cover are asked one by one, so every live pane's output still comes back,
    and the calls are the chained one plus one per pane asked again — never more
    than one per pane, and none for panes the chain covered before the break.
    """
    panes = start_printing(socket_path, [f"q{i}" for i in range(4)])
    ids = list(panes)
    gone = "%9999"
    assert gone not in ids
    ids.insert(gap.at, gone)
    wrapper, log = counting_tmux(tmp_path / "wrap")
    tmux = Tmux(socket_path, binary=str(wrapper))
    output = tmux.capture(ids)
    assert sorted(output) == sorted(panes)
    for pane, name in panes.items():
        assert f"hello-{name}" in output[pane]
    calls = invocations(log)
    chained, singles = calls[0], calls[1:]
    assert chained.count("capture-pane") == len(ids) and ";" in chained
    again = [argv[argv.index("-t") + 1] for argv in singles]
    assert all(argv[0] == "capture-pane" for argv in singles), singles
    assert tmux.calls == len(calls) == 1 + len(again)
    assert gone in again
    assert len(again) == len(set(again)) <= len(ids)
    assert set(again) <= set(ids[max(0, gap.at - 1) :]), "re-asked a pane the chain covered"


# ---------------------------------------------------------------------- log bytes

LINES = (
    "INFO codex_core::codex: new turn started turn_id={hex} model=gpt-5-codex",
    "DEBUG codex_core::client: POST https://chatgpt.com/backend-api/codex/responses "
    "status=200 elapsed_ms={n} request_id=req_{hex}",
    'INFO codex_core::exec: exec_command cmd=["bash", "-lc", "pytest -q"] '
    "cwd=/home/dev/code/app exit_code=0 duration_ms={n}",
    "TRACE codex_core::codex: SSE event: response.output_text.delta item_id=msg_{hex}",
    "INFO codex_core::conversation_manager: token usage input={n} cached={n} output={n}",
    "WARN codex_core::codex: stream disconnected - retrying turn (1/5 in {n}ms)...",
)
STAMP = "%Y-%m-%dT%H:%M:%S"


def rate_limit_line(at: datetime.datetime) -> str:
    return (
        f"{at.strftime(STAMP)}.123456Z  WARN codex_core::codex: "
        "exceeded retry limit, last status: 429 Too Many Requests, request id: req_perf\n"
    )


def _bodies(size: int, seed: int) -> list[str]:
    """About *size* bytes of tracing lines without their stamps (none an error)."""
    rng = random.Random(seed)
    bodies, total = [], 0
    while total < size:
        level, rest = rng.choice(LINES).split(" ", 1)
        text = rest.format(hex=f"{rng.getrandbits(64):016x}", n=rng.randint(1, 90000))
        bodies.append(f"Z {level:>5} {text}\n")
        total += len(bodies[-1]) + 26
    return bodies


def tracing_text(size: int, seed: int, start: datetime.datetime, end: datetime.datetime) -> bytes:
    """About *size* bytes of codex tracing lines stamped evenly from *start* to *end*, in order."""
    bodies = _bodies(size, seed)
    step = (end - start) / len(bodies)
    stamps: dict[int, str] = {}
    out = []
    for index, body in enumerate(bodies):
        moment = start + step * index
        second = int(moment.timestamp())
        if second not in stamps:
            stamps[second] = moment.strftime(STAMP)
        out.append(f"{stamps[second]}.{moment.microsecond:06d}{body}")
    return "".join(out).encode()


def old_text(size: int, end: datetime.datetime) -> bytes:
    """*size* bytes of real tracing text (not a sparse file), 256 KiB an hour, ending at *end*."""
    hour = datetime.timedelta(hours=1)
    first = end.replace(minute=0, second=0, microsecond=0) - hour * (size // (256 * KIB) + 1)
    block = tracing_text(256 * KIB, 5, first, first + hour)
    prefix = first.strftime("%Y-%m-%dT%H:").encode()
    out, total, index = [], 0, 0
    while total < size:
        moment = first + hour * index
        chunk = block.replace(prefix, moment.strftime("%Y-%m-%dT%H:").encode())
        out.append(chunk)
        total += len(chunk)
        index += 1
    data = b"".join(out)[:size]
    return data[: data.rfind(b"\n") + 1]


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def recent(size: int, seed: int, minutes: float = 30) -> bytes:
    """Tracing text from *minutes* ago until a moment ago."""
    now = now_utc()
    return tracing_text(size, seed, now - datetime.timedelta(minutes=minutes), now)


def check(*, read_only: bool = False) -> CheckResult:
    """A real (not dry-run) check: it keeps the log offset in the state.

    ``read_only`` is `heartbeat status`: it keeps nothing (a fresh read each time).
    """
    return run_check(load_settings(), pendulum.now(), read_only=read_only, sleep=lambda _: None)


@pytest.fixture
def codex_log() -> pathlib.Path:
    log = load_settings().codex_log
    log.parent.mkdir(parents=True)
    return log


def test_check_reads_at_most_the_cap_then_only_the_new_bytes(codex_log: pathlib.Path) -> None:
    """A 20 MiB log, 6 MiB of it from the last half hour: the first check reads the newest cap.

    The notes list no session: the codex log is a global source, read by every check.
    """
    old_end = now_utc() - datetime.timedelta(hours=2)
    codex_log.write_bytes(old_text(14 * MIB, old_end) + recent(6 * MIB, seed=1))
    cap = load_settings().log_bytes_per_check
    assert cap < 6 * MIB
    first = check()
    assert cap <= first.log_bytes_read <= cap + SLACK
    line = rate_limit_line(now_utc())
    added = recent(10 * KIB - len(line), seed=2, minutes=1) + line.encode()
    with codex_log.open("ab") as handle:
        handle.write(added)
    second = check()
    assert len(added) <= second.log_bytes_read <= len(added) + SLACK
    events = load_state(load_settings().state_dir).log_events
    assert [e.kind for e in events] == ["rate_limit"], "the appended 429 line was not seen"
    assert check().log_bytes_read <= SLACK, "nothing new, yet the log was read again"


class Change(t.NamedTuple):
    id: str
    size: int
    replace: bool


CHANGES = [
    Change("shrank", 100 * KIB, replace=False),
    # larger than the saved offset: only the new inode says it is another file
    Change("replaced", 2 * MIB, replace=True),
]


def replace_log(codex_log: pathlib.Path, text: bytes, *, replace: bool) -> None:
    if replace:
        fresh = codex_log.with_name("codex-tui.log.new")
        fresh.write_bytes(text)  # created while the old file exists: another inode
        old_inode = codex_log.stat().st_ino
        os.replace(fresh, codex_log)
        assert codex_log.stat().st_ino != old_inode
    else:
        with codex_log.open("r+b") as handle:  # truncated in place: the same inode
            handle.truncate(0)
            handle.write(text)


@pytest.mark.parametrize("change", CHANGES, ids=[c.id for c in CHANGES])
def test_a_log_that_shrank_or_was_replaced_is_read_from_the_start(
    codex_log: pathlib.Path, change: Change
) -> None:
    """All of it from the last half hour: the whole file is read (and a search step or so)."""
    codex_log.write_bytes(recent(1 * MIB, seed=3))
    size = codex_log.stat().st_size
    assert size <= check().log_bytes_read <= size + SLACK
    text = recent(change.size, seed=4)
    replace_log(codex_log, text, replace=change.replace)
    assert len(text) <= check().log_bytes_read <= len(text) + SLACK


@pytest.mark.parametrize("change", CHANGES, ids=[c.id for c in CHANGES])
def test_a_replaced_log_is_read_from_the_earliest_time_that_matters(
    codex_log: pathlib.Path, change: Change
) -> None:
    """The new file holds hours of old lines: only its last half hour is read."""
    codex_log.write_bytes(recent(1 * MIB, seed=3))
    check()
    tail = recent(40 * KIB, seed=6)
    old = old_text(change.size + 2 * MIB, now_utc() - datetime.timedelta(hours=2))
    replace_log(codex_log, old + tail, replace=change.replace)
    assert len(tail) <= check().log_bytes_read <= len(tail) + SLACK


class Fresh(t.NamedTuple):
    id: str
    #: Minutes ago a gone codex session was started (None: no session is watched).
    started: int | None


FRESH = [
    Fresh("no-session", None),
    Fresh("codex-started-2h-ago", 120),
    Fresh("codex-started-20min-ago", 20),
]


@pytest.mark.parametrize("fresh", FRESH, ids=[f.id for f in FRESH])
def test_a_fresh_read_of_a_large_log_costs_what_a_small_one_does(
    codex_log: pathlib.Path, notes_dir: pathlib.Path, fresh: Fresh
) -> None:
    """`status` (no offset kept) over 1 MiB and 64 MiB of old lines with the same recent hours.

    The read starts a second before the oldest watched codex session started (an hour
    ago when none is): the bytes read are those since then, whatever the log's size.
    """
    now = now_utc()
    if fresh.started is not None:
        began = now - datetime.timedelta(minutes=fresh.started)
        command = "codex exec 'scenario:work-forever gone'"
        entry = render_entry("gone", command, "running", started=f"{began:%Y-%m-%d %H:%M}")
        helpers.write_note(notes_dir, "".join(entry))
    middle = tracing_text(
        200 * KIB,
        7,
        now - datetime.timedelta(hours=3),
        now - datetime.timedelta(minutes=90),
    )
    tail = recent(100 * KIB, seed=8)
    old_end = now - datetime.timedelta(hours=3)
    since = (now - datetime.timedelta(minutes=fresh.started or 60)).timestamp() - 61
    wanted = sum(
        len(line) + 1
        for line in (middle + tail).decode().splitlines()
        if logscan.line_time(line, 0) >= since
    )
    read = {}
    for label, size in (("1 MiB", MIB), ("64 MiB", 64 * MIB)):
        codex_log.write_bytes(old_text(size, old_end) + middle + tail)
        result = check(read_only=True)
        assert [s.name for s in result.sessions] == (["gone"] if fresh.started else [])
        read[label] = result.log_bytes_read
        assert wanted <= read[label] <= wanted + SLACK, (label, read[label], wanted)
    assert abs(read["64 MiB"] - read["1 MiB"]) <= SLACK, read


# ---------------------------------------------------------------------- imports

#: Modules that only restarts, cron or verification need.
RESTART_CRON_VERIFY = (
    "heartbeat.verify",
    "heartbeat.schedule.cron",
    "heartbeat.notify",
    "croniter",
    "libtmux",
)


class Startup(t.NamedTuple):
    id: str
    argv: list[str]
    forbidden: tuple[str, ...]


def startups() -> list[Startup]:
    script = str(heartbeat_script())
    return [
        Startup(
            "import-heartbeat-cli",
            [sys.executable, "-X", "importtime", "-c", "import heartbeat.cli"],
            RESTART_CRON_VERIFY,
        ),
        # captured, not a terminal: click's plain help, without rich and markdown-it
        Startup("help", [script, "--help"], (*RESTART_CRON_VERIFY, "rich", "markdown_it")),
        # status reports whether the scheduler keeps the schedule (DESIGN §7): the
        # scheduler modules, croniter with them, are its to import.
        Startup("status", [script, "status"], ("heartbeat.verify", "heartbeat.notify", "libtmux")),
    ]


def imported(stderr: str) -> set[str]:
    """Module names from ``-X importtime`` output."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize("startup", startups(), ids=[s.id for s in startups()])
def test_startup_does_not_import_what_only_restarts_cron_or_verify_need(
    startup: Startup,
) -> None:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(
        startup.argv, capture_output=True, text=True, env=env, timeout=60, check=False
    )
    modules = imported(result.stderr)
    assert "heartbeat.cli" in modules, result.stderr[-2000:]
    assert sorted(m for m in startup.forbidden if m in modules) == []


#: What a quiet check (no note changed, nothing to restart) must not import (DESIGN §6).
QUIET_FORBIDDEN = (
    "typer",
    "click",
    "rich",
    "pendulum",
    "logging.handlers",
    "urllib.request",
    "heartbeat.notify",
    "heartbeat.cli.misc",
    "heartbeat.verify",
    "libtmux",
    # paid only by a check that writes a note or notifies
    "tempfile",
    "heartbeat.launch",
)


class Quiet(t.NamedTuple):
    id: str
    argv: list[str]
    #: Also not imported: a check that writes its state keeps the note's parse, logs
    #: nothing and so loads no logging; a dry run parses (markdown-it logs).
    also: tuple[str, ...] = ()


QUIET = [
    Quiet("quiet", ["check", "--quiet"], ("logging",)),
    Quiet("json", ["check", "--json"], ("logging",)),
    Quiet("dry-run", ["check", "--dry-run", "--quiet"]),
]


def quiet_check_imports(
    agents: pathlib.Path, notes_dir: pathlib.Path, argv: list[str]
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules the installed script imports for a check with nothing to do."""
    name = "calm"
    helpers.start(agents, name, WORK.format(name=name), None)
    helpers.wait_for_text(agents, name, "OpenAI Codex")
    helpers.write_note(notes_dir, helpers.canonical(name, WORK.format(name=name)))
    primed = subprocess.run(
        [str(heartbeat_script()), "check", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert primed.returncode == 0, primed.stderr
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(
        [str(heartbeat_script()), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return imported(result.stderr), result


@pytest.mark.parametrize("quiet", QUIET, ids=[q.id for q in QUIET])
def test_a_quiet_check_imports_no_cli_framework_date_library_or_notifier(
    agents: pathlib.Path, notes_dir: pathlib.Path, quiet: Quiet
) -> None:
    """A healthy session, nothing changed since the last check: the fast path's imports."""
    modules, result = quiet_check_imports(agents, notes_dir, quiet.argv)
    assert "heartbeat.check" in modules, result.stderr[-2000:]
    top = {m.split(".")[0] for m in modules}
    forbidden = (*QUIET_FORBIDDEN, *quiet.also)
    assert sorted(m for m in forbidden if m in modules or m in top) == []


def test_the_quiet_path_is_the_list_written_in_the_code(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    """``heartbeat.QUIET_PATH`` is what a quiet check imports of ours, no more and no less:
    a module that joins the path must be added (and follow its idioms), one that
    leaves it must be taken out."""
    import heartbeat

    modules, _ = quiet_check_imports(agents, notes_dir, ["check", "--quiet"])
    ours = {m for m in modules if m.split(".")[0] in {"heartbeat", "memory_schema"}}
    assert ours == heartbeat.QUIET_PATH - {"heartbeat.ping"}


def test_a_quiet_check_does_not_parse_an_unchanged_note(
    agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    modules, _ = quiet_check_imports(agents, notes_dir, ["check", "--quiet"])
    assert "markdown_it" not in modules
    assert "memory_schema.parse" not in modules


# ---------------------------------------------------------------------- the debug log


def test_debug_log_does_not_grow_with_third_party_records(
    notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """A real check of the installed script over 20 paused entries (nothing to restart).

    The rotating debug log keeps the heartbeat's own records; a library's DEBUG
    chatter would cost time per entry and rotate the post-mortem away within hours.
    """
    helpers.write_note(
        notes_dir,
        "".join(
            "".join(render_entry(f"p{i}", WORK.format(name=f"p{i}"), "paused")) for i in range(20)
        ),
    )
    result = subprocess.run(
        [str(heartbeat_script()), "check", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(result.stdout)
    assert [s["diagnosis"] for s in report["sessions"]] == ["paused"] * 20, result.stderr
    debug_log = load_settings().state_dir / "heartbeat.log"
    foreign = [
        line
        for line in (debug_log.read_text().splitlines() if debug_log.exists() else [])
        if " DEBUG " in line and not line.split(" DEBUG ", 1)[1].startswith(OWN_LOGGERS)
    ]
    assert len(foreign) == 0, foreign[:5]


# ---------------------------------------------------------------------- parses per check


def test_a_check_that_writes_its_log_lines_parses_the_note_once(
    notes_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once to read the notes; the edit under the lock reuses that parse, not again per edit.

    ``parse_note`` is wrapped to count its calls per file (a spy: it delegates
    to the real parser, nothing else changes). The session is gone and the
    check may not restart it: it writes one log line, and the status word the note
    already says (died) stays.
    """
    import memory_schema.files

    note = helpers.write_note(
        notes_dir, "".join(render_entry("job", "codex exec 'x'", "died")) + "prose\n" * 200
    )
    counts: dict[str, int] = {}
    real = memory_schema.parse_note

    def counting(text: str, path: pathlib.Path) -> memory_schema.ParsedNote:
        counts[str(path)] = counts.get(str(path), 0) + 1
        return real(text, path)

    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.startswith("memory_schema") and getattr(module, "parse_note", None) is real:
            monkeypatch.setattr(module, "parse_note", counting)
    result = run_check(load_settings(), pendulum.now(), no_restart=True, sleep=lambda _: None)
    assert [(s.name, s.action) for s in result.sessions] == [("job", "reported")]
    assert "job died → reported" in note.read_text()
    # read once into the parse cache; the edit starts from the cached parse and reparses
    # only around the lines it changes
    assert counts == {str(note): 1}
