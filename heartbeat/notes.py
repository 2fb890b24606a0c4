"""The `heartbeat notes` operations over memory_schema, as typed core functions.

``adopt`` (`heartbeat notes adopt NAME`) reads an unlogged session from tmux and
``add``s it. A check imports this module, so what only the commands need (the
profiles, the state writer, adopt's tmux and process readers) is imported inside
the function that needs it.
"""

from __future__ import annotations

import datetime
import os
import re
import typing as t

import memory_schema as ms
from heartbeat.errors import UsageError

if t.TYPE_CHECKING:
    import pathlib

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.tmux import Pane


class NotesResult:
    """What a `heartbeat notes` command read or did (a plain class: a check imports this
    module, and a dataclass would cost it its build)."""

    def __init__(
        self,
        notes: list[pathlib.Path],
        entries: list[ms.Entry],
        problems: list[ms.Problem],
        message: str = "",
        warnings: list[ms.Problem] | None = None,
    ) -> None:
        self.notes = notes
        self.entries = entries
        self.problems = problems
        self.message = message
        #: Active entries whose command uses a flag the installed agent rejects, with the rewrite.
        self.warnings: list[ms.Problem] = [] if warnings is None else warnings

    def to_json(self) -> dict[str, object]:
        return {
            "notes": [str(p) for p in self.notes],
            "entries": [e.to_json() for e in self.entries],
            "problems": [p.to_json() for p in self.problems],
            "warnings": [w.to_json() for w in self.warnings],
        }


def permission_problems(settings: Settings, notes: list[pathlib.Path]) -> list[ms.Problem]:
    """Notes (or the folder) writable by others: the heartbeat runs nothing from them."""
    problems = []
    folder = ms.loose_permissions(settings.notes_dir)
    if folder:
        problems.append(ms.Problem(settings.notes_dir, 0, folder))
    for path in notes:
        reason = ms.loose_permissions(path)
        if reason:
            problems.append(ms.Problem(path, 0, reason))
    return problems


def list_entries(settings: Settings, date: datetime.date) -> NotesResult:
    """Every entry read from the notes of *date* and the days before, and the problems."""
    collection = collect(settings, date)
    problems = collection.problems + permission_problems(settings, collection.notes)
    return NotesResult(collection.notes, collection.entries, problems)


def rejected_flags(
    settings: Settings, entries: t.Sequence[ms.Entry], *, write: bool = True
) -> list[ms.Problem]:
    """Active entries whose command uses a flag the installed agent rejects, with the fix.

    Asks each agent binary once (cached by version in the state folder unless
    *write* is False).
    """
    from heartbeat import profiles
    from heartbeat.installed import installed
    from heartbeat.session import client_environment, shell_command

    loaded = profiles.load(settings.profiles, settings.signatures)
    path = client_environment(settings, os.environ)["PATH"]
    found = []
    asked: dict[str, tuple[tuple[str, ...], str]] = {}
    for entry in (e for e in entries if e.active and e.command):
        profile = loaded.recognise(shell_command(entry))
        if profile is None or not profile.rewrites:
            continue
        if profile.name not in asked:
            agent = installed(profile, path, settings.state_dir, write=write)
            version = f"{profile.name} {agent.version}" if agent.version else profile.name
            asked[profile.name] = (agent.rejects, version)
        rejects, versions = asked[profile.name]
        for change in profile.rewrites:
            if change.flag in rejects and change.flag in entry.command.split():
                found.append(
                    ms.Problem(
                        entry.file,
                        entry.line,
                        f"{entry.name!r} runs `{change.flag}`, which the installed {versions} "
                        f"rejects (exit 2 at once): log it as `{change.apply(entry.command)}`",
                    )
                )
    return found


def collect(
    settings: Settings, date: datetime.date, *, cache_dir: pathlib.Path | None = None
) -> ms.Collection:
    """The notes of *date* and the days before; UsageError (exit 2) saying how to fix them."""
    try:
        return ms.collect(settings.notes_dir, date, settings.days, cache_dir=cache_dir)
    except ms.NotesFolderError as error:
        raise UsageError(f"{error}: {NOTES_DIR_HINT}") from None
    except ms.NoteError as error:
        raise UsageError(str(error)) from None


#: heartbeat's own advice when memory_schema finds no notes folder.
NOTES_DIR_HINT = "point HEARTBEAT_NOTES_DIR (or --notes-dir) at the folder of your daily notes"


def _stamp(now: pendulum.DateTime) -> str:
    return now.format("YYYY-MM-DD HH:mm")


def today_path(settings: Settings, date: datetime.date) -> pathlib.Path:
    return ms.note_path(settings.notes_dir, date)


def add(
    settings: Settings,
    date: datetime.date,
    now: pendulum.DateTime,
    name: str,
    command: str,
    directory: str | None = None,
) -> NotesResult:
    """Add a canonical entry to the note of *date* (created when missing).

    Raises UsageError for a name tmux cannot hold, an empty command, or a name
    that is already active in the notes.
    """
    problem = ms.name_problem(name)
    if problem:
        raise UsageError(problem)
    collection = collect(settings, date)
    existing = collection.get(name)
    if existing is not None and existing.active:
        raise UsageError(
            f"{name!r} is already listed as active at {existing.source}; "
            f"pick another name or run `heartbeat notes remove {name}` first"
        )
    path = today_path(settings, date)
    try:
        ms.edit_note(
            path,
            lambda note: ms.add_entry(note, name, command, started=_stamp(now), dir=directory),
            create=ms.new_note_text(date.isoformat()),
        )
    except ms.InvalidEntry as error:
        raise UsageError(str(error)) from None
    return NotesResult([path], [], [], f"added {name} to {path}")


def change(
    settings: Settings,
    date: datetime.date,
    name: str,
    status: str,
    *,
    until: str | None = None,
) -> NotesResult:
    """Set *name*'s status in the note of *date*.

    A canonical entry in that note gets its status word updated in place. An
    entry written by the user (or in an earlier note) is never reworded: a
    canonical entry with the new status is added to the note instead, and the
    later mention overrides the earlier one; a bare start time ("08:18") is
    written with the day of the note it came from.
    """
    collection = collect(settings, date)
    entry = collection.get(name)
    if entry is None:
        raise ms.EntryNotFound(name, f"the notes of {date.isoformat()} and the days before")
    path = today_path(settings, date)

    def transform(note: ms.ParsedNote) -> str:
        mentions = note.entries_named(name)
        if mentions and mentions[-1].canonical:
            return ms.set_status(note, name, status, until=until)
        return ms.add_entry(
            note,
            name,
            entry.command,
            status,
            started=started_with_day(collection, entry, date),
            dir=entry.dir,
            until=until,
        )

    ms.edit_note(path, transform, create=ms.new_note_text(date.isoformat()))
    return NotesResult([path], [], [], f"{name} is now {status} in {path}")


def started_with_day(collection: ms.Collection, entry: ms.Entry, date: datetime.date) -> str | None:
    """*entry*'s start as another note may hold it: a bare time ("08:18") with its day.

    A bare time is on the day of the note that wrote it, which for a merged
    entry (a later "- api — paused" over yesterday's entry) is the note of the
    last mention that gave the command, not the note of the mention itself.
    """
    from heartbeat.session import dated_start

    origin = next(
        (
            e
            for e in reversed(collection.all_entries)
            if e.name == entry.name and e.command and e.started == entry.started
        ),
        entry,
    )
    return dated_start(entry.started, ms.note_date(origin.file) or date)


def remove(settings: Settings, date: datetime.date, name: str) -> NotesResult:
    """Take *name* out of the note of *date*.

    When an earlier note still lists it as active, a struck-through mention is
    left instead so that the check does not carry it back.
    """
    collection = collect(settings, date)
    if collection.get(name) is None:
        raise ms.EntryNotFound(name, f"the notes of {date.isoformat()} and the days before")
    path = today_path(settings, date)
    earlier = [e for e in collection.all_entries if e.name == name and e.file != path and e.active]

    def transform(note: ms.ParsedNote) -> str:
        text = ms.remove_entry(note, name) if note.entries_named(name) else note.text.text
        if earlier:
            return ms.mark_removed(ms.parse_note(text, note.path), name)
        return text

    ms.edit_note(path, transform, create=ms.new_note_text(date.isoformat()))
    return NotesResult([path], [], [], f"removed {name} from {path}")


def resume(
    settings: Settings, date: datetime.date, now: pendulum.DateTime, name: str
) -> NotesResult:
    """Clear a pause, an auth block or a give-up of *name*, in the notes and the state.

    The note's entry goes back to ``running`` (when it says otherwise) and the
    state forgets the block, the hold and the restart history, so that the next
    check watches and, if needed, restarts the session again.
    """
    from heartbeat.state import load_state, save_state

    collection = collect(settings, date)
    entry = collection.get(name)
    if entry is None:
        raise ms.EntryNotFound(name, f"the notes of {date.isoformat()} and the days before")
    result = NotesResult([], [], [], f"{name} resumed")
    if entry.status != "running" or entry.until:
        result = change(settings, date, name, "running")
        result.message = f"{name} resumed in {result.notes[0]}"
    state = load_state(settings.state_dir)
    if name in state.sessions:
        session = state.sessions[name]
        session.blocked = None
        session.hold_until = None
        session.hold_reason = None
        session.restarts = []
        session.rate_limit_attempts = 0
        session.notified = None
        session.resumed_at = now.timestamp()
        session.void_incarnation = "pending"
        warning = save_state(settings.state_dir, state, now.timestamp())
        if warning:
            raise UsageError(warning)
    return result


def adopt(
    settings: Settings,
    date: datetime.date,
    now: pendulum.DateTime,
    name: str,
    socket: pathlib.Path | None = None,
) -> NotesResult:
    """Log session *name* (on *socket*, else the stable socket, else tmux's default one).

    The session is read from tmux — the command its pane was started with (the
    seed's anatomy, a plain command, or what runs in an interactive shell), its
    folder and its start — and logged in today's note in the canonical form, so
    the next check watches it like any other (DESIGN §4). Raises UsageError when
    no watched server has that session, or when it is already listed (``add``'s
    errors).
    """
    import shlex

    from heartbeat.check.identity import socket_folder
    from heartbeat.tmux import Tmux

    sockets = [socket] if socket else [settings.socket, socket_folder(os.environ) / "default"]
    for path in sockets:
        probe = Tmux(path).list_panes()
        panes = probe.session_panes(name)
        if panes:
            pane = panes[0]
            command, folder = agent_command(pane)
            if path != settings.socket:
                command = (
                    f"tmux -S {shlex.quote(str(path))} new -d -s {name} {shlex.quote(command)}"
                )
            started = now.subtract(seconds=max(0.0, now.timestamp() - pane.created))
            return add(settings, date, started, name, command, folder)
    where = " or ".join(str(p) for p in sockets)
    raise UsageError(
        f"no tmux session {name!r} on {where}; `tmux -S SOCKET list-sessions` lists them, "
        "and --socket names another server"
    )


def agent_command(pane: Pane) -> tuple[str, str | None]:
    """The command to log for *pane*, and its folder.

    The seed's anatomy gives its agent line (without ``cd DIR &&``, the PATH fix
    and the hook); another start command is logged as it is; an interactive
    shell gives what runs in it. The folder is the anatomy's ``cd``, else the
    pane's current one.
    """
    from heartbeat.check.identity import interactive, start_text

    folder: str | None = pane.path or None
    if not interactive(pane):
        text = start_text(pane.start_command)
        first = text.split("\n", 1)[0] if "\nEXIT_CODE=" in text else text
        cd = re.match(r"^\s*cd\s+(\S+)\s*&&\s*", first)
        if cd:
            try:
                folder = ms.split_shell(cd.group(1))[0]
            except ValueError:
                folder = cd.group(1)
            first = first[cd.end() :]
        return re.sub(r"^PATH=\S+\s+", "", first.strip()), folder
    child = _foreground(pane.pid)
    if child is None:
        raise UsageError(
            f"session {pane.session!r} is an interactive shell with nothing running in it: "
            "there is no agent to adopt"
        )
    return child, folder


def _foreground(pid: int | None) -> str | None:
    """The command line of the first process the shell *pid* runs."""
    from heartbeat import proc

    if pid is None:
        return None
    listing = proc.run(["ps", "-A", "-o", "pid=,ppid=,args="], timeout=10.0)
    if not listing.ok:
        return None
    for line in listing.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] == str(pid):
            return parts[2].strip()
    return None
