"""Delivering news: the ways a notification is sent, and the outbox that keeps what did not arrive.

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
never an exception.

``deliver`` is the one call a check makes for its news. A notification that
failed waits in ``outbox.json`` in the state folder and is sent again with the
next check's news (one message, so the gateway's rate limit is not tripped by a
burst); after ``MAX_ATTEMPTS`` failed attempts it is given up and returned as a
line for the note. News identical to what was delivered less than
``RATE_WINDOW`` seconds ago is not sent again (OpenClaw wakes at most every 30 s).

A quiet check loads none of this: ``heartbeat.check.act.notify`` imports it only
when there is news or the outbox file exists. The dead-man's switch, which every
check with a ping URL requests, is ``heartbeat.ping``: small, and off the
``logging`` import this module makes.
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
from heartbeat.state import OUTBOX_FILE

if t.TYPE_CHECKING:
    import pathlib
    from collections.abc import Mapping, Sequence

    from heartbeat.config import Settings

log = logging.getLogger(__name__)

MAX_MESSAGE = 1500
#: Seconds the gateway's wake hook may take to answer.
HOOK_TIMEOUT = 10.0

#: Seconds in which identical news is not sent again (the gateway's wake rate limit).
RATE_WINDOW = 30.0
#: Failed attempts after which a notification is given up (and reported in the note).
MAX_ATTEMPTS = 3
#: Characters of a given-up notification quoted in its note line.
QUOTED = 200


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


# ------------------------------------------------------------------------------------ the outbox


@dataclasses.dataclass(frozen=True)
class Delivery:
    """What ``deliver`` did: the attempts, what still waits, what was given up or skipped.

    ``sent`` is None when there was nothing to send, else whether this check's
    message arrived. ``gave_up`` holds one line per notification dropped after
    ``MAX_ATTEMPTS`` (for the note's log); ``skipped`` the news not resent
    inside ``RATE_WINDOW``; ``warnings`` what went wrong with the outbox itself.
    """

    results: list[NotifyResult] = dataclasses.field(default_factory=list)
    sent: bool | None = None
    pending: list[str] = dataclasses.field(default_factory=list)
    gave_up: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def notifications(self) -> list[dict[str, object]]:
        """The attempts as the check's JSON ``notifications`` lists them."""
        return [result.to_json() for result in self.results]

    def to_json(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "results": self.notifications,
            "pending": self.pending,
            "gave_up": self.gave_up,
            "skipped": self.skipped,
            "warnings": self.warnings,
        }


@dataclasses.dataclass
class _Box:
    pending: list[dict[str, t.Any]]
    sent: list[dict[str, t.Any]]


def deliver(
    settings: Settings, text: str | None, state_dir: pathlib.Path | None, now_ts: float
) -> Delivery:
    """Send this check's news (``text``, or None when there is none) with what still waits.

    One message carries the waiting notifications and the new one, tried on
    each channel in turn (``send``). On success the outbox empties; on
    failure every message in it counts an attempt, and those at
    ``MAX_ATTEMPTS`` are given up. Without ``state_dir`` nothing is kept.
    Never raises: a notifier or an outbox that fails is in the result.
    """
    try:
        return _deliver(settings, text, state_dir, now_ts)
    except Exception as error:  # the check goes on whatever happens here
        log.warning("delivery failed: %s", error, exc_info=True)
        return Delivery(sent=False if text else None, warnings=[f"notification: {error}"])


def _deliver(
    settings: Settings, text: str | None, state_dir: pathlib.Path | None, now_ts: float
) -> Delivery:
    warnings: list[str] = []
    box = _load(state_dir, warnings)
    recent = [s for s in box.sent if 0 <= now_ts - float(s.get("at", 0)) < RATE_WINDOW]
    if not text and not box.pending:  # nothing to send: only the outbox is tidied
        _save(state_dir, _Box([], recent), warnings)
        return Delivery(warnings=warnings)
    news = prepare(text) if text else None
    skipped: list[str] = []
    if news is not None and any(s.get("text") == news for s in recent):
        skipped.append(news)
        news = None
    waiting = [p for p in box.pending if isinstance(p.get("text"), str)]
    if news is not None and any(p["text"] == news for p in waiting):
        news = None  # already waiting: this attempt carries it
    batch = [p["text"] for p in waiting] + ([news] if news else [])
    if not batch:
        _save(state_dir, _Box([], recent), warnings)
        return Delivery(skipped=skipped, warnings=warnings)
    if not channels(settings):
        _save(state_dir, _Box([], recent), warnings)  # notification is off: nothing waits
        return Delivery(skipped=skipped, warnings=warnings)
    results = send(settings, "\n".join(batch))
    if results and results[-1].sent:
        sent = recent + [{"text": message, "at": now_ts} for message in batch]
        _save(state_dir, _Box([], sent), warnings)
        return Delivery(results, True, [], [], skipped, warnings)
    error = results[-1].error if results else "no way to send it"
    if news is not None:
        waiting.append({"text": news, "first": now_ts, "attempts": 0})
    kept: list[dict[str, t.Any]] = []
    gave_up: list[str] = []
    for item in waiting:
        item["attempts"] = int(item.get("attempts", 0)) + 1
        item["error"] = error
        if item["attempts"] >= MAX_ATTEMPTS or state_dir is None:
            gave_up.append(_gave_up_line(item))
        else:
            kept.append(item)
    _save(state_dir, _Box(kept, recent), warnings)
    return Delivery(results, False, [k["text"] for k in kept], gave_up, skipped, warnings)


def _gave_up_line(item: dict[str, t.Any]) -> str:
    quoted = " ".join(str(item["text"]).split())
    if len(quoted) > QUOTED:
        quoted = quoted[: QUOTED - 1] + "…"
    tries = int(item["attempts"])
    times = "once" if tries == 1 else f"{tries} times"
    return f"notification not delivered (tried {times}; {item.get('error')}): {quoted}"


def _load(state_dir: pathlib.Path | None, warnings: list[str]) -> _Box:
    if state_dir is None:
        return _Box([], [])
    path = state_dir / OUTBOX_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _Box([], [])
    except (OSError, ValueError) as error:
        warnings.append(f"the outbox {path} cannot be read ({error}); starting it afresh")
        return _Box([], [])
    if not isinstance(data, dict):
        warnings.append(f"the outbox {path} is not an object; starting it afresh")
        return _Box([], [])
    pending = [p for p in data.get("pending", []) if isinstance(p, dict)]
    sent = [s for s in data.get("sent", []) if isinstance(s, dict)]
    return _Box(pending, sent)


def _save(state_dir: pathlib.Path | None, box: _Box, warnings: list[str]) -> None:
    if state_dir is None:
        return
    path = state_dir / OUTBOX_FILE
    if not box.pending and not box.sent:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            warnings.append(f"the outbox {path} cannot be removed ({error.strerror})")
        return
    data = json.dumps({"pending": box.pending, "sent": box.sent}, indent=2) + "\n"
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError as error:
        warnings.append(f"the outbox {path} cannot be written ({error.strerror}); not kept")
        try:
            temp.unlink(missing_ok=True)
        except OSError:
            pass


def waiting(state_dir: pathlib.Path) -> list[str]:
    """The notifications waiting in the outbox (for `doctor`); [] when it cannot be read."""
    return [str(p.get("text")) for p in _load(state_dir, []).pending]
