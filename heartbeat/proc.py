"""The one way heartbeat runs another program: an argument list, a timeout, text out.

Never a shell string. Output goes to temporary files, not pipes: a program that
leaves a daemon behind (a gateway it starts) would hold a pipe open, and reading
it to the end would hang the caller. The program runs in its own session, so a
timeout kills it and everything it started (its process group).
"""

from __future__ import annotations

import math
import os
import pathlib
import signal
import subprocess
import typing as t

from heartbeat.errors import HeartbeatError

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: Output kept per stream: the tail, so the last words (the error) survive.
MAX_OUTPUT = 4 << 20


class ProcError(HeartbeatError):
    """A program could not be run, timed out, or failed; the message says which and why."""


class Result(t.NamedTuple):
    """What a program did. ``returncode`` is None when it never ran or was killed
    at its timeout; ``error`` then says why (not on PATH, timed out, permission)."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    error: str | None = None
    #: True when the program does not exist (not on PATH, or no such file).
    missing: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0

    @property
    def output(self) -> str:
        """stdout and stderr together, stripped."""
        return "\n".join(part.strip() for part in (self.stdout, self.stderr) if part.strip())

    def reason(self, limit: int = 200) -> str:
        """One line on why it failed: the error, else the exit status and last line said."""
        name = os.path.basename(self.argv[0]) if self.argv else "?"
        if self.error is not None:
            return f"{name}: {self.error}"
        said = (self.stderr.strip() or self.stdout.strip()).splitlines()[-1:]
        tail = f": {said[0].strip()[:limit]}" if said else ""
        return f"{name} exited {self.returncode}{tail}"

    def check(self) -> Result:
        """This result, or ProcError with ``reason()`` when it did not succeed."""
        if not self.ok:
            raise ProcError(self.reason())
        return self


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    input: str | None = None,  # noqa: A002 - subprocess's own name for it
    cwd: str | os.PathLike[str] | None = None,
    errors: str = "replace",
) -> Result:
    """Run ``argv`` to completion or ``timeout`` seconds; never raises for the program.

    stdin is ``input`` (else nothing); bytes that are not UTF-8 are decoded with
    ``errors`` ("surrogateescape" gives them back unchanged when encoded the same way).
    A missing program, one that may not be executed and a timeout come back as
    ``error``; a timeout kills the program's whole process group.
    """
    argv = tuple(os.fspath(part) for part in argv)
    if not argv:
        return Result(argv, None, "", "", "nothing to run")
    with _scratch() as out, _scratch() as err, _scratch() as stdin:
        if input is not None:
            stdin.write(input.encode("utf-8", errors))
            stdin.seek(0)
        try:
            process = subprocess.Popen(
                argv,
                stdin=stdin if input is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=None if env is None else dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        except FileNotFoundError:
            where = "" if os.sep in argv[0] else " on PATH"
            return Result(argv, None, "", "", f"not found{where}", missing=True)
        except OSError as error:
            return Result(argv, None, "", "", str(error.strerror or error))
        try:
            _wait(process, timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return Result(argv, None, _read(out, errors), _read(err, errors), _late(timeout))
        return Result(argv, process.returncode, _read(out, errors), _read(err, errors))


def _wait(process: subprocess.Popen[bytes], timeout: float) -> None:
    """``process.wait(timeout)``, woken the moment the process ends where Linux can.

    ``Popen.wait`` with a timeout polls, sleeping up to twice as long as a
    short program runs (a tmux call of 3 ms returns after about 7); a pidfd
    becomes readable when the process exits. Raises TimeoutExpired.
    """
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: let Popen poll
        process.wait(timeout=timeout)
        return
    try:
        import select

        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(max(0, math.ceil(timeout * 1000))):
            raise subprocess.TimeoutExpired(process.args, timeout)
    finally:
        os.close(pidfd)
    process.wait()


def which(name: str, path: str | None = None) -> str | None:
    """``shutil.which(name, path=path)`` on POSIX, without importing shutil.

    The first executable file called *name* in *path* (else PATH) or, for a
    name with a slash, *name* itself when it is one; None when there is none.
    """
    if os.sep in name:
        return name if _executable(name) else None
    folders = os.environ.get("PATH", os.defpath) if path is None else path
    for folder in folders.split(os.pathsep):
        candidate = os.path.join(folder, name)
        if folder and _executable(candidate):
            return candidate
    return None


def _executable(path: str) -> bool:
    return os.access(path, os.X_OK) and not pathlib.Path(path).is_dir()


def _scratch() -> t.BinaryIO:
    """An anonymous temporary file (``tempfile.TemporaryFile``, without importing tempfile).

    Linux opens it unnamed (``O_TMPFILE``) in TMPDIR or /tmp; elsewhere, or
    when that folder cannot, tempfile does it.
    """
    flags = getattr(os, "O_TMPFILE", 0)
    if flags:
        try:
            fd = os.open(
                os.environ.get("TMPDIR") or "/tmp", flags | os.O_RDWR | os.O_CLOEXEC, 0o600
            )
        except OSError:
            pass
        else:
            return os.fdopen(fd, "w+b")
    import tempfile

    return tempfile.TemporaryFile()


def _late(timeout: float) -> str:
    return f"timed out after {timeout:g} s"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.wait()


def _read(handle: t.IO[bytes], errors: str) -> str:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - MAX_OUTPUT))
    return handle.read(MAX_OUTPUT).decode("utf-8", errors)
