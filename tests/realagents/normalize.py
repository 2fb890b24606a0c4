"""Pane text made comparable across runs and machines: one function, importable by others.

``normalize(text, dirs=…)`` replaces what changes from run to run with placeholders:

- the given folders (longest first; the test's temporary root, the agents' cache) → ``<dir>``,
  and any other pytest or mkdtemp folder under /tmp → ``<dir>``;
- ``127.0.0.1:PORT`` and ``localhost:PORT`` → ``…:<port>`` (and a fake API scenario's
  ``~tag`` goes);
- UUIDs → ``<uuid>``; git object names (7–40 hex digits with a digit and a letter) → ``<sha>``;
- ISO timestamps, dates (``2026-11-26``, ``Nov 26th, 2026``) → ``<date>``, clock times
  (``11:59 AM``, ``14:05:09``, ``8pm``) → ``<time>``, and the zone after one
  (``8pm (America/New_York)``) → ``(<zone>)``; durations (``in 21ms``, ``1.2s``) →
  ``<duration>``; Node's own stack frames (``node:internal/…:95:5``) → ``…:<line>``;
  epoch seconds in JSON (``"resets_at":1795…``) → ``<epoch>``;

and drops the lines that depend on the host or its load rather than on the agent
(``HOST_LINES``: codex's bubblewrap notice and gemini-cli's ripgrep notice where the host
lacks them, gemini-cli's start-up profiler and ralphy's spinner frames on a busy machine).
Trailing spaces and trailing blank lines go; nothing else is touched, so a changed word in
an agent's message shows up.
"""

from __future__ import annotations

import re
import typing as t

if t.TYPE_CHECKING:
    import collections.abc
    import os

HOST_LINES = [
    # the host lacks a tool the agent would use
    re.compile(r"^warning: Codex could not find bubblewrap on PATH\b"),
    re.compile(r"^Ripgrep is not available\. Falling back to GrepTool\.$"),
    # gemini-cli's start-up profiler, when a phase outlasts the run (a busy machine)
    re.compile(r"^\[STARTUP\] (?:Phase '\w+' was started but never ended|Cannot measure phase)"),
    # ralphy's spinner, redrawn in place: a frame is left in the pane only when a task takes
    # long enough for one to be drawn (a busy machine)
    re.compile(r"^[-\\|/⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (?:Thinking|Working) \["),
]

#: gemini-cli's start-up profiler on a busy machine, wherever in a line it lands.
STARTUP_NOTICE = re.compile(
    r"\[STARTUP\] (?:Phase '\w+' was started but never ended|Cannot measure phase)[^\n]*"
)

_SUBSTITUTIONS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"/tmp/(?:pytest-of-[^/\s]+/pytest-\d+|tmp[\w-]+|heartbeat-record[\w-]*)(?:/[^\s'\"`:,)\]]*)?"
        ),
        "<dir>",
    ),
    (re.compile(r"\b(127\.0\.0\.1|localhost):\d{2,5}\b"), r"\1:<port>"),
    (re.compile(r"(:<port>/[\w.-]+)~[\w-]+"), r"\1"),  # the fake API's per-test tag
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}([T ])\d{2}[:-]\d{2}[:-]\d{2}(?:[.-]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        r"<date>\1<time>",
    ),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "<date>"),
    (re.compile(r"\b\d{4}/\d{2}/\d{2}\b"), "<date>"),
    (
        re.compile(
            r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* "
            r"\d{1,2}(?:st|nd|rd|th)?,? \d{4}\b"
        ),
        "<date>",
    ),
    (
        re.compile(
            r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:\s?(?:[AaPp][Mm]|[AaPp]\.[Mm]\.))?(?![\d:])"
        ),
        "<time>",
    ),
    (re.compile(r"\b\d{1,2}\s?(?:am|pm|AM|PM)\b"), "<time>"),
    (re.compile(r"<time> \((?:UTC|GMT|[A-Z][A-Za-z_]+/[A-Za-z_/+-]+)\)"), "<time> (<zone>)"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|µs)\b(?!\w)"), "<duration>"),
    (re.compile(r"\b\d+m \d+s\b"), "<duration>"),
    (re.compile(r"\b(agent-\d+)-\d{13}-[a-z0-9]+\b"), r"\1-<id>"),  # ralphy's worktrees
    (re.compile(r"\((node:internal/[\w/]+):\d+:\d+\)"), r"(\1:<line>)"),  # Node's own frames
    (
        re.compile(r"(\"(?:resets_at|reset_at|resetsAt|timestamp|created_at)\":\s*)\d{9,13}"),
        r"\1<epoch>",
    ),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b"), "<sha>"),
    (re.compile(r"^[0-9a-f]{7,40}(?= )"), "<sha>"),  # `git log --oneline`, letters only
]


VOLATILE_KEYS = {
    "started_at",
    "completed_at",
    "duration_ms",
    "time_to_first_token_ms",
    "resets_at",
    "timestamp",
}


def scrub(value: t.Any) -> t.Any:
    """JSON records with clock values (``VOLATILE_KEYS``) replaced by ``"<varies>"``."""
    if isinstance(value, dict):
        return {
            k: "<varies>" if k in VOLATILE_KEYS and v is not None else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def normalize(text: str, dirs: collections.abc.Iterable[str | os.PathLike[str]] = ()) -> str:
    """Pane text with run-specific values replaced by placeholders (see the module doc)."""
    for folder in sorted({str(d) for d in dirs}, key=len, reverse=True):
        if folder:
            text = text.replace(folder, "<dir>")
    lines = []
    for raw in text.splitlines():
        # gemini-cli's profiler may write its notice on the end of another line (no newline)
        line = STARTUP_NOTICE.sub("", raw)
        if (line != raw and not line.strip()) or any(p.search(line) for p in HOST_LINES):
            continue
        for pattern, replacement in _SUBSTITUTIONS:
            line = pattern.sub(replacement, line)
        lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""
