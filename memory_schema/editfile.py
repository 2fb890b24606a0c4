"""Editing a note on disk: re-read and re-apply when someone else wrote meanwhile."""

from __future__ import annotations

import os
import pathlib
import stat
import time
import typing as t

from memory_schema.atomic import atomic_write, create_exclusive, folder_lock, remove_stale_temps
from memory_schema.cache import ParseCache, stat_key
from memory_schema.errors import ConcurrentEditError, NoteReadError
from memory_schema.files import MAX_NOTE_BYTES
from memory_schema.parse import ParsedNote, parse_note
from memory_schema.text import decode_note

if t.TYPE_CHECKING:
    from collections.abc import Callable


def edit_note(
    path: pathlib.Path,
    transform: Callable[[ParsedNote], str | ParsedNote],
    *,
    create: str | None = None,
    tries: int = 8,
    cache_dir: pathlib.Path | None = None,
) -> bool:
    """Apply *transform* to the note at *path* and write the result atomically.

    *transform* gets the parsed note and returns the new full text, or the new
    note parsed (``NoteEdits.apply_parsed``). When the file is missing it starts
    from *create* (or raises FileNotFoundError); a note created meanwhile by
    someone else is read and edited instead. With *cache_dir* (the folder of
    ``collect``'s parse cache) the note is parsed only if the cache does not
    know it, and a parsed result is remembered for the next read.

    Holds the folder lock (this library's writers take turns). The assistant
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
    cache = ParseCache(cache_dir) if cache_dir is not None and target == path else None
    with folder_lock(target.parent):
        append_retries = APPEND_RETRIES
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
            except FileNotFoundError:
                if create is None:
                    raise
                new_text = _text(transform(parse_note(create, path)))
                remove_stale_temps(target)
                if create_exclusive(target, new_text.encode("utf-8")):
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
                        f"is {opened.st_size} bytes, over the {MAX_NOTE_BYTES} bytes a note may "
                        "have; it is not edited: move old content to another file",
                    )
                data = _read_fd(fd)
                info = os.fstat(fd)
                text = decode_note(data, path)
                if cache is None:
                    parsed = parse_note(text, path)
                else:
                    stable = stat_key(opened) == stat_key(info)
                    parsed = cache.parsed(path, data, text, stat_key(info) if stable else None)
                result = transform(parsed)
                new_text = _text(result)
                if new_text == text:
                    if cache is not None:
                        cache.save()
                    return False
                change = _change(target, fd, info, data)
                if change == "other":
                    continue
                if change == "append" and append_retries and not last:
                    append_retries -= 1  # re-apply on the longer note; then carry appends
                    continue
                remove_stale_temps(target)
                new_data = new_text.encode("utf-8")
                atomic_write(target, new_data, stat.S_IMODE(info.st_mode))
                _carry_late_appends(fd, len(data), target)
                if cache is not None:
                    if isinstance(result, ParsedNote):
                        _remember(cache, path, new_data, result)
                    cache.save()
            finally:
                os.close(fd)
            return True
    raise ConcurrentEditError(path, tries)


def _text(result: str | ParsedNote) -> str:
    return result.text.text if isinstance(result, ParsedNote) else result


def _remember(cache: ParseCache, path: pathlib.Path, data: bytes, parsed: ParsedNote) -> None:
    """Keep the parse of what was just written (checked against the bytes when used)."""
    try:
        key = stat_key(path.stat())
    except OSError:
        return
    cache.remember(path, data, parsed, key)


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
