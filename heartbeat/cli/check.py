"""`heartbeat check`: its one option table, the fast path that reads it, and its table.

cron runs `heartbeat check --quiet` every minute. ``fast_main`` reads that
command line (and every other spelling of ``check`` with its own options)
from ``CHECK`` and runs the check without building the typer application: a
quiet check pays for no CLI framework. Anything it does not know — ``--help``,
an unknown or repeated option, a bad date, another command — returns None and
typer takes over with ``command()``, built from the same table, so messages,
help and exit codes stay typer's own. In the speed box (``heartbeat.cli``):
typer is imported only by ``command()``.
"""

from __future__ import annotations

import datetime
import errno
import os
import sys
import typing as t

from heartbeat.cli import OPTIONS, Option, echo, emit, failure, renders, settings, setup_logging

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from heartbeat.check import CheckResult
    from heartbeat.config import Settings

#: `heartbeat check`'s options (DESIGN §5), in the order its help lists them.
CHECK = (
    OPTIONS["date"],
    Option("dry_run", "--dry-run", bool, "Say what a check would do; change nothing."),
    OPTIONS["json_output"],
    Option("no_restart", "--no-restart", bool, "Report and write back, but restart nothing."),
    Option("quiet", "--quiet", bool, "Print only what changed and the problems (for cron's log)."),
    OPTIONS["notes_dir"],
    OPTIONS["socket"],
    OPTIONS["state_dir"],
)


def check_options(argv: t.Sequence[str]) -> dict[str, t.Any] | None:
    """`heartbeat check`'s options from *argv* (``CHECK``), or None for anything typer
    should read: ``--help``, an unknown, repeated or abbreviated option, a flag given a
    value, a missing or empty value, a date that is not YYYY-MM-DD, a stray argument."""
    if not argv or argv[0] != "check":
        return None
    by_flag = {option.flag: option for option in CHECK}
    found: dict[str, t.Any] = {}
    rest = iter(argv[1:])
    for arg in rest:
        flag, equals, value = arg.partition("=")
        option = by_flag.get(flag)
        if option is None or option.name in found:
            return None
        if option.kind is bool:
            if equals:
                return None
            found[option.name] = True
            continue
        if not equals:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None
        if option.kind is datetime.date:
            try:
                found[option.name] = datetime.date.fromisoformat(value)
            except ValueError:
                return None  # typer says what is wrong with it
        else:
            found[option.name] = option.kind(value)
    return found


def fast_main(argv: t.Sequence[str]) -> int | None:
    """Run `heartbeat check` without typer; None when *argv* is for typer to read.

    Errors become the same one-line messages and exit codes as under typer
    (``heartbeat.cli.failure``).
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
            return run(cfg, options.pop("date", None), **options)
        except Exception as error:
            said = failure(error)
            if said is None:
                raise
            echo(said[0], err=True)
            return said[1]
    # what click does for typer's commands
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        if error.errno != errno.EPIPE:
            raise
        # no "Exception ignored" when the interpreter flushes a closed pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def run(
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
        text = changes(result)
        # under an OpenClaw automation (`schedule install --via openclaw`): NO_REPLY is
        # suppressed, and a non-zero exit counts as a failed run, so news exits 0
        no_reply = os.environ.get("HEARTBEAT_NO_REPLY", "") not in {"", "0"}
        if text or no_reply:
            echo(text or "NO_REPLY")
        return 0 if no_reply else result.exit_code
    emit(result, json_output)
    return result.exit_code


def command() -> Callable[..., None]:
    """typer's `heartbeat check`: a function whose parameters are ``CHECK``."""
    import inspect

    import typer

    from heartbeat.cli import common

    def check_command(**options: t.Any) -> None:
        """One pass: read the notes, probe every session, act, write back and notify."""
        cfg = settings(
            notes_dir=options.pop("notes_dir"),
            socket=options.pop("socket"),
            state_dir=options.pop("state_dir"),
        )
        date = options.pop("date")
        raise typer.Exit(code=run(cfg, common.parse_date(date, cfg) if date else None, **options))

    parameters = [
        inspect.Parameter(
            option.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=False if option.kind is bool else None,
            annotation=common.annotated(option),
        )
        for option in CHECK
    ]
    check_command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    check_command.__annotations__ = {p.name: p.annotation for p in parameters}
    return common.handle_errors(check_command)


# --------------------------------------------------------------------------- the table


def _duration(seconds: float | None) -> str:
    from heartbeat.words import format_duration

    return format_duration(seconds, compact=True)


@renders("CheckResult")
def render(result: CheckResult, *, status: bool = False) -> None:
    echo(table(result, status=status))


def table(result: CheckResult, *, status: bool = False) -> str:
    """The human table: name, state, diagnosis, action, running for, last output, hint.

    ``status`` (`heartbeat status`) shows no action: it takes none.
    """
    lines: list[str] = []
    if result.server != "running":
        lines.append(f"tmux: {result.server_message}")
    if not result.sessions:
        where = ", ".join(result.notes) or "the notes"
        if result.problems:
            lines.append(f"no session could be watched from {where}: see the problems below")
        else:
            lines.append(f"no active sessions in {where}")
    else:
        header = ("SESSION", "STATE", "DIAGNOSIS", "ACTION", "UP", "IDLE", "RESTARTS")
        rows = [header]
        for s in result.sessions:
            rows.append(
                (
                    s.name,
                    s.state,
                    s.diagnosis,
                    "-" if status else s.action,
                    _duration(s.running_for),
                    _duration(s.idle),
                    str(s.restarts),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        for s in result.sessions:
            notes = []
            if s.detail:
                notes.append(s.detail)
            if s.hint:
                notes.append("hint: " + s.hint)
            if s.diagnosis not in {"healthy", "paused"}:
                notes.extend("> " + e for e in s.evidence)
                if s.diagnosis in {"stalled", "waiting_input"}:
                    notes.extend("| " + line for line in s.last_lines)
            if notes:
                lines.append(f"\n{s.name} ({s.source}):")
                lines.extend("  " + n for n in notes)
    if result.problems:
        lines.append("\nproblems:")
        lines.extend(f"  {p}" for p in result.problems)
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    for sent in result.notifications:
        if sent.get("error"):
            lines.append(f"warning: notification failed: {sent['error']}")
    if result.self_watch:
        lines.append(result.self_watch)
    if result.note_written:
        lines.append("the note was updated")
    return "\n".join(lines)


def changes(result: CheckResult) -> str:
    """`--quiet`: only what changed, and what needs fixing: one line each, stamped (cron's log)."""
    lines = [f"{result.checked_at} {event}" for event in result.events]
    lines += [f"{result.checked_at} problem: {p}" for p in result.problems]
    lines += [f"{result.checked_at} warning: {w}" for w in result.warnings]
    lines += [
        f"{result.checked_at} warning: notification failed: {n['error']}"
        for n in result.notifications
        if n.get("error")
    ]
    return "\n".join(lines)
