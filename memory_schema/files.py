"""Daily notes on disk: finding them, reading them safely, editing them atomically."""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import datetime
import errno
import fcntl
import os
import pathlib
import re
import stat
import tempfile
import time
import typing as t

from memory_schema.errors import ConcurrentEditError, NoteError, NoteReadError
from memory_schema.model import Entry, Problem
from memory_schema.parse import ParsedNote, parse_note
from memory_schema.text import decode_note

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DAILY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.md$")
#: Notes larger than this are refused rather than parsed (bounded time per check).
MAX_NOTE_BYTES = 8 * 1024 * 1024
LOCK_TIMEOUT = 10.0


def note_date(path: pathlib.Path) -> datetime.date | None:
    """The date of a daily note named exactly ``YYYY-MM-DD.md``, else None."""
    match = DAILY_RE.match(path.name)
    if not match:
        return None
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def note_path(notes_dir: pathlib.Path, date: datetime.date) -> pathlib.Path:
    """The path of the daily note for *date* (it may not exist)."""
    return notes_dir / f"{date.isoformat()}.md"


def today(tz: str | None = None) -> datetime.date:
    """Today's date in timezone *tz* (an IANA name; None for the local zone)."""
    import pendulum

    now = pendulum.now(tz) if tz else pendulum.now()
    return datetime.date(now.year, now.month, now.day)


def daily_notes(notes_dir: pathlib.Path) -> list[pathlib.Path]:
    """Every daily note in *notes_dir*, oldest first; other files are left be."""
    found = [p for p in notes_dir.iterdir() if note_date(p) is not None]
    return sorted(found, key=lambda p: p.name)


def loose_permissions(path: pathlib.Path) -> str | None:
    """Say why *path* is unsafe to run commands from (writable by others), or None.

    As sshd judges key files: writable by the group or others, or owned by
    another user (who can write it) than the one running or root.
    """
    try:
        info = path.stat()
    except OSError:
        return None
    kind = "folder" if stat.S_ISDIR(info.st_mode) else "note"
    if info.st_uid not in (os.geteuid(), 0):
        return (
            f"the {kind} is owned by another user (uid {info.st_uid}), who could make the "
            f"heartbeat run commands; fix it with `chown {os.geteuid()} {path}`"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "others" if info.st_mode & stat.S_IWOTH else "its group"
        return (
            f"the {kind} is writable by {who} (mode {stat.S_IMODE(info.st_mode):o}), "
            f"so anyone could make the heartbeat run commands; fix it with `chmod go-w {path}`"
        )
    return None


def read_bytes(path: pathlib.Path) -> bytes:
    """Read a note's bytes, refusing what is not a regular file within bounds.

    A symlink is followed only when it stays inside the note's folder. FIFOs,
    folders and devices raise NoteReadError without being opened.
    """
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            target = path.resolve()
            if target.parent != path.parent.resolve():
                raise NoteReadError(
                    path,
                    1,
                    f"is a symlink out of the notes folder (to {target}); "
                    "copy the note into the folder instead",
                )
            info = target.stat()
    except FileNotFoundError:
        if os.path.lexists(path):
            raise NoteReadError(
                path, 1, "is a symlink to a file that does not exist; remove or fix the link"
            ) from None
        raise
    except (OSError, RuntimeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise NoteReadError(path, 1, f"cannot be read ({reason}); check the file") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise NoteReadError(path, 1, f"is {kind}; a daily note must be a Markdown file")
    if info.st_size > MAX_NOTE_BYTES:
        raise NoteReadError(
            path,
            1,
            f"is {info.st_size} bytes, over the {MAX_NOTE_BYTES} the heartbeat reads; "
            "move old content to another file",
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise NoteReadError(
            path, 1, f"cannot be read ({error.strerror}); check its permissions"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NoteReadError(path, 1, "is not a regular file")
        chunks = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_NOTE_BYTES:
                raise NoteReadError(path, 1, "grew past the size the heartbeat reads")
        return b"".join(chunks)
    except OSError as error:
        raise NoteReadError(path, 1, f"cannot be read ({error.strerror})") from None
    finally:
        os.close(fd)


def read_note(path: pathlib.Path) -> ParsedNote:
    """Read and parse one note. Raises NoteReadError, FileNotFoundError."""
    return parse_note(decode_note(read_bytes(path), path), path)


@dataclasses.dataclass
class Collection:
    """The entries of several notes merged: a later mention overrides an earlier one."""

    notes: list[pathlib.Path]
    parsed: list[ParsedNote]
    entries: list[Entry]
    all_entries: list[Entry]
    problems: list[Problem]

    def get(self, name: str) -> Entry | None:
        return next((e for e in self.entries if e.name == name), None)


def collect(notes_dir: pathlib.Path, date: datetime.date, days: int = 2) -> Collection:
    """Read the notes of *date* and the *days* before it, oldest first.

    Unreadable notes become problems (file:line); missing notes are skipped.
    Raises NoteError when *notes_dir* itself is missing or not a folder.
    """
    if not notes_dir.is_dir():
        what = "is not a folder" if notes_dir.exists() else "does not exist"
        raise NoteError(
            f"{notes_dir}: the notes folder {what}; create it or point "
            "HEARTBEAT_NOTES_DIR (or --notes-dir) at the folder of your daily notes"
        )
    notes: list[pathlib.Path] = []
    parsed: list[ParsedNote] = []
    problems: list[Problem] = []
    merged: dict[str, Entry] = {}
    all_entries: list[Entry] = []
    #: Names listed twice with different commands in one section: (note, section) of that.
    ambiguous: dict[str, tuple[pathlib.Path, int]] = {}
    for back in range(days, -1, -1):
        path = note_path(notes_dir, date - datetime.timedelta(days=back))
        if not os.path.lexists(path):
            continue
        notes.append(path)
        try:
            note = read_note(path)
        except NoteReadError as error:
            problems.append(Problem(error.path, error.line, error.reason))
            continue
        except FileNotFoundError:
            continue
        parsed.append(note)
        problems.extend(note.problems)
        section_of = _section_finder(note)
        first_in_section: dict[tuple[int, str], Entry] = {}
        for entry in note.entries:
            all_entries.append(entry)
            section = section_of(entry.line - 1)
            if ambiguous.get(entry.name, (path, section)) != (path, section):
                del ambiguous[entry.name]  # a later section or note settles it
            if entry.active and not entry.status_only:
                first = first_in_section.setdefault((section, entry.name), entry)
                if first.command.strip() != entry.command.strip():
                    ambiguous[entry.name] = (path, section)
                    problems.append(
                        Problem(
                            entry.file,
                            entry.line,
                            f"{entry.name!r} is listed twice in this section with different "
                            f"commands (lines {first.line} and {entry.line}); the heartbeat "
                            "does not guess which one runs: keep one, or mark the other done",
                        )
                    )
            previous = merged.pop(entry.name, None)
            if entry.status_only:
                if previous is None:
                    if entry.active:
                        problems.append(
                            Problem(
                                entry.file,
                                entry.line,
                                f"{entry.name!r} has a status but no command, and no earlier "
                                "entry gives one; add the command it runs",
                            )
                        )
                    continue
                entry = dataclasses.replace(
                    previous,
                    status=entry.status,
                    active=entry.active,
                    file=entry.file,
                    line=entry.line,
                    end_line=entry.end_line,
                    canonical=False,
                )
            merged[entry.name] = entry
    entries = [e for e in merged.values() if e.name not in ambiguous]
    return Collection(notes, parsed, entries, all_entries, problems)


def _section_finder(note: ParsedNote) -> Callable[[int], int]:
    """The start of the innermost Active section holding a 0-based line (-1 for none)."""
    sections = sorted(note.active_sections, key=lambda s: s.start)
    starts = [s.start for s in sections]

    def find(index: int) -> int:
        position = bisect.bisect_left(starts, index)
        for section in reversed(sections[:position]):
            if section.start < index < section.end:
                return section.start
        return -1

    return find


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def folder_lock(folder: pathlib.Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive flock on *folder* itself: no lock file left in the user's folder.

    Serialises the heartbeat's own writers; raises NoteError after *timeout*.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise NoteError(
                        f"{folder}: another heartbeat process kept the notes locked for "
                        f"{timeout:.0f} s; try again"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)


def atomic_write(path: pathlib.Path, data: bytes, mode: int | None = None) -> None:
    """Write *data* to *path* atomically: temp file in the same folder, fsync, rename.

    Keeps *mode* (the old file's mode by default). On any failure the old file
    is intact and the temporary file removed.
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644 & ~_umask()
    tmp = _write_temp(path, data, mode)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _write_temp(path: pathlib.Path, data: bytes, mode: int) -> pathlib.Path:
    """A fsynced temporary file holding *data*, beside *path*, with *mode*."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = pathlib.Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _fsync_folder(folder: pathlib.Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    except OSError as error:  # pragma: no cover - some filesystems refuse directory fsync
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(dir_fd)


def _create_exclusive(path: pathlib.Path, data: bytes) -> bool:
    """Create *path* holding *data* only if it does not exist yet (link, not rename).

    Returns False, writing nothing, when another writer created it first.
    """
    tmp = _write_temp(path, data, 0o644 & ~_umask())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_folder(path.parent)
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def edit_note(
    path: pathlib.Path,
    transform: Callable[[ParsedNote], str],
    *,
    create: str | None = None,
    tries: int = 8,
) -> bool:
    """Apply *transform* to the note at *path* and write the result atomically.

    *transform* gets the parsed note and returns the new full text. When the
    file is missing it starts from *create* (or raises FileNotFoundError); a
    note created meanwhile by someone else is read and edited instead.

    Holds the folder lock (the heartbeat's writers take turns). The assistant
    does not take it: if the file changed on disk between read and write, the
    note is re-read and the transform re-applied. When it keeps changing by
    appends only, the edit is written after APPEND_RETRIES re-reads and the
    appended bytes carried over; any other change for *tries* reads in a row raises
    ConcurrentEditError and nothing is written. After the rename, bytes that
    another writer appended to the old file are appended to the new one, so
    no line of either is lost.

    Returns True when the file was written, False when the transform changed
    nothing (the file is then not touched at all: same bytes, same mtime).
    Raises NoteReadError for a note that is not text (it is never rewritten).
    """
    if path.is_symlink():
        if path.resolve().parent != path.parent.resolve():
            raise NoteReadError(path, 1, "is a symlink out of the notes folder; it is not edited")
        if not path.exists():
            raise NoteReadError(
                path, 1, "is a symlink to a file that does not exist; remove or fix the link"
            )
    target = path.resolve() if path.is_symlink() else path
    with folder_lock(target.parent):
        append_retries = APPEND_RETRIES
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
            except FileNotFoundError:
                if create is None:
                    raise
                new_text = transform(parse_note(create, path))
                _remove_stale_temps(target)
                if _create_exclusive(target, new_text.encode("utf-8")):
                    return True
                continue
            try:
                opened = os.fstat(fd)
                if not stat.S_ISREG(opened.st_mode):
                    raise NoteReadError(path, 1, "is not a regular file; it is not edited")
                if opened.st_size > MAX_NOTE_BYTES:
                    raise NoteReadError(
                        path,
                        1,
                        f"is {opened.st_size} bytes, over the {MAX_NOTE_BYTES} the heartbeat "
                        "reads; it is not edited: move old content to another file",
                    )
                data = _read_fd(fd)
                info = os.fstat(fd)
                text = decode_note(data, path)
                new_text = transform(parse_note(text, path))
                if new_text == text:
                    return False
                change = _change(target, fd, info, data)
                if change == "other":
                    continue
                if change == "append" and append_retries and not last:
                    append_retries -= 1  # re-apply on the longer note; then carry appends
                    continue
                _remove_stale_temps(target)
                atomic_write(target, new_text.encode("utf-8"), stat.S_IMODE(info.st_mode))
                _carry_late_appends(fd, len(data), target)
            finally:
                os.close(fd)
            return True
    raise ConcurrentEditError(path, tries)


def _remove_stale_temps(target: pathlib.Path) -> None:
    """Remove temporary copies of *target* left by a writer that was killed mid-write.

    Only this library's own names (``.NAME.XXXXXXXX.tmp``, see _write_temp),
    and only under the folder lock, when no other heartbeat writer can be
    writing one.
    """
    prefix = f".{target.name}."
    try:
        found = list(target.parent.iterdir())
    except OSError:
        return
    for path in found:
        name = path.name
        if name.startswith(prefix) and name.endswith(".tmp") and len(name) == len(prefix) + 12:
            with contextlib.suppress(OSError):
                path.unlink()


#: Re-reads for a note that only grew: after them the edit is written and the
#: appended bytes carried over, so that a steady appender never starves an edit.
APPEND_RETRIES = 1
#: After a rename, how many empty looks in a row at the old file end the watch for late appends.
LATE_QUIET_LOOKS = 3
LATE_LOOK_SECONDS = 0.002


def _carry_late_appends(fd: int, offset: int, target: pathlib.Path) -> None:
    """Append to *target* what another writer appended to the replaced file after *offset*.

    A writer that opened the old file before the rename writes into it after:
    watch it until it stays quiet for a few looks, appending what arrives.
    """
    quiet = 0
    deadline = time.monotonic() + 1.0
    while quiet < LATE_QUIET_LOOKS and time.monotonic() < deadline:
        late = os.pread(fd, MAX_NOTE_BYTES, offset)
        if not late:
            quiet += 1
            time.sleep(LATE_LOOK_SECONDS)
            continue
        quiet = 0
        offset += len(late)
        out = os.open(target, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(out, late)
            os.fsync(out)
        finally:
            os.close(out)


def _read_fd(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _change(path: pathlib.Path, fd: int, info: os.stat_result, data: bytes) -> str | None:
    """How the file at *path* differs from *data*, read from *fd*: None, "append" or "other"."""
    try:
        now = path.stat()
    except FileNotFoundError:
        return "other"
    if now.st_ino != info.st_ino or now.st_dev != info.st_dev:
        return "other"
    if now.st_size == len(data) and now.st_mtime_ns == info.st_mtime_ns:
        return None
    if now.st_size > len(data) and os.pread(fd, len(data), 0) == data:
        return "append"
    return "other"
