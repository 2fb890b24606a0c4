"""What reading and editing a daily note costs, by note size (run by hand).

    python benchmarks/bench_notes.py                 # 100, 2,000 and 20,000 lines
    python benchmarks/bench_notes.py --sizes 20000 --runs 5

For each size it prints the median wall time of:

- ``parse``: ``memory_schema.parse_note`` on the note's text (markdown-it already imported);
- ``parse, gc off``: the same with the collector disabled, to show what garbage
  collection costs (the parse itself keeps it frozen when it can);
- ``collect``: ``memory_schema.collect`` of the note's folder (read, decode, parse);
- ``collect, cached``: the same with a parse cache folder, after one run filled it;
- ``cold cached collect``: a fresh ``python -c`` that collects with a warm cache,
  and whether markdown_it was imported (it should not be);
- ``write-back, one edit per parse``: three carried entries, three status changes and
  a log line applied the old way (one parse per edit);
- ``write-back, one parse``: the same edits through ``memory_schema.NoteEdits``, when
  this version has it (parse + edits + read-back from the last heading);
- ``check-like``: what a writing check does with the note the previous check wrote:
  ``collect(cache_dir=)``, then ``edit_note(cache_dir=)`` with a status and a log line.

Tests never assert durations; this script is where speed is looked at.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t

import memory_schema as ms

DAY = datetime.date(2026, 2, 1)


def make_note(lines: int) -> str:
    """A long day of an assistant's appends: topics, prose, lists, fences, logs, sessions.

    One block in ten is an Active Long-Running Processes section (two entries,
    the first of them ``s1`` in the canonical form), one in fifty a table of
    sessions: a 20,000-line note holds about 850 entries.
    """
    out = [f"# {DAY.isoformat()} Sunday", ""]
    block = 0
    while len(out) < lines - 12:
        hour, minute = divmod(block, 60)
        stamp = f"{hour % 24:02d}:{minute:02d}"
        kind = block % 10
        if block % 50 == 49:
            out += [
                "| Session | Command | Status |",
                "|---|---|---|",
                f"| `t{block}` | `ralphy --codex --prd PRD.md` | running |",
                "",
            ]
        elif kind == 1:
            out += [
                "## Active Long-Running Processes",
                "",
                f"- `s{block}` — running · started 2026-02-01 {stamp} · dir `~/code/s{block}`",
                f"  - command: `codex exec --full-auto 'Task {block}'`",
                f"- web{block}: cd ~/code/web && codex exec --full-auto 'Fix {block}'",
                "",
            ]
        elif kind in (0, 5):
            out += [
                f"## {stamp} UTC - topic {block}",
                "",
                f"Read the PR #{block} review; `api` still failing on the date test, 3/7 done.",
                "Peter asked about the rate limits; told him the loops share one account.",
                "",
            ]
        elif kind in (2, 7):
            out += [
                "```bash",
                f"tmux -S ~/.tmux/sock capture-pane -t s{block} -p | tail -20",
                "# not a heading",
                "```",
                "",
            ]
        elif kind in (3, 8):
            out += [f"## Heartbeat {stamp} UTC", ""]
            out += [f"- {stamp} s{block - 2} died → restarted ({i}/3)" for i in range(1, 4)]
            out += [""]
        else:
            out += [
                f"- looked at the {block}th failing test; the fixture clock is off by a day",
                "- asked codex to keep the old endpoint until Monday",
                "",
            ]
        block += 1
    return "\n".join(out[:lines]) + "\n"


def median_ms(fn: t.Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def edits_old_way(text: str, path: pathlib.Path) -> str:
    """Heartbeat's write-back before NoteEdits: one parse per carried entry and status."""
    for index in range(3):
        text = ms.add_entry(ms.parse_note(text, path), f"carried{index}", f"codex exec c{index}")
    for name in ("s1", "s11", "s21"):
        current = ms.parse_note(text, path)
        if current.entries_named(name) and current.entries_named(name)[-1].canonical:
            text = ms.set_status(current, name, "restarted")
    return ms.append_log(ms.parse_note(text, path), ["14:40 s1 died → restarted (1/3)"])


def edits_one_parse(text: str, path: pathlib.Path) -> str:
    """The same edits through NoteEdits: one parse, each edit parsed again where it is."""
    parsed = ms.parse_note(text, path)
    edits = ms.NoteEdits()  # type: ignore[attr-defined,unused-ignore]
    for index in range(3):
        edits.add(f"carried{index}", f"codex exec c{index}")
    for name in ("s1", "s11", "s21"):
        if parsed.entries_named(name) and parsed.entries_named(name)[-1].canonical:
            edits.status(name, "restarted")
    edits.log(["14:40 s1 died → restarted (1/3)"])
    return str(edits.apply(parsed))


def cold_collect(folder: pathlib.Path, cache: pathlib.Path) -> tuple[float, bool]:
    code = (
        "import datetime, pathlib, sys, memory_schema as ms;"
        f"c = ms.collect(pathlib.Path({str(folder)!r}), datetime.date(2026, 2, 1), "
        f"cache_dir=pathlib.Path({str(cache)!r}));"
        "print(len(c.entries), 'markdown_it' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    loaded = True
    for _ in range(5):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
        times.append((time.perf_counter() - start) * 1000)
        loaded = out.split()[1] == "True"
    return statistics.median(times), loaded


def measure(size: int, runs: int, *, has_cache: bool, has_edits: bool) -> dict[str, str]:
    """One row of the table: every measurement for a note of *size* lines."""
    text = make_note(size)
    with tempfile.TemporaryDirectory(prefix="bench-notes-") as tmp:
        folder = pathlib.Path(tmp) / "memory"
        folder.mkdir()
        path = folder / f"{DAY.isoformat()}.md"
        path.write_text(text)
        old = time.time() - 60  # a note written a minute ago: the cache may keep it
        os.utime(path, (old, old))
        row: dict[str, str] = {"lines": f"{size:,}"}
        row["parse"] = f"{median_ms(lambda: ms.parse_note(text, path), runs):.1f}"
        gc.disable()
        try:
            off = median_ms(lambda: ms.parse_note(text, path), runs)
        finally:
            gc.enable()
        row["parse, gc off"] = f"{off:.1f}"
        row["collect"] = f"{median_ms(lambda: ms.collect(folder, DAY), runs):.1f}"
        if has_cache:
            cache = pathlib.Path(tmp) / "cache"
            collect: t.Any = ms.collect
            collect(folder, DAY, cache_dir=cache)
            cached = median_ms(lambda: collect(folder, DAY, cache_dir=cache), runs)
            row["collect, cached"] = f"{cached:.2f}"
            cold, loaded = cold_collect(folder, cache)
            row["cold cached collect (process)"] = (
                f"{cold:.0f} ({'markdown_it imported' if loaded else 'no markdown_it'})"
            )
        few = max(3, runs // 3)
        row["write-back, one parse per edit"] = (
            f"{median_ms(lambda: edits_old_way(text, path), few):.1f}"
        )
        if has_edits:
            row["write-back, one parse"] = (
                f"{median_ms(lambda: edits_one_parse(text, path), runs):.1f}"
            )
        if has_cache and has_edits:
            start = make_note(size - runs - 4)  # it grows by a log line a run
            cached = check_like(folder, path, start, pathlib.Path(tmp) / "c", runs)
            row["check-like: collect + edit_note, cached"] = f"{cached:.1f}"
    return row


def check_like(
    folder: pathlib.Path, path: pathlib.Path, text: str, cache: pathlib.Path, runs: int
) -> float:
    """A writing check's note work: collect (cached), then one edit_note with NoteEdits.

    The note is the one the previous run wrote (as on a real day, where the
    check's own write is what the next check reads); each run changes one
    status and logs one line.
    """
    api: t.Any = ms
    path.write_text(text)
    times = []
    for run in range(runs + 1):
        start = time.perf_counter()
        api.collect(folder, DAY, cache_dir=cache)
        edits = api.NoteEdits()
        edits.status("s1", "restarted" if run % 2 else "stalled")
        edits.log([f"14:{run % 60:02d} s1 died → restarted (1/3)"])
        api.edit_note(path, edits.apply_parsed, cache_dir=cache)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[1:])  # the first run fills the cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,2000,20000")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    has_cache = "cache_dir" in ms.collect.__code__.co_varnames
    has_edits = hasattr(ms, "NoteEdits")
    ms.parse_note("# warm up\n", pathlib.Path("/x.md"))  # import markdown-it once
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.runs, has_cache=has_cache, has_edits=has_edits)
        rows.append(row)
        print(row, flush=True)
    columns = list(rows[0])
    print()
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row.get(c, "") for c in columns) + " |")


if __name__ == "__main__":
    main()
