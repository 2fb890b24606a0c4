"""Record (or check) the transcripts: every scenario run against the real, pinned agents.

    python -m tests.realagents.record                  # run all, write transcripts/
    python -m tests.realagents.record codex/quota ...   # only these
    python -m tests.realagents.record --check          # run, compare, print diffs, exit 1

Each scenario runs on its own private tmux server (``tmux -S <tmp>/tmux.sock -f /dev/null``)
in a fresh temporary root, against one fake API for the whole run. ``transcripts/<agent>/
<name>.txt`` is the normalized pane text; ``<name>.json`` says which release ran which
command, its exit code and what it recorded on disk (normalized too).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time
import typing as t

from tests.realagents import bed, install, scenarios
from tests.realagents.fakeapi import FakeAPI
from tests.realagents.normalize import normalize, scrub

if t.TYPE_CHECKING:
    from tests.realagents.scenarios import Scenario

TRANSCRIPTS = pathlib.Path(__file__).resolve().parent / "transcripts"


class Recorded(t.NamedTuple):
    text: str  # the normalized pane
    meta: str  # the normalized JSON sidecar

    @staticmethod
    def path(scenario: Scenario) -> pathlib.Path:
        return TRANSCRIPTS / scenario.agent / f"{scenario.name}.txt"

    @classmethod
    def load(cls, scenario: Scenario) -> Recorded | None:
        text_path = cls.path(scenario)
        if not text_path.exists():
            return None
        meta_path = text_path.with_suffix(".json")
        meta = meta_path.read_text(encoding="utf-8") if meta_path.exists() else ""
        return cls(text_path.read_text(encoding="utf-8"), meta)

    def save(self, scenario: Scenario) -> None:
        path = self.path(scenario)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text, encoding="utf-8")
        path.with_suffix(".json").write_text(self.meta, encoding="utf-8")


def release(scenario: Scenario) -> str:
    """The agent release that printed a transcript: codex runs under ralphy too."""
    pin = install.pin(scenario.agent)
    out = f"{pin.package}@{pin.version}"
    if scenario.agent == "ralphy":
        codex = install.pin("codex")
        out += f" (with {codex.package}@{codex.version})"
    return out


def recorded(scenario: Scenario, the_bed: bed.Bed, run: bed.Run) -> Recorded:
    meta = {
        "scenario": scenario.id,
        "about": scenario.about,
        "release": release(scenario),
        "command": scenario.command,
        "api": scenario.api,
        "exit_code": run.exit_code,
        # read once the agent has exited: a running agent may not have written them yet
        "records": scrub(run.records) if scenario.until == "exit" else None,
    }
    raw = json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return Recorded(run.normalized(the_bed), normalize(raw, the_bed.dirs()))


def run_in(
    scenario: Scenario,
    fake: FakeAPI,
    bin_dir: pathlib.Path,
    root: pathlib.Path,
    socket: pathlib.Path,
) -> Recorded:
    """One run of a scenario under ``root``, in session ``agent`` on the tmux server at
    ``socket`` (killed afterwards); its normalized transcript."""
    the_bed = bed.prepare(scenario, root, fake, bin_dir)
    bed.start(the_bed, socket, "agent", server_env={"SHELL": "/bin/sh"})
    try:
        result = bed.finish(the_bed, socket, "agent", fake)
    finally:
        bed.kill_server(socket)
    return recorded(scenario, the_bed, result)


def run(scenario: Scenario, fake: FakeAPI, bin_dir: pathlib.Path) -> Recorded:
    """One run of a scenario on a private tmux server in a temporary folder."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="heartbeat-record-"))
    try:
        return run_in(scenario, fake, bin_dir, root, root / "tmux.sock")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def drift(expected: str, actual: str, name: str) -> str:
    """'' when a run matches its transcript, else a unified diff.

    Lines an agent prints from concurrent tasks (tracing lines beside the banner, a retry
    counted while another request runs) may come in another order or number from run to
    run: when the two differ only so — the same distinct lines — that is not drift.
    """
    if expected == actual or set(expected.splitlines()) == set(actual.splitlines()):
        return ""
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        f"{name} (recorded)",
        f"{name} (this run)",
    )
    return "".join(diff)


def compare(scenario: Scenario, now: Recorded) -> str:
    before = Recorded.load(scenario)
    if before is None:
        how = f"python -m tests.realagents.record {scenario.id}"
        return f"{scenario.id}: no transcript yet (record it: {how})\n"
    rel = Recorded.path(scenario).relative_to(TRANSCRIPTS.parent.parent.parent)
    return drift(before.text, now.text, str(rel)) + drift(
        before.meta, now.meta, str(rel.with_suffix(".json"))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realagents.record")
    parser.add_argument("ids", nargs="*", help="scenarios (agent/name); default: all")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    chosen = [scenarios.by_id(i) for i in args.ids] if args.ids else scenarios.SCENARIOS
    try:
        bin_dir = install.install()
    except install.NotInstalled as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 1
    os.environ.pop("TMUX", None)
    failed = 0
    with FakeAPI() as fake:
        for scenario in chosen:
            began = time.monotonic()
            now = run(scenario, fake, bin_dir)
            took = f"{time.monotonic() - began:5.1f}s"
            if args.check:
                diff = compare(scenario, now)
                failed += bool(diff)
                print(f"{'DRIFT' if diff else 'ok   '} {took} {scenario.id}", flush=True)
                sys.stdout.write(diff)
            else:
                now.save(scenario)
                print(
                    f"wrote {took} {Recorded.path(scenario).relative_to(TRANSCRIPTS)}", flush=True
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
