"""What both stand-ins share: line templates, pacing, signals and the run log.

Templates are plain text with ``{name}`` for a value. ``template_regex`` turns one into the
pattern a real line must match in full (tests/test_standin_lines.py); ``render`` fills it in.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import re
import shlex
import signal
import sys
import time
import typing as t

PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
#: Values with a narrower shape than "anything" (a template that is only a value needs one).
SHAPES = {"tokens": r"[\d,]+", "n": r"\d+", "remaining": r"\d+", "count": r"\d+"}
SHAPES |= {"version": r"\d+\.\d+\.\d+", "code": r"-?\d+", "ms": r"\d+"}


def render(template: str, **values: object) -> str:
    def value(match: re.Match[str]) -> str:
        return str(values[match.group(1)])

    return PLACEHOLDER.sub(value, template)


def template_regex(template: str) -> re.Pattern[str]:
    """The pattern of the lines *template* stands for: its text, any value where it has one."""
    parts: list[str] = []
    last = 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        parts.append(f"(?:{SHAPES.get(match.group(1), '.+?')})")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


class Stop(Exception):
    """Ends the run with an exit code (also raised from the signal handlers)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _on_signal(signum: int, _frame: object) -> None:
    raise Stop(128 + signum)


def install_signals() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _on_signal)


def delay() -> float:
    """STANDIN_DELAY: seconds between steps (default 0.2)."""
    try:
        return max(0.0, float(os.environ.get("STANDIN_DELAY", "0.2")))
    except ValueError:
        return 0.2


def pause(factor: float = 1.0) -> None:
    time.sleep(delay() * factor)


def sleep_forever() -> t.NoReturn:
    while True:
        time.sleep(3600)


def is_tty(stream: t.TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False


def write(stream: t.TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass


def err(line: str) -> None:
    write(sys.stderr, line + "\n")


def out(line: str) -> None:
    write(sys.stdout, line + "\n")


def log_run(program: str, scenario: str, argv: list[str], code: int) -> None:
    """STANDIN_LOG: one line per run, ``<iso> <scenario> <command> exit=<code>``."""
    path = os.environ.get("STANDIN_LOG")
    if not path:
        return
    command = shlex.join([program, *argv]).replace("\r", "\\r").replace("\n", "\\n")
    stamp = dt.datetime.now(dt.UTC).isoformat()
    try:
        with pathlib.Path(path).open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {scenario} {command} exit={code}\n")
    except OSError:
        pass
