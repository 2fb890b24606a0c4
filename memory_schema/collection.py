"""The entries of several days' notes merged: a later mention overrides an earlier one."""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import os
import typing as t

from memory_schema.cache import ParseCache, stat_key
from memory_schema.files import note_path, read_bytes, read_note
from memory_schema.model import Entry, NoteError, NoteReadError, Problem, decode_note

if t.TYPE_CHECKING:
    import pathlib
    from collections.abc import Callable

    from memory_schema.parse import ParsedNote


class NotesFolderError(NoteError):
    """The notes folder is missing or is not a folder."""

    def __init__(self, folder: pathlib.Path, what: str) -> None:
        self.folder = folder
        super().__init__(
            f"{folder}: the notes folder {what}; create it, or read the notes from the "
            "folder that holds your daily notes"
        )


@dataclasses.dataclass
class Collection:
    """The entries of several notes merged: a later mention overrides an earlier one.

    ``parsed`` holds the notes read by this call; a note the parse cache knew
    unchanged (not even read) is in ``notes`` but not in ``parsed``.
    """

    notes: list[pathlib.Path]
    parsed: list[ParsedNote]
    entries: list[Entry]
    all_entries: list[Entry]
    problems: list[Problem]

    def get(self, name: str) -> Entry | None:
        return next((e for e in self.entries if e.name == name), None)


def collect(
    notes_dir: pathlib.Path,
    date: datetime.date,
    days: int = 2,
    *,
    cache_dir: pathlib.Path | None = None,
) -> Collection:
    """Read the notes of *date* and the *days* before it, oldest first.

    Unreadable notes become problems (file:line); missing notes are skipped.
    With *cache_dir*, a note unchanged on disk since an earlier call is not
    read again (see :mod:`memory_schema.cache`); the result is the same.
    Raises NotesFolderError (a NoteError) when *notes_dir* itself is missing
    or not a folder.
    """
    if not notes_dir.is_dir():
        raise NotesFolderError(
            notes_dir, "is not a folder" if notes_dir.exists() else "does not exist"
        )
    cache = ParseCache(cache_dir) if cache_dir is not None else None
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
            note = _read(path, cache, parsed)
        except NoteReadError as error:
            problems.append(Problem(error.path, error.line, error.reason))
            continue
        except FileNotFoundError:
            continue
        problems.extend(note.problems)
        section_of = _section_finder([(s.start, s.end) for s in note.active_sections])
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
                            f"commands (lines {first.line} and {entry.line}), so neither is "
                            "taken: keep one, or mark the other done",
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
    if cache is not None:
        cache.save()
    entries = [e for e in merged.values() if e.name not in ambiguous]
    return Collection(notes, parsed, entries, all_entries, problems)


def _read(path: pathlib.Path, cache: ParseCache | None, parsed: list[ParsedNote]) -> ParsedNote:
    """The note's parse: from the cache when it can be (see memory_schema.cache), else read.

    Raises NoteReadError, FileNotFoundError as read_note does.
    """
    if cache is None:
        note = read_note(path)
        parsed.append(note)
        return note
    try:
        before = None if path.is_symlink() else stat_key(path.stat())
    except OSError:
        before = None
    if before is not None:
        known = cache.by_stat(path, before)
        if known is not None:
            return known
    data = read_bytes(path)
    text = decode_note(data, path)
    try:
        after = stat_key(path.stat())
    except OSError:
        after = None
    note = cache.parsed(path, data, text, before if after == before else None)
    parsed.append(note)
    return note


def _section_finder(sections: list[tuple[int, int]]) -> Callable[[int], int]:
    """The start of the innermost Active section holding a 0-based line (-1 for none)."""
    ordered = sorted(sections)
    starts = [start for start, _ in ordered]

    def find(index: int) -> int:
        position = bisect.bisect_left(starts, index)
        for start, end in reversed(ordered[:position]):
            if start < index < end:
                return start
        return -1

    return find
