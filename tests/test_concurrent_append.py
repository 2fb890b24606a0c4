"""The assistant appends to today's note while `heartbeat notes add` edits it.

The assistant (OpenClaw) writes its daily note whenever it likes and takes no
lock. Here a second process appends a line every few milliseconds — opening,
appending and closing the file each time, as an append-only writer does —
while the installed ``heartbeat`` binary (the one cron runs) adds 100
sessions to the same note, from two processes at a time. Afterwards every
appended line and every added entry must be in the note exactly once.
"""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import subprocess
import sys

import memory_schema as ms

DAY = "2026-02-01"
ADDS = 100
HEARTBEAT = pathlib.Path(sys.executable).parent / "heartbeat"

#: Appends a line every 20 ms until told to stop (at most 1500 lines: a bigger
#: note only makes every parse slower, not the race any different).
APPENDER = """
import os, sys, time
note, stop = sys.argv[1], sys.argv[2]
count = 0
while not os.path.exists(stop) and count < 1500:
    with open(note, "a", encoding="utf-8") as handle:
        handle.write(f"- 12:{count % 60:02d} appended line {count}\\n")
    count += 1
    time.sleep(0.02)
print(count)
"""


def add(index: int) -> subprocess.CompletedProcess[str]:
    command = f"codex exec --full-auto 'task {index}: fix the “flaky” test'"
    return subprocess.run(
        [str(HEARTBEAT), "notes", "add", f"s{index}", "--command", command, "--date", DAY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_line_is_lost_between_an_appender_and_100_adds(notes_dir: pathlib.Path) -> None:
    assert HEARTBEAT.is_file(), "the package is not installed in this environment"
    note = notes_dir / f"{DAY}.md"
    note.write_text(
        f"# {DAY}\n\n## Active Long-Running Processes\n\n## 09:00 UTC - log\n\n", encoding="utf-8"
    )
    stop = notes_dir.parent / "stop-appending"
    appender = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(note), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # each add has its own 60 s timeout, the hang guard; speed is measured in benchmarks/
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(add, range(ADDS)))
    finally:
        stop.touch()
        out, _ = appender.communicate(timeout=30)
    appended = int(out)

    failures = [(r.returncode, r.stderr) for r in results if r.returncode != 0]
    assert failures == []
    assert all("Traceback" not in r.stderr for r in results)
    assert appended > ADDS  # the appender really ran alongside the adds

    lines = note.read_text(encoding="utf-8").splitlines()
    for index in range(appended):
        line = f"- 12:{index % 60:02d} appended line {index}"
        assert lines.count(line) == 1, f"appended line {index} lost or duplicated"
    for index in range(ADDS):
        heads = [line for line in lines if line.startswith(f"- `s{index}` — running")]
        assert len(heads) == 1, f"entry s{index} lost or duplicated"

    parsed = ms.read_note(note)
    assert sorted(e.name for e in parsed.entries) == sorted(f"s{i}" for i in range(ADDS))
    assert all(e.active and e.canonical for e in parsed.entries)
    commands = {e.name: e.command for e in parsed.entries}
    assert commands["s42"] == "codex exec --full-auto 'task 42: fix the “flaky” test'"
    assert sorted(os.listdir(notes_dir)) == [note.name]  # no temporary file left behind
