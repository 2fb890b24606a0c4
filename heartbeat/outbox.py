"""Delivery that arrives: what did not get through is kept and tried again next check.

``deliver`` is the one call a check makes for its news. A notification that
failed waits in ``outbox.json`` in the state folder and is sent again with the
next check's news (one message, so the gateway's rate limit is not tripped by a
burst); after ``MAX_ATTEMPTS`` failed attempts it is given up and returned as a
line for the note. News identical to what was delivered less than
``RATE_WINDOW`` seconds ago is not sent again (OpenClaw wakes at most every 30 s).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import typing as t

from heartbeat.state import OUTBOX_FILE

if t.TYPE_CHECKING:
    import pathlib

    from heartbeat import notify
    from heartbeat.config import Settings

log = logging.getLogger(__name__)

#: Seconds in which identical news is not sent again (the gateway's wake rate limit).
RATE_WINDOW = 30.0
#: Failed attempts after which a notification is given up (and reported in the note).
MAX_ATTEMPTS = 3
#: Characters of a given-up notification quoted in its note line.
QUOTED = 200


@dataclasses.dataclass(frozen=True)
class Delivery:
    """What ``deliver`` did: the attempts, what still waits, what was given up or skipped.

    ``sent`` is None when there was nothing to send, else whether this check's
    message arrived. ``gave_up`` holds one line per notification dropped after
    ``MAX_ATTEMPTS`` (for the note's log); ``skipped`` the news not resent
    inside ``RATE_WINDOW``; ``warnings`` what went wrong with the outbox itself.
    """

    results: list[notify.NotifyResult] = dataclasses.field(default_factory=list)
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
    each channel in turn (``notify.send``). On success the outbox empties; on
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
    if not text and not box.pending:  # the quiet check: nothing to send, no notifier to load
        _save(state_dir, _Box([], recent), warnings)
        return Delivery(warnings=warnings)
    from heartbeat import notify

    news = notify.prepare(text) if text else None
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
    if not notify.channels(settings):
        _save(state_dir, _Box([], recent), warnings)  # notification is off: nothing waits
        return Delivery(skipped=skipped, warnings=warnings)
    results = notify.send(settings, "\n".join(batch))
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
