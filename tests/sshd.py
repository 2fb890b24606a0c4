"""Simulated hosts for the fleet tests: real OpenSSH servers on 127.0.0.1, keys made here.

Each ``Host`` is one ``sshd -D -e`` of its own (Debian's openssh-server; `.ci/run`
installs it) on a free port of 127.0.0.1, with a host key, an authorized_keys
file and a config in the test's folder, and a heartbeat of its own: its
``heartbeat`` command is a wrapper script that gives heartbeat that host's
notes, state, config, HOME and tmux socket, then runs this checkout's
heartbeat. The client side (``Lab``) has its own key, known_hosts and ssh
config (passed as ``ssh -F``): the user's ~/.ssh is never read.

Also a closed port and a listener that accepts connections and never says a
word. ``Lab.close`` ends every process the lab started, by pid: each sshd and
everything under it (sessions, the remote commands), the shared connections'
masters (found by their control sockets' folder), the tmux servers, the
listener.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import typing as t

from libtmux.test.retry import retry_until

REPO = pathlib.Path(__file__).resolve().parent.parent
AGENTS = REPO / "tests" / "standins" / "bin"
SSHD = "/usr/sbin/sshd"
PRIVSEP = pathlib.Path("/run/sshd")


def available() -> str | None:
    """Why sshd-based tests cannot run here, or None when they can."""
    for program in (SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen"):
        if not os.access(program, os.X_OK):
            return f"{program} is missing: install openssh-server (`.ci/run` does)"
    if not PRIVSEP.is_dir():
        if os.geteuid() != 0:
            return f"{PRIVSEP} is missing (sshd's privilege separation folder) and not root"
        PRIVSEP.mkdir(mode=0o755, exist_ok=True)  # what Debian's sshd.service makes at start
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def keygen(path: pathlib.Path) -> pathlib.Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


def descendants(pid: int) -> list[int]:
    """Every process under *pid* (from /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def pids_mentioning(text: str) -> list[int]:
    """Processes whose command line holds *text* (a folder unique to one test)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def kill(pids: t.Iterable[int], sig: int = signal.SIGKILL) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, sig)


class Host:
    """One simulated host: an sshd and a heartbeat with its own notes, state and socket."""

    def __init__(self, lab: Lab, name: str, *, forced: bool) -> None:
        self.name = name
        self.folder = lab.folder / name
        self.folder.mkdir()
        self.port = free_port()
        self.notes = self.folder / "memory"
        self.notes.mkdir(mode=0o755)
        self.state = self.folder / "state"
        self.socket = self.folder / "tmux.sock"
        self.home = self.folder / "home"
        self.home.mkdir()
        self.config = self.folder / "config.toml"
        self.config.write_text(
            f'path_prefix = "{AGENTS}"\nrestart_mode = "fresh"\nsecond_look_seconds = 0\n'
        )
        self.heartbeat = self.folder / "heartbeat"
        exports = {
            "HOME": self.home,
            "HEARTBEAT_NOTES_DIR": self.notes,
            "HEARTBEAT_STATE_DIR": self.state,
            "HEARTBEAT_SOCKET": self.socket,
            "HEARTBEAT_CONFIG": self.config,
            "HEARTBEAT_NOTIFY": "",
            "XDG_STATE_HOME": self.folder / "xdg-state",
            "XDG_CONFIG_HOME": self.folder / "xdg-config",
            "CODEX_HOME": self.folder / "codex",
            "PYTHONPATH": REPO,
        }
        lines = [f"export {key}='{value}'" for key, value in exports.items()]
        self.heartbeat.write_text(
            "#!/bin/sh\n# a simulated host's heartbeat: its own folders, this checkout's code\n"
            + "\n".join(lines)
            + f"\nexport PATH='{AGENTS}':/usr/bin:/bin\n"
            + f'exec {sys.executable} -m heartbeat "$@"\n'
        )
        self.heartbeat.chmod(0o755)
        self.host_key = keygen(self.folder / "host_key")
        self.authorized = self.folder / "authorized_keys"
        client = lab.client_key.with_suffix(".pub").read_text().strip()
        if forced:
            from heartbeat.fleet import key_line

            line = key_line(lab.client_key.with_suffix(".pub"), str(self.heartbeat)).line
        else:
            line = client
        self.authorized.write_text(line + "\n")
        self.sshd_config = self.folder / "sshd_config"
        self.sshd_config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"AuthorizedKeysFile {self.authorized}",
                    f"PidFile {self.folder / 'sshd.pid'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "AllowTcpForwarding no",
                    "X11Forwarding no",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        self.log = self.folder / "sshd.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.sshd_config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        lab.processes.append(self)
        if not retry_until(self._listening, 90, raises=False):
            raise AssertionError(f"sshd on port {self.port} did not start: {self.log.read_text()}")
        public = self.host_key.with_suffix(".pub").read_text().split()
        with lab.known_hosts.open("a") as known:
            known.write(f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n")
        lab.alias(name, self.port)

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"sshd exited {self.process.returncode}: {self.log.read_text()}")
        with socket.socket() as probe:
            probe.settimeout(1)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """This host's own heartbeat, run here directly (what its check would say)."""
        return subprocess.run(
            [str(self.heartbeat), *args], capture_output=True, text=True, timeout=120
        )

    def stop(self) -> None:
        """This sshd and everything under it (sessions, remote commands), by pid."""
        below = descendants(self.process.pid)
        kill(below)
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        kill(descendants(self.process.pid) + below)
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )


class Lab:
    """The client side and its hosts: a key, known_hosts and an ssh config of the test's own."""

    def __init__(self, folder: pathlib.Path, control_dir: pathlib.Path) -> None:
        self.folder = folder
        self.folder.mkdir()
        self.control_dir = control_dir
        self.client_key = keygen(folder / "id_ed25519")
        self.known_hosts = folder / "known_hosts"
        self.known_hosts.write_text("")
        self.ssh_config = folder / "ssh_config"
        self.ssh_config.write_text(
            "Host *\n"
            "  User root\n"
            f"  IdentityFile {self.client_key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  GlobalKnownHostsFile /dev/null\n"
        )
        self.processes: list[Host] = []
        self.listeners: list[socket.socket] = []

    def alias(self, name: str, port: int, **options: str) -> str:
        """An ssh config alias *name* for 127.0.0.1:*port* (prepended: first match wins)."""
        lines = [f"Host {name}", "  HostName 127.0.0.1", f"  Port {port}"]
        lines += [f"  {key} {value}" for key, value in options.items()]
        self.ssh_config.write_text("\n".join(lines) + "\n" + self.ssh_config.read_text())
        return name

    def host(self, name: str, *, forced: bool = False) -> Host:
        return Host(self, name, forced=forced)

    def closed_port(self, name: str) -> str:
        """An alias for a port where nothing listens."""
        return self.alias(name, free_port())

    def silent(self, name: str) -> str:
        """An alias for a listener that accepts connections and never answers."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self.listeners.append(listener)
        return self.alias(name, listener.getsockname()[1])

    def ssh(
        self, alias: str, command: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """A plain ssh call through the lab's config, no sharing."""
        return subprocess.run(
            ["ssh", "-F", str(self.ssh_config), "-o", "BatchMode=yes", "-o", "ControlPath=none",
             alias, command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )  # fmt: skip

    def masters(self) -> list[int]:
        return pids_mentioning(str(self.control_dir))

    def close(self) -> None:
        for host in self.processes:
            host.stop()
        kill(self.masters())
        for listener in self.listeners:
            listener.close()
        deadline = time.monotonic() + 10
        while self.masters() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.control_dir.is_dir():
            for leftover in self.control_dir.iterdir():
                leftover.unlink()
            self.control_dir.rmdir()
