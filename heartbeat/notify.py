"""Notifications that arrive: each way of sending is checked by what it answers.

A configured notify command (``HEARTBEAT_NOTIFY``, ``notify``) wins; empty turns
notification off. Otherwise the default tries, in order, until one delivers:

1. ``openclaw message send --channel C --target T --message M`` when
   ``notify_channel`` and ``notify_target`` are configured (non-zero on failed or
   partial delivery);
2. ``openclaw system event --text M --mode now`` (prints ``ok`` and exits 0;
   exits 1 without a running gateway);
3. ``POST {gateway_url}/hooks/wake {"text": M, "mode": "now"}`` with the bearer
   ``gateway_token``, when both are configured.

Every command is an argument list, never a shell string; a failure is a result,
never an exception. ``heartbeat.outbox.deliver`` keeps what did not arrive and
tries again on the next check.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import typing as t
import urllib.error
import urllib.parse
import urllib.request

from heartbeat import proc
from heartbeat.signatures import redact

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from heartbeat.config import Settings

log = logging.getLogger(__name__)

MAX_MESSAGE = 1500
#: Seconds the gateway's wake hook may take to answer.
HOOK_TIMEOUT = 10.0


@dataclasses.dataclass
class NotifyResult:
    sent: bool
    argv: list[str]
    error: str | None = None
    #: Which way it went: "command", "message send", "system event" or "hooks/wake".
    via: str = "command"

    def to_json(self) -> dict[str, object]:
        return {"sent": self.sent, "command": self.argv[:1], "error": self.error, "via": self.via}


def build_argv(template: Sequence[str], message: str) -> list[str]:
    """The notify command with ``{message}`` replaced, or the message appended."""
    if any("{message}" in part for part in template):
        return [part.replace("{message}", message) for part in template]
    return [*template, message]


def prepare(message: str) -> str:
    """The message as it is sent: secrets redacted, at most ``MAX_MESSAGE`` characters."""
    message = redact(message)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return message


def _run(argv: list[str], timeout: float, via: str, *, expect_ok: bool = False) -> NotifyResult:
    result = proc.run(argv, timeout=timeout)
    if not result.ok:
        reason = result.reason()
        log.warning("notify failed: %s", reason)
        return NotifyResult(False, argv, reason, via)
    if expect_ok and not _says_ok(result.stdout):
        said = result.output.splitlines()[-1:] or ["nothing"]
        reason = f"{os.path.basename(argv[0])} answered {said[0][:200]!r}, not ok"
        log.warning("notify failed: %s", reason)
        return NotifyResult(False, argv, reason, via)
    return NotifyResult(True, argv, None, via)


def _says_ok(stdout: str) -> bool:
    """`openclaw system event` prints ``ok`` (or, with --json, an object with ok true)."""
    lines = [line.strip().lower() for line in stdout.splitlines() if line.strip()]
    if "ok" in lines:
        return True
    try:
        data = json.loads(stdout)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("ok") is True


def notify(
    template: Sequence[str] | None, message: str, timeout: float = 10.0
) -> NotifyResult | None:
    """Run the notify command with *message* (secrets redacted); None when off.

    Judged by its exit status. A command that is missing, fails or hangs past
    *timeout* is logged and returned as an error; this never raises.
    """
    if not template:
        return None
    return _run(build_argv(template, prepare(message)), timeout, "command")


@dataclasses.dataclass(frozen=True)
class Channel:
    """One way of sending: a command (``{message}`` filled in) or the gateway's wake hook."""

    via: str
    argv: tuple[str, ...] = ()
    expect_ok: bool = False
    url: str | None = None
    token: str | None = None

    def describe(self) -> str:
        if self.url is not None:
            return f"POST {_shown(self.url)} (bearer token)"
        return " ".join(self.argv).replace("{message}", "MSG")

    def send(self, message: str, timeout: float) -> NotifyResult:
        """Send *message* (already ``prepare``d) this way; never raises."""
        if self.url is not None:
            return _post(self.url, self.token or "", message, min(timeout, HOOK_TIMEOUT))
        argv = build_argv(self.argv, message)
        return _run(argv, timeout, self.via, expect_ok=self.expect_ok)


def channels(settings: Settings, env: Mapping[str, str] | None = None) -> list[Channel]:
    """The ways a notification is tried, in order (see the module docstring); [] when off."""
    env = os.environ if env is None else env
    if "notify" in settings.sources:
        return [Channel("command", tuple(settings.notify))] if settings.notify else []
    found: list[Channel] = []
    openclaw = shutil.which("openclaw", path=env.get("PATH"))
    if openclaw:
        if settings.notify_channel and settings.notify_target:
            send = ("--channel", settings.notify_channel, "--target", settings.notify_target)
            argv = (openclaw, "message", "send", *send, "--message", "{message}")
            found.append(Channel("message send", argv))
        event = (openclaw, "system", "event", "--text", "{message}", "--mode", "now")
        found.append(Channel("system event", event, expect_ok=True))
    if settings.gateway_url and settings.gateway_token:
        found.append(
            Channel("hooks/wake", url=_hook(settings.gateway_url), token=settings.gateway_token)
        )
    return found


def send(settings: Settings, message: str) -> list[NotifyResult]:
    """Try each channel in turn until one delivers; what each said, in order."""
    message = prepare(message)
    results: list[NotifyResult] = []
    for channel in channels(settings):
        results.append(channel.send(message, settings.notify_timeout))
        if results[-1].sent:
            break
    return results


def _hook(url: str) -> str:
    """The wake hook's URL: ``gateway_url`` plus ``/hooks/wake`` unless it names it."""
    base = url.rstrip("/")
    return base if base.endswith("/wake") else f"{base}/hooks/wake"


def _shown(url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "the gateway URL"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _post(url: str, token: str, message: str, timeout: float) -> NotifyResult:
    """POST the wake hook; sent on a 2xx answer. The token never appears in an error."""
    argv = ["POST", _shown(url)]
    scheme = urllib.parse.urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme not in {"http", "https"}:
        return NotifyResult(False, argv, "gateway_url must be an http or https URL", "hooks/wake")
    body = json.dumps({"text": message, "mode": "now"}).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        reason = f"{_shown(url)} answered HTTP {error.code} {error.reason}"
    except urllib.error.URLError as error:
        reason = f"{_shown(url)} failed: {error.reason}"
    except TimeoutError:
        reason = f"{_shown(url)} timed out after {timeout:g} s"
    except Exception as error:  # never fatal, whatever urllib lets through
        reason = f"{_shown(url)} failed: {type(error).__name__}: {error}"
    else:
        return NotifyResult(True, argv, None, "hooks/wake")
    reason = reason.replace(token, "…") if token else reason
    log.warning("notify failed: %s", reason)
    return NotifyResult(False, argv, reason, "hooks/wake")
