#!/usr/bin/env python3
"""What `heartbeat fleet status` costs for 1, 3 and 10 hosts on loopback (issue 22).

Run it from a clone with the test extra installed, as root or a user that can
run sshd (Debian's openssh-server), with the project's Python:

    python benchmarks/bench_fleet.py            # about a minute on 2 cores
    python benchmarks/bench_fleet.py --runs 9

Each host is a real sshd on 127.0.0.1 with its own heartbeat (tests/sshd.py:
own notes, state and tmux socket; no sessions), reached through a key, a
known_hosts and an ssh config made here. The installed ``heartbeat fleet status
--json`` runs as a subprocess, without this machine's row (``local = false``),
once to warm up and then ``--runs`` times; the figure is the median wall time:

- shared: ``ControlMaster=auto`` — the warm-up opened the connections, the timed
  runs reuse them (the usual case when fleet status runs more than once in
  ``control_persist`` seconds);
- not shared: ``--no-share`` — a full ssh handshake per host per run;
- the floor: ``ssh HOST true`` over the same config, shared and not, for one host
  (what ssh alone costs, without heartbeat at the other end).

Then how it behaves when a host hangs: three answering hosts plus one whose
heartbeat never answers (``sleep``) and one listener that accepts and never
says a word: the run ends at connect_timeout + command_timeout, with the
hanging rows as errors. Everything is removed at the end (sshd, masters, files).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import sshd  # noqa: E402

HEARTBEAT = pathlib.Path(sys.executable).parent / "heartbeat"
CONNECT, COMMAND = 3, 6


def config(path: pathlib.Path, lab: sshd.Lab, hosts: list[tuple[str, str]]) -> None:
    lines = [
        "[fleet]",
        f"ssh_config = {json.dumps(str(lab.ssh_config))}",
        f"connect_timeout = {CONNECT}",
        f"command_timeout = {COMMAND}",
        "local = false",
    ]
    for name, command in hosts:
        lines += ["[[fleet.hosts]]", f'name = "{name}"', f'ssh = "{name}"']
        lines.append(f"heartbeat = {json.dumps(command)}")
    path.write_text("\n".join(lines) + "\n")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, dict[str, object] | None]:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    seconds = time.monotonic() - started
    try:
        return seconds, json.loads(done.stdout)
    except ValueError:
        return seconds, None


def median_run(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, list[str]]:
    timed(argv, env)  # warm-up: .pyc files, and the shared connections when sharing
    times, errors = [], []
    for _ in range(runs):
        seconds, data = timed(argv, env)
        times.append(seconds)
        for host in (data or {}).get("hosts", []):  # type: ignore[union-attr]
            if host["error"]:
                errors.append(f"{host['name']}: {host['error']}")
    return statistics.median(times), errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    why = sshd.available()
    if why:
        print(f"cannot run: {why}")
        return 2
    top = pathlib.Path(tempfile.mkdtemp(prefix="hbfleet-"))
    state = top / "state"
    env = {
        **os.environ,
        "HEARTBEAT_CONFIG": str(top / "config.toml"),
        "HEARTBEAT_STATE_DIR": str(state),
        "HEARTBEAT_NOTES_DIR": str(top / "memory"),
        "HEARTBEAT_NOTIFY": "",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    from heartbeat import fleet
    from heartbeat.config import load_settings

    control = fleet.control_dir(load_settings(env={**env, "HOME": str(top)}))
    lab = sshd.Lab(top / "lab", control)
    rows = []
    try:
        hosts = [lab.host(f"h{i}") for i in range(10)]
        status = [str(HEARTBEAT), "fleet", "status", "--json"]
        for count in (1, 3, 10):
            config(top / "config.toml", lab, [(h.name, str(h.heartbeat)) for h in hosts[:count]])
            shared, errors = median_run(status, env, args.runs)
            fresh, more = median_run([*status, "--no-share"], env, args.runs)
            rows.append((count, shared, fresh))
            for error in sorted(set(errors + more)):
                print(f"  error: {error}")
        floor = []
        base = ["ssh", "-F", str(lab.ssh_config), "-o", "BatchMode=yes"]
        share = ["-o", "ControlMaster=auto", "-o", f"ControlPath={top}/floor", "-o",
                 "ControlPersist=30"]  # fmt: skip
        for extra in (share, ["-o", "ControlPath=none"]):
            argv = [*base, *extra, "h0", "true"]
            subprocess.run(argv, check=True, timeout=60)
            times = []
            for _ in range(args.runs):
                started = time.monotonic()
                subprocess.run(argv, check=True, timeout=60)
                times.append(time.monotonic() - started)
            floor.append(statistics.median(times))
        subprocess.run([*base, *share, "-O", "exit", "h0"], capture_output=True, check=False)

        lab.silent("silent")
        lab.alias("stuck", hosts[0].port)
        config(
            top / "config.toml",
            lab,
            [(h.name, str(h.heartbeat)) for h in hosts[:3]]
            + [("stuck", "sleep 60; true"), ("silent", "heartbeat")],
        )
        seconds, data = timed(status, env)
        hang = [(h["name"], h["seconds"], h["error"]) for h in (data or {})["hosts"]]  # type: ignore[index]
    finally:
        lab.close()
        subprocess.run(["rm", "-rf", str(top)], check=False)

    print(f"\nheartbeat fleet status --json, median of {args.runs} runs, loopback, "
          f"{os.cpu_count()} CPUs, {platform()}")  # fmt: skip
    print(f"{'hosts':>5}  {'shared':>8}  {'not shared':>10}")
    for count, shared, fresh in rows:
        print(f"{count:>5}  {shared:>7.2f}s  {fresh:>9.2f}s")
    print(f"floor: ssh HOST true: {floor[0] * 1000:.0f} ms shared, {floor[1] * 1000:.0f} ms not")
    print(f"\na host that hangs (connect_timeout {CONNECT} s, command_timeout {COMMAND} s): "
          f"the run took {seconds:.1f} s")  # fmt: skip
    for name, took, error in hang:
        print(f"  {name:<7} {took:5.1f}s  {error or 'ok'}")
    return 0


def platform() -> str:
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return f"Python {sys.version.split()[0]}, {ssh}"


if __name__ == "__main__":
    sys.exit(main())
