"""Doctor checks of the files a check reads and writes: the config, the notes folder,
today's note, the state folder, and (on macOS) project folders behind the privacy wall."""

from __future__ import annotations

import os
import pathlib
import sys

import memory_schema as ms
from heartbeat.doctor.model import Context, Finding, Level, loose, quoted, source


def check_config(ctx: Context) -> list[Finding]:
    return [ctx.config_finding] if ctx.config_finding is not None else []


def check_notes_folder(ctx: Context) -> list[Finding]:
    folder = ctx.settings.notes_dir
    where = f"{folder} ({source(ctx, 'notes_dir')})"
    fix_where = (
        "point HEARTBEAT_NOTES_DIR (or notes_dir in the config) at the folder of your daily notes"
    )
    if not folder.exists():
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {where} does not exist: every check exits 2",
                f"create it (mkdir -p {quoted(folder)}) or {fix_where}",
            )
        ]
    if not folder.is_dir():
        return [
            Finding("notes", Level.FAIL, f"the notes folder {where} is not a folder", fix_where)
        ]
    reason = loose(folder)
    if reason:
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {folder}: {reason}; the check refuses to act on it",
                f"chmod go-w {quoted(folder)}",
            )
        ]
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        return [
            Finding(
                "notes",
                Level.FAIL,
                f"the notes folder {folder} cannot be read and written by this user",
                f"chmod u+rwx {quoted(folder)} (or fix its owner)",
            )
        ]
    return [Finding("notes", Level.OK, f"notes folder {where}")]


def check_today_note(ctx: Context) -> list[Finding]:
    folder = ctx.settings.notes_dir
    if not folder.is_dir():
        return []
    day = ctx.now.date()
    path = ms.note_path(folder, day)
    if not os.path.lexists(path):
        return [
            Finding(
                "note",
                Level.OK,
                f"no note for today yet ({path}); the first launch or check that has "
                "something to say creates it",
            )
        ]
    reason = loose(path)
    if reason:
        return [
            Finding(
                "note",
                Level.FAIL,
                f"today's note {path}: {reason}; the check refuses to act on it",
                f"chmod go-w {quoted(path)}",
            )
        ]
    try:
        parsed = ms.read_note(path)
    except ms.NoteReadError as error:
        return [
            Finding(
                "note",
                Level.FAIL,
                f"today's note cannot be read: {error}",
                "rewrite it as UTF-8 Markdown text, one line per line; "
                "the heartbeat never rewrites a note it cannot read",
            )
        ]
    except OSError as error:
        return [
            Finding(
                "note",
                Level.FAIL,
                f"today's note {path} cannot be read ({error.strerror})",
                f"chmod u+rw {quoted(path)}",
            )
        ]
    active = [e for e in parsed.entries if e.active]
    if parsed.problems:
        first = parsed.problems[0]
        return [
            Finding(
                "note",
                Level.WARN,
                f"today's note {path}: {len(parsed.problems)} line(s) look like entries but "
                f"cannot be read (first: line {first.line}: {first.message})",
                "fix those lines; `heartbeat notes list` shows them all",
            )
        ]
    return [Finding("note", Level.OK, f"today's note {path}: {len(active)} active session(s)")]


def check_state(ctx: Context) -> list[Finding]:
    from heartbeat.state import load_state, state_path

    folder = ctx.settings.state_dir
    if not folder.exists():
        return [
            Finding("state", Level.OK, f"state folder {folder} (the first check creates it)"),
        ]
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return [
            Finding(
                "state",
                Level.FAIL,
                f"the state folder {folder} is not a writable folder: checks cannot record "
                "restarts, holds or their own time",
                f"chmod u+rwx {quoted(folder)}, or point HEARTBEAT_STATE_DIR elsewhere",
            )
        ]
    path = state_path(folder)
    if not path.exists():
        return [Finding("state", Level.OK, f"state folder {folder} (no check recorded yet)")]
    try:
        raw = path.read_bytes()
    except OSError as error:
        return [
            Finding(
                "state",
                Level.FAIL,
                f"{path} cannot be read ({error.strerror})",
                f"chmod u+rw {quoted(path)}",
            )
        ]
    import json

    try:
        json.loads(raw)
    except ValueError as error:
        return [
            Finding(
                "state",
                Level.WARN,
                f"{path} is corrupt ({error}): the next check moves it aside and starts afresh",
                "nothing to do, unless it keeps happening (disk full?)",
            )
        ]
    state = load_state(folder)
    return [Finding("state", Level.OK, f"state {path}: {state.checks} check(s) recorded")]


#: Folders macOS keeps from programs without Full Disk Access (TCC): a job started by
#: launchd or cron lacks the terminal's access, and git there fails with "Operation not
#: permitted" — a verification that silently lies.
PROTECTED = ("Documents", "Desktop", "Downloads", "Library/Mobile Documents")


def protected(folder: str, home: pathlib.Path) -> str | None:
    """How *folder* is privacy-protected on macOS (``~/Documents``, an external volume), or None."""
    if folder == "~" or folder.startswith("~/"):
        folder = str(home) + folder[1:]
    path = pathlib.Path(os.path.normpath(folder))
    for name in PROTECTED:
        guarded = home / name
        if path == guarded or guarded in path.parents:
            return f"~/{name}"
    if len(path.parts) > 2 and path.parts[:2] == ("/", "Volumes"):
        return f"an external volume (/Volumes/{path.parts[2]})"
    return None


def check_privacy(ctx: Context) -> list[Finding]:
    """On macOS: sessions working in a folder that scheduled jobs may not read."""
    if ctx.platform != "darwin" or not ctx.settings.notes_dir.is_dir():
        return []
    try:
        notes = ms.collect(ctx.settings.notes_dir, ctx.now.date(), ctx.settings.days)
    except (ms.NoteError, OSError):
        return []
    findings = []
    who = _needs_access(ctx)
    for entry in notes.entries:
        if not entry.active or not entry.dir:
            continue
        where = protected(entry.dir, ctx.home)
        if where is None:
            continue
        findings.append(
            Finding(
                "privacy",
                Level.WARN,
                f"session {entry.name} works in {entry.dir}, inside {where}: macOS keeps "
                "scheduled jobs out of it, so git there fails with 'Operation not permitted' "
                "and a finished session cannot be verified",
                f"move the project out (e.g. to ~/code), or grant Full Disk Access to {who} in "
                "System Settings → Privacy & Security → Full Disk Access",
            )
        )
    return findings


def _needs_access(ctx: Context) -> str:
    """The program macOS holds responsible for a scheduled check: cron, or the interpreter."""
    from heartbeat.doctor.scheduling import schedulers

    vias = {one.via for one in schedulers(ctx)}
    python = os.path.realpath(sys.executable)
    if vias == {"cron"}:
        return "/usr/sbin/cron"
    if "cron" in vias:
        return f"/usr/sbin/cron and {python}"
    return f"{python} (the Python that runs heartbeat)"
