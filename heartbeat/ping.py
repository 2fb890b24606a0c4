"""The dead-man's switch: request ``HEARTBEAT_PING_URL`` after every check (DESIGN §7).

Services such as healthchecks.io alert when the pings stop, which catches what
the heartbeat cannot report itself: cron not running, the machine down. A ping
that fails is worth a line in the report, never a failed check.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request

from heartbeat.debuglog import LazyLogger

log = LazyLogger(__name__)

#: Enough of the answer to tell a body from nothing; pings are tiny ("OK").
MAX_BODY = 1024


def shown(url: str) -> str:
    """The URL without its path, query and credentials: a ping URL's path is its secret
    (anyone who knows a healthchecks.io UUID can ping it), so messages name only the host."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.netloc.rpartition("@")[2] or "?"
    except ValueError:
        return "the ping URL"
    return f"{parts.scheme}://{host}/…" if parts.path.strip("/") else f"{parts.scheme}://{host}"


def ping(url: str, timeout: float = 5.0) -> str | None:
    """GET ``url``; None when it answered 2xx or 3xx, else one line saying what failed.

    Never raises. ``timeout`` bounds each socket operation (name resolution is
    the resolver's own). Only http and https URLs are requested.
    """
    from heartbeat import __version__

    try:
        scheme = urllib.parse.urlsplit(url).scheme.lower()
    except ValueError as error:
        return f"HEARTBEAT_PING_URL is not a URL ({error}); fix it or unset it"
    if scheme not in {"http", "https"}:
        return f"HEARTBEAT_PING_URL must be an http or https URL, not {scheme or 'no'} scheme"
    request = urllib.request.Request(
        url, method="GET", headers={"User-Agent": f"heartbeat/{__version__}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(MAX_BODY)
            status = response.status
    except urllib.error.HTTPError as error:
        message = f"ping {shown(url)} answered HTTP {error.code} {error.reason}"
    except urllib.error.URLError as error:
        message = f"ping {shown(url)} failed: {error.reason}"
    except TimeoutError:
        message = f"ping {shown(url)} timed out after {timeout:g} s"
    except (OSError, ValueError, http.client.HTTPException) as error:
        message = f"ping {shown(url)} failed: {error}"
    except Exception as error:  # never fatal, whatever urllib lets through (OverflowError …)
        message = f"ping {shown(url)} failed: {type(error).__name__}: {error}"
    else:
        log.debug("ping %s: HTTP %s", shown(url), status)
        return None
    log.warning("%s", message)
    return message
