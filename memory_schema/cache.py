"""A parse cache: what a note says, kept until the note changes on disk.

Keyed on the note's (device, inode, size, mtime, ctime): a note that is not
rewritten is not read again, and markdown-it is not even imported. The cache
is one JSON file, written atomically; a cache that cannot be read or written
is ignored (the notes are parsed), never an error. A note changed within the
last seconds is not cached (a same-size rewrite within one timestamp tick
could not be told apart).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import pathlib
import time
import typing as t

from memory_schema.atomic import write_temp
from memory_schema.model import Entry, Problem

log = logging.getLogger(__name__)

CACHE_NAME = "notes-cache.json"
#: Notes remembered at most (the most recently used are kept).
MAX_NOTES = 16
#: A note modified this recently is not cached (seconds).
RACY_SECONDS = 2.0

Key = tuple[int, int, int, int, int]


@dataclasses.dataclass(frozen=True)
class NoteFacts:
    """What collecting needs of one note: its entries, problems and Active sections."""

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    #: The Active sections' 0-based line ranges [start, end), in order.
    sections: tuple[tuple[int, int], ...]


def stat_key(info: os.stat_result) -> Key:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def reader_version() -> str:
    """Changes whenever this library's code does (a new reader must not trust old results)."""
    return _version()


def _version() -> str:
    folder = pathlib.Path(__file__).parent
    parts = []
    for path in sorted(folder.glob("*.py")):
        with contextlib.suppress(OSError):
            info = path.stat()
            parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


class ParseCache:
    """The cache file in *folder*; :meth:`save` writes it back when something changed."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.path = folder / CACHE_NAME
        self.version = reader_version()
        self.notes: dict[str, dict[str, t.Any]] = {}
        self.changed = False
        try:
            data = json.loads(self.path.read_bytes())
            if isinstance(data, dict) and data.get("version") == self.version:
                notes = data.get("notes")
                if isinstance(notes, dict):
                    self.notes = notes
        except (OSError, ValueError) as error:
            log.debug("parse cache %s not used: %s", self.path, error)

    def get(self, path: pathlib.Path, key: Key) -> NoteFacts | None:
        """The facts of *path* when its stat *key* is the cached one; None otherwise."""
        item = self.notes.get(str(path))
        if not isinstance(item, dict) or item.get("key") != list(key):
            return None
        try:
            facts = NoteFacts(
                tuple(_entry(e) for e in item["entries"]),
                tuple(Problem(pathlib.Path(p[0]), int(p[1]), str(p[2])) for p in item["problems"]),
                tuple((int(s), int(e)) for s, e in item["sections"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            log.debug("parse cache entry for %s not used: %s", path, error)
            return None
        item["used"] = time.time()
        return facts

    def put(self, path: pathlib.Path, key: Key, facts: NoteFacts) -> None:
        """Remember *facts* for *path* at *key*, unless the note changed just now."""
        if time.time() - key[3] / 1e9 < RACY_SECONDS:
            return
        self.notes[str(path)] = {
            "key": list(key),
            "used": time.time(),
            "entries": [dataclasses.asdict(e) | {"file": str(e.file)} for e in facts.entries],
            "problems": [[str(p.file), p.line, p.message] for p in facts.problems],
            "sections": [list(s) for s in facts.sections],
        }
        self.changed = True

    def save(self) -> None:
        """Write the cache atomically when something changed; failures are only logged."""
        if not self.changed:
            return
        recent = sorted(
            self.notes.items(), key=lambda kv: float(kv[1].get("used", 0)), reverse=True
        )
        data = {"version": self.version, "notes": dict(recent[:MAX_NOTES])}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = write_temp(self.path, json.dumps(data).encode(), 0o600)
            try:
                tmp.replace(self.path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as error:
            log.debug("parse cache %s not written: %s", self.path, error)
        self.changed = False


_ENTRY_FIELDS = {field.name for field in dataclasses.fields(Entry)}


def _entry(data: dict[str, t.Any]) -> Entry:
    if set(data) != _ENTRY_FIELDS:
        raise ValueError("the cached entry does not have the fields of an Entry")
    return Entry(**(data | {"file": pathlib.Path(data["file"])}))
