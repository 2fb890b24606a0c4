"""Delivery that arrives: `heartbeat.notify.deliver` over the ways a notification is sent.

``openclaw`` is a stand-in on PATH that answers as the CLI does (``ok`` from
``system event``; exit 1 without a gateway), steered to fail a number of times
(tests/standins.py); the gateway's wake hook is a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import pathlib
import threading
import typing as t

import pytest

from heartbeat import notify
from heartbeat.config import load_settings
from heartbeat.state import OUTBOX_FILE
from tests import helpers
from tests.cronbox import (  # noqa: F401 - fixtures, registered by being imported
    crontab_sandbox_fixture,
    private_spool_possible_fixture,
)
from tests.sysstandins import Standins, standins_fixture  # noqa: F401

if t.TYPE_CHECKING:
    from collections.abc import Iterator

NOW = 1_800_000_000.0


@pytest.fixture
def default_notify(monkeypatch: pytest.MonkeyPatch) -> None:
    """No notify command configured: the default order applies."""
    monkeypatch.delenv("HEARTBEAT_NOTIFY")


def sends(standins: Standins) -> list[list[str]]:
    found = standins.state().get("sends", [])
    assert isinstance(found, list)
    return found


def deliver(text: str | None, at: float) -> notify.Delivery:
    settings = load_settings()
    return notify.deliver(settings, text, settings.state_dir, at)


@pytest.mark.usefixtures("default_notify")
def test_system_event_is_sent_and_must_say_ok(standins: Standins) -> None:
    done = deliver("heartbeat: job died → restarted (1/3)", NOW)
    assert done.sent is True
    assert sends(standins) == [
        ["system", "event", "--text", "heartbeat: job died → restarted (1/3)", "--mode", "now"]
    ]
    assert [n["via"] for n in done.notifications] == ["system event"]
    standins.set(event_reply="queued")
    late = deliver("heartbeat: other news", NOW + 60)
    assert late.sent is False
    assert "answered 'queued', not ok" in str(late.results[0].error)
    assert late.pending == ["heartbeat: other news"]


@pytest.mark.usefixtures("default_notify")
def test_a_failed_notification_is_retried_on_the_next_check(standins: Standins) -> None:
    standins.set(fail_sends=1)
    first = deliver("heartbeat: job died", NOW)
    assert (first.sent, first.pending, first.gave_up) == (False, ["heartbeat: job died"], [])
    assert "gateway not reachable" in str(first.results[0].error)
    assert sends(standins) == []
    second = deliver(None, NOW + 300)
    assert (second.sent, second.pending) == (True, [])
    assert [call[3] for call in sends(standins)] == ["heartbeat: job died"]
    third = deliver(None, NOW + 600)
    assert (third.sent, third.results) == (None, [])
    assert len(sends(standins)) == 1


@pytest.mark.usefixtures("default_notify")
def test_waiting_news_goes_out_with_the_next_news_in_one_message(standins: Standins) -> None:
    standins.set(fail_sends=1)
    deliver("heartbeat: a died", NOW)
    done = deliver("heartbeat: b died", NOW + 300)
    assert done.sent is True
    assert [call[3] for call in sends(standins)] == ["heartbeat: a died\nheartbeat: b died"]


@pytest.mark.usefixtures("default_notify")
def test_after_three_failures_it_is_reported_once(standins: Standins) -> None:
    standins.set(fail_sends=100)
    lines: list[str] = []
    for check in range(5):
        done = deliver("heartbeat: job died" if check == 0 else None, NOW + 300 * check)
        lines += done.gave_up
        assert done.sent is (False if check < 3 else None)
    assert len(lines) == 1
    assert lines[0].startswith("notification not delivered (tried 3 times; openclaw exited 1:")
    assert lines[0].endswith(": heartbeat: job died")
    calls = [call for call in standins.calls("openclaw") if call[1:3] == ["system", "event"]]
    assert len(calls) == 3


@pytest.mark.usefixtures("default_notify")
def test_identical_news_is_not_resent_inside_the_rate_window(standins: Standins) -> None:
    assert deliver("heartbeat: job died", NOW).sent is True
    again = deliver("heartbeat: job died", NOW + notify.RATE_WINDOW - 1)
    assert (again.sent, again.skipped) == (None, ["heartbeat: job died"])
    other = deliver("heartbeat: job healthy again", NOW + 5)
    assert other.sent is True
    later = deliver("heartbeat: job died", NOW + notify.RATE_WINDOW + 1)
    assert later.sent is True
    assert [call[3] for call in sends(standins)] == [
        "heartbeat: job died",
        "heartbeat: job healthy again",
        "heartbeat: job died",
    ]


@pytest.mark.usefixtures("default_notify")
def test_message_send_first_when_a_channel_and_target_are_configured(
    standins: Standins, tmp_path: pathlib.Path
) -> None:
    helpers.write_config(tmp_path / "config.toml", notify_channel="telegram", notify_target="42")
    done = deliver("heartbeat: job died", NOW)
    assert done.sent is True
    assert sends(standins) == [
        [
            "message",
            "send",
            "--channel",
            "telegram",
            "--target",
            "42",
            "--message",
            "heartbeat: job died",
        ]
    ]
    standins.set(fail_sends=1)
    fallback = deliver("heartbeat: job healthy again", NOW + 300)
    assert fallback.sent is True
    assert [n["via"] for n in fallback.notifications] == ["message send", "system event"]
    assert sends(standins)[-1][:2] == ["system", "event"]


def test_a_configured_notify_command_wins(standins: Standins, notify_log: pathlib.Path) -> None:
    assert deliver("heartbeat: job died", NOW).sent is True
    assert notify_log.read_text() == "heartbeat: job died\n"
    assert standins.calls("openclaw") == []


def test_notification_off_sends_nothing_and_keeps_nothing(
    standins: Standins, tmp_path: pathlib.Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / OUTBOX_FILE).write_text(json.dumps({"pending": [{"text": "old", "attempts": 1}]}))
    done = deliver("heartbeat: job died", NOW)
    assert (done.sent, done.results, done.pending) == (None, [], [])
    assert standins.calls("openclaw") == []
    assert not (state / OUTBOX_FILE).exists()


@pytest.mark.usefixtures("default_notify")
def test_secrets_are_redacted_before_anything_is_sent(standins: Standins) -> None:
    deliver("heartbeat: job failed: key sk-abcdefghijklmnopqrstuvwxyz0123456789", NOW)
    [call] = sends(standins)
    assert "sk-abcdefghijklmnop" not in call[3]


@pytest.mark.usefixtures("default_notify")
def test_an_unusable_outbox_never_stops_delivery(
    standins: Standins, tmp_path: pathlib.Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / OUTBOX_FILE).write_text("{not json")
    done = deliver("heartbeat: job died", NOW)
    assert done.sent is True
    assert "cannot be read" in done.warnings[0]
    blocked = tmp_path / "state-is-a-file"
    blocked.write_text("")
    settings = load_settings()
    standins.set(fail_sends=1)
    kept = notify.deliver(settings, "heartbeat: other", blocked / "sub", NOW)
    assert kept.sent is False
    assert any("cannot be written" in warning for warning in kept.warnings)


# ------------------------------------------------------------------ the gateway's wake hook


class Hook(http.server.BaseHTTPRequestHandler):
    """The gateway's ``POST /hooks/wake``: records each request, answers ``status``."""

    seen: t.ClassVar[list[tuple[str, str, dict[str, t.Any]]]] = []
    status: t.ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append((self.path, self.headers.get("Authorization", ""), json.loads(body)))
        self.send_response(self.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def gateway(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("HEARTBEAT_NOTIFY")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no openclaw: the hook is the only way
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    Hook.seen.clear()
    Hook.status = 200
    url = f"http://127.0.0.1:{server.server_address[1]}"
    helpers.write_config(tmp_path / "config.toml", gateway_url=url, gateway_token="s3cret-token")
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_wake_hook_gets_the_text_and_the_bearer_token(gateway: str) -> None:
    done = deliver("heartbeat: job died", NOW)
    assert done.sent is True
    assert Hook.seen == [
        ("/hooks/wake", "Bearer s3cret-token", {"text": "heartbeat: job died", "mode": "now"})
    ]
    assert done.notifications[0]["via"] == "hooks/wake"


def test_a_refused_wake_hook_is_kept_and_never_shows_the_token(gateway: str) -> None:
    Hook.status = 401
    done = deliver("heartbeat: job died", NOW)
    assert done.sent is False
    error = str(done.results[0].error)
    assert "HTTP 401" in error
    assert "s3cret" not in error
    assert done.pending == ["heartbeat: job died"]
    _, out, _ = helpers.cli("config", "show", "--json")
    assert "s3cret" not in out


# ------------------------------------------------------------------ through a real check


@pytest.mark.usefixtures("default_notify")
def test_a_check_retries_a_notification_that_did_not_arrive(
    standins: Standins, agents: pathlib.Path, notes_dir: pathlib.Path
) -> None:
    standins.set(fail_sends=1)
    command = "codex exec 'scenario:work-forever go'"
    helpers.write_note(notes_dir, helpers.canonical("job", command, helpers.work_dir(notes_dir)))
    _, first = helpers.check_json()
    assert [n["sent"] for n in first["notifications"]] == [False]
    assert sends(standins) == []
    helpers.wait_for_text(agents, "job", "exec")
    helpers.check_json()
    assert len(sends(standins)) == 1
    assert "job died" in sends(standins)[0][3]
