"""Notifications: an argument list, never a shell string; failures never fatal."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import typing as t

from heartbeat.signatures import redact

log = logging.getLogger(__name__)

MAX_MESSAGE = 1500


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
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        log.warning("notify command %s could not be run: %s", argv[0], error)
        return NotifyResult(False, argv, f"{argv[0]}: {error.strerror or error}")
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            process.kill()
        process.communicate()
        log.warning("notify command %s timed out after %.0f s", argv[0], timeout)
        return NotifyResult(False, argv, f"{argv[0]} timed out after {timeout:.0f} s")
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if stderr else []
        reason = f"{argv[0]} exited {process.returncode}" + (f": {tail[0][:200]}" if tail else "")
        log.warning("notify failed: %s", reason)
        return NotifyResult(False, argv, reason)
    return NotifyResult(True, argv)
