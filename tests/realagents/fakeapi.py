"""A fake model API on 127.0.0.1 for the real agents in the test bed.

One threaded HTTP server answers every agent: codex (`POST …/v1/responses`, the Responses
API as server-sent events, and the ChatGPT token refresh `POST …/oauth/token`), Claude Code
(`POST …/v1/messages`, the Messages API as SSE) and gemini-cli (`POST
…/v1beta/models/MODEL:streamGenerateContent`). The scenario is the first segment of the path:
an agent pointed at ``fake.base("usage-limit")`` hits a usage limit. A segment may carry a
tag after ``~`` (``reconnect~t1``) so that counters are per test, not per scenario.

The server binds a random port on 127.0.0.1, serves from a daemon thread and stops on
``close()`` (or at the end of a ``with`` block). Every request is kept in ``requests``.
A slow stream ends by itself after ``wire.SLOW_TICKS`` seconds, or when the server closes.
``resets_at`` (epoch seconds) is the reset the usage-limit scenarios state; by default two
hours from the request. Set it for a test and put it back (``None``) after.
"""

from __future__ import annotations

import collections
import http.server
import json
import socketserver
import threading
import time
import typing as t

from tests.realagents import wire


class Request(t.NamedTuple):
    scenario: str  # the path's first segment without its ~tag
    key: str  # the whole first segment: what counters count by
    method: str
    path: str  # the rest of the path, query string included
    headers: dict[str, str]
    body: bytes

    def json(self) -> t.Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


class FakeAPI:
    """The server. ``base(scenario)`` is the URL to give an agent."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.resets_at: int | None = None  # usage limits: epoch seconds; default now + 2 h
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fakeapi", daemon=True
        )
        self._thread.start()

    def base(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.port}/{scenario}"

    def seen(self, scenario: str) -> list[Request]:
        """The requests made for a scenario (its key, tag included, or its bare name)."""
        with self._lock:
            return [r for r in self.requests if scenario in (r.key, r.scenario)]

    def reset_time(self) -> int:
        return self.resets_at if self.resets_at is not None else int(time.time()) + 7200

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _record(self, request: Request) -> int:
        with self._lock:
            self.requests.append(request)
            self.counts[f"{request.key} {request.path.split('?')[0]}"] += 1
            return self.counts[f"{request.key} {request.path.split('?')[0]}"]

    def _pause(self, seconds: float) -> bool:
        """Sleep unless the server closes first; False when it closed."""
        return not self._closing.wait(seconds)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(http.server.BaseHTTPRequestHandler):
    api: FakeAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the requests are kept in FakeAPI.requests instead."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        key, _, rest = self.path.lstrip("/").partition("/")
        request = Request(
            scenario=key.partition("~")[0],
            key=key,
            method=method,
            path="/" + rest,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        attempt = self.api._record(request)
        reply = wire.answer(request, attempt, self.api.reset_time())
        self._send(reply)

    def _send(self, reply: wire.Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.stream:
            self.send_header("connection", "close")
            self.close_connection = True
        else:
            size = sum(len(c) for c in reply.chunks if isinstance(c, bytes))
            self.send_header("content-length", str(size))
        self.end_headers()
        try:
            for chunk in reply.chunks:
                if isinstance(chunk, float):
                    if not self.api._pause(chunk):
                        return
                    continue
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
