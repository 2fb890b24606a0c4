"""What the commands share without typer: settings, logging, output, and `heartbeat check`.

cron runs `heartbeat check --quiet` every minute. ``fast_main`` reads that
command line (and every other spelling of ``check`` with its own options)
itself and runs the check without building the typer application: a quiet
check pays for no CLI framework. Anything it does not know — ``--help``, an
unknown or repeated option, a bad date, another command — returns None and
typer takes over, so messages, help and exit codes stay typer's own.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import pathlib
import re
import sys
import typing as t

from heartbeat.debuglog import LazyLogger
from heartbeat.errors import ExitCode, HeartbeatError

if t.TYPE_CHECKING:
    from heartbeat.config import Settings

#: What click's ``echo`` removes from text written to something that is not a terminal.
ANSI_RE = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")
#: `heartbeat check`'s flags and options (DESIGN §5), by their parameter names.
CHECK_FLAGS = {
    "--dry-run": "dry_run",
    "--json": "json_output",
    "--no-restart": "no_restart",
    "--quiet": "quiet",
}
CHECK_OPTIONS = {
    "--date": "date",
    "--notes-dir": "notes_dir",
    "--socket": "socket",
    "--state-dir": "state_dir",
}


def settings(
    notes_dir: pathlib.Path | None = None,
    socket: pathlib.Path | None = None,
    state_dir: pathlib.Path | None = None,
) -> Settings:
    from heartbeat.config import load_settings

    return load_settings({"notes_dir": notes_dir, "socket": socket, "state_dir": state_dir})


def setup_logging(state_dir: pathlib.Path | None = None) -> None:
    """Warnings to stderr; a rotating debug log in the state folder (``DebugLog``).

    Applied now when ``logging`` is already loaded, else just before the first
    record (``LazyLogger.configure``): a check that logs nothing imports no
    logging. The debug log is for post-mortems of cron runs.
    """
    if "logging" in sys.modules:
        _configure_logging(state_dir)
        return
    earlier = LazyLogger.configure

    def configure() -> None:
        if earlier is not None:
            earlier()
        _configure_logging(state_dir)

    LazyLogger.configure = configure


def _configure_logging(state_dir: pathlib.Path | None) -> None:
    import logging

    # a debug log that cannot be written must not print tracebacks that cron mails
    logging.raiseExceptions = False
    root = logging.getLogger()
    if not any(getattr(h, "_heartbeat", False) for h in root.handlers):
        stderr = logging.StreamHandler()
        stderr.setLevel(logging.WARNING)
        stderr.setFormatter(logging.Formatter("heartbeat: %(message)s"))
        stderr._heartbeat = True  # type: ignore[attr-defined]
        root.addHandler(stderr)
        root.setLevel(logging.WARNING)  # libraries (markdown_it logs every block rule) stay quiet
        for own in ("heartbeat", "memory_schema"):
            logging.getLogger(own).setLevel(logging.DEBUG)
    from heartbeat.logfile import DebugLog

    if state_dir is None or any(isinstance(h, DebugLog) for h in root.handlers):
        return
    handler = DebugLog(state_dir / "heartbeat.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def echo(text: str, *, err: bool = False) -> None:
    """*text* and a newline, as ``typer.echo`` writes it (no ANSI codes unless to a terminal)."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # pragma: no cover - no standard streams (pythonw)
        return
    out = text + "\n"
    try:
        terminal = stream.isatty()
    except Exception:  # pragma: no cover - click's rule: a stream that cannot say is not one
        terminal = False
    if not terminal:
        out = ANSI_RE.sub("", out)
    ascii_only = (getattr(stream, "encoding", "") or "").lower() in {"ascii", "us-ascii", "646"}
    if ascii_only and hasattr(stream, "buffer"):
        # click replaces a misconfigured ASCII stream by UTF-8 rather than fail
        stream.flush()
        stream.buffer.write(out.encode("utf-8", "replace"))
        stream.buffer.flush()
        return
    stream.write(out)
    stream.flush()


def emit_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def check(
    cfg: Settings,
    day: datetime.date | None,
    *,
    dry_run: bool = False,
    json_output: bool = False,
    no_restart: bool = False,
    quiet: bool = False,
) -> int:
    """`heartbeat check` once its options are read: run it, print it, return the exit code."""
    from heartbeat import clock
    from heartbeat.check import run_check

    if not dry_run:
        setup_logging(cfg.state_dir)
    result = run_check(
        cfg, clock.now(cfg.timezone), date=day, dry_run=dry_run, no_restart=no_restart
    )
    if quiet and not json_output:
        from heartbeat.report import render_changes

        text = render_changes(result)
        # under an OpenClaw automation (`schedule install --via openclaw`): NO_REPLY is
        # suppressed, and a non-zero exit counts as a failed run, so news exits 0
        no_reply = os.environ.get("HEARTBEAT_NO_REPLY", "") not in {"", "0"}
        if text or no_reply:
            echo(text or "NO_REPLY")
        return 0 if no_reply else result.exit_code
    if json_output:
        emit_json(result.to_json())
    else:
        from heartbeat.report import render_table

        echo(render_table(result, status=False))
    return result.exit_code


def check_options(argv: t.Sequence[str]) -> dict[str, t.Any] | None:
    """`heartbeat check`'s options from *argv*, or None for anything typer should read."""
    if not argv or argv[0] != "check":
        return None
    found: dict[str, t.Any] = {}
    rest = iter(argv[1:])
    for arg in rest:
        name, equals, value = arg.partition("=")
        key = CHECK_FLAGS.get(name) or CHECK_OPTIONS.get(name)
        if key is None or key in found:
            return None  # --help, an unknown or repeated option, a stray argument
        if name in CHECK_FLAGS:
            if equals:
                return None
            found[key] = True
            continue
        if not equals:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None
        found[key] = value
    if "date" in found:
        try:
            found["date"] = datetime.date.fromisoformat(found["date"])
        except ValueError:
            return None  # typer says what is wrong with it
    for key in ("notes_dir", "socket", "state_dir"):
        if key in found:
            found[key] = pathlib.Path(found[key])
    return found


def fast_main(argv: t.Sequence[str]) -> int | None:
    """Run `heartbeat check` without typer; None when *argv* is for typer to read.

    Errors become the same one-line messages and exit codes as under typer
    (``heartbeat.cli.common.handle_errors``).
    """
    options = check_options(argv)
    if options is None:
        return None
    setup_logging()
    try:
        try:
            cfg = settings(
                notes_dir=options.pop("notes_dir", None),
                socket=options.pop("socket", None),
                state_dir=options.pop("state_dir", None),
            )
            return check(cfg, options.pop("date", None), **options)
        except HeartbeatError as error:
            echo(f"heartbeat: {error}", err=True)
            return int(error.exit_code)
        except Exception as error:
            from memory_schema import NoteError

            if not isinstance(error, NoteError):
                raise
            echo(f"heartbeat: {error}", err=True)
            return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        if error.errno != errno.EPIPE:
            raise
        # as click does: no "Exception ignored" when the interpreter flushes a closed pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
