"""Notifications: an argument list, never a shell string; failures never fatal."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import tempfile
import typing as t

from heartbeat.signatures import redact

log = logging.getLogger(__name__)

MAX_MESSAGE = 1500
#: How much of a failed notifier's stderr is read for its last line.
TAIL_BYTES = 4096


@dataclasses.dataclass
class NotifyResult:
    sent: bool
    argv: list[str]
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"sent": self.sent, "command": self.argv[:1], "error": self.error}


def build_argv(template: t.Sequence[str], message: str) -> list[str]:
    """The notify command with ``{message}`` replaced, or the message appended."""
    if any("{message}" in part for part in template):
        return [part.replace("{message}", message) for part in template]
    return [*template, message]


def notify(
    template: t.Sequence[str] | None, message: str, timeout: float = 10.0
) -> NotifyResult | None:
    """Run the notify command with *message* (secrets redacted); None when off.

    A command that is missing, fails or hangs past *timeout* is logged and
    returned as an error; this never raises.
    """
    if not template:
        return None
    message = redact(message)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    argv = build_argv(template, message)
    # stderr goes to a file, not a pipe: a daemon the notifier leaves behind (a gateway
    # it starts) would hold a pipe open, and reading it to EOF would hang the check
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        except OSError as error:
            log.warning("notify command %s could not be run: %s", argv[0], error)
            return NotifyResult(False, argv, f"{argv[0]}: {error.strerror or error}")
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
            process.wait()
            log.warning("notify command %s timed out after %.0f s", argv[0], timeout)
            return NotifyResult(False, argv, f"{argv[0]} timed out after {timeout:.0f} s")
        size = errors.seek(0, os.SEEK_END)
        errors.seek(max(0, size - TAIL_BYTES))
        stderr = errors.read(TAIL_BYTES)
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if stderr else []
        reason = f"{argv[0]} exited {process.returncode}" + (f": {tail[0][:200]}" if tail else "")
        log.warning("notify failed: %s", reason)
        return NotifyResult(False, argv, reason)
    return NotifyResult(True, argv)
