"""A parse cache: what a note says, kept until the note changes.

One JSON file in a folder the caller owns (heartbeat's state folder), written
atomically; a cache that cannot be read or written is ignored, never an error.
The file is keyed on the reader's version (the package version and its code,
:func:`reader_version`): a new reader never trusts an old reader's results.
For each note it keeps the parse (sections, entries, problems, the headings a
parse may resume at), the note's stat key (device, inode, size, mtime, ctime)
and the SHA-1 of its bytes, its content:

- same stat key, and the note was already old when it was read (its mtime
  RACY_SECONDS or more before): the note is neither read nor parsed, and
  markdown-it is not imported. The ctime is in the key: no tool sets it back,
  so a note rewritten with its old size and mtime restored is read again;
- else the bytes are read: the same SHA-1 is the same parse; a note whose
  bytes through some heading are unchanged (the assistant appended below it)
  is parsed from that heading on (:func:`memory_schema.parse.reparse`).

On a quiet check of heartbeat's (nothing changed) this module is on the path
and the parser is not: ``logging`` too is imported only in the rare branches
that make a record (a cache that cannot be read or written), and ``hashlib``
only when a note is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import pathlib
import re
import time
import typing as t

from memory_schema import __version__
from memory_schema.files import write_temp
from memory_schema.model import Entry, NoteText, ParsedNote, Problem, Section

if t.TYPE_CHECKING:
    import hashlib
    import os


CACHE_NAME = "notes-cache.json"
#: Notes remembered at most (the most recently used are kept).
MAX_NOTES = 16
#: A note modified less than this before it was read may change again within one
#: timestamp tick (a second on some filesystems): its stat alone is not trusted.
RACY_SECONDS = 2.0

Key = tuple[int, int, int, int, int]


def _sha1(data: bytes = b"") -> hashlib._Hash:
    """A SHA-1 hasher; hashlib (OpenSSL) is loaded only when a note is read."""
    import hashlib

    return hashlib.sha1(data, usedforsecurity=False)


def stat_key(info: os.stat_result) -> Key:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@functools.cache
def reader_version() -> str:
    """The package version, and the size and mtime of each of its modules.

    The version says which reader wrote a cache; the modules' stats tell a
    reader changed in place (a development checkout, a patched install) from
    the one that wrote it, without reading the code on every check.
    """
    parts = [__version__]
    for path in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        with contextlib.suppress(OSError):
            info = path.stat()
            parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


class ParseCache:
    """The cache file in *folder*. Nothing is written before :meth:`save`."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.path = folder / CACHE_NAME
        self.notes: dict[str, dict[str, t.Any]] = {}
        self.changed = False
        try:
            data = json.loads(self.path.read_bytes())
            if isinstance(data, dict) and data.get("version") == reader_version():
                notes = data.get("notes")
                if isinstance(notes, dict):
                    self.notes = notes
        except (OSError, ValueError) as error:
            import logging  # rare: see the module docstring

            logging.getLogger(__name__).debug("parse cache %s not used: %s", self.path, error)

    def by_stat(self, path: pathlib.Path, key: Key) -> ParsedNote | None:
        """The cached parse when *path*'s stat is the cached one and was trusted; else None.

        The note's text is not read: the result's ``text`` is empty (use
        :meth:`parsed` when the text is needed).
        """
        item = self.notes.get(str(path))
        if not isinstance(item, dict) or not item.get("trusted") or item.get("key") != list(key):
            return None
        # not read, so never reparsed: its headings' lines (anchors) are not needed
        return self._load(path, item, NoteText(lines=[]), anchors=False)

    def parsed(self, path: pathlib.Path, data: bytes, text: str, key: Key | None) -> ParsedNote:
        """The parse of *text* (decoded from *data*), from the cache when it can be.

        *key* is the note's stat key while *data* was read (None when it
        changed meanwhile). Remembers the result.
        """
        note = NoteText.from_text(text)
        digest = _sha1(data).hexdigest()
        item = self.notes.get(str(path))
        found: ParsedNote | None = None
        if isinstance(item, dict) and item.get("sha") == digest:
            found = self._load(path, item, note)
            if found is not None:
                self._trust(item, key)
                return found
        elif isinstance(item, dict):
            line = _unchanged_through(item, data)
            previous = self._load(path, item, note) if line is not None else None
            if previous is not None and line is not None:
                from memory_schema.parse import reparse

                found = reparse(previous, text, line + 1)
        if found is None:
            from memory_schema.parse import parse_note

            found = parse_note(text, path)
        self.remember(path, data, found, key)
        return found

    def remember(
        self, path: pathlib.Path, data: bytes, parsed: ParsedNote, key: Key | None
    ) -> None:
        """Keep *parsed* as the parse of *data*, the bytes of *path* at stat *key*."""
        ends = [m.end() for m in re.finditer(b"\n", data)]
        anchors = []
        hasher = _sha1()
        done = 0
        for line in parsed.anchors:
            if line >= len(ends):
                break
            hasher.update(data[done : ends[line]])
            done = ends[line]
            anchors.append([line, done, hasher.hexdigest()])
        self.notes[str(path)] = {
            "key": list(key) if key else None,
            "trusted": key is not None and time.time() - key[3] / 1e9 >= RACY_SECONDS,
            "sha": _sha1(data).hexdigest(),
            "used": time.time(),
            "body_start": parsed.body_start,
            "sections": [[s.title, s.level, s.start, s.end] for s in parsed.sections],
            "entries": [
                {name: getattr(e, name) for name in _ENTRY_FIELDS} | {"file": str(e.file)}
                for e in parsed.entries
            ],
            "problems": [[str(p.file), p.line, p.message] for p in parsed.problems],
            "anchors": anchors,
        }
        self.changed = True

    def _trust(self, item: dict[str, t.Any], key: Key | None) -> None:
        """The same bytes at stat *key*: trust the stat alone once the note is old enough."""
        trusted = key is not None and time.time() - key[3] / 1e9 >= RACY_SECONDS
        if item.get("key") != (list(key) if key else None) or item.get("trusted") != trusted:
            item["key"] = list(key) if key else None
            item["trusted"] = trusted
            self.changed = True

    def save(self) -> None:
        """Write the cache atomically when something changed; failures are only logged."""
        if not self.changed:
            return
        recent = sorted(self.notes.items(), key=lambda kv: float(kv[1].get("used", 0)))
        data = {"version": reader_version(), "notes": dict(recent[-MAX_NOTES:])}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = write_temp(self.path, json.dumps(data).encode(), 0o600)
            try:
                tmp.replace(self.path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as error:
            import logging  # rare: see the module docstring

            logging.getLogger(__name__).debug("parse cache %s not written: %s", self.path, error)
        self.changed = False

    def _load(
        self, path: pathlib.Path, item: dict[str, t.Any], note: NoteText, *, anchors: bool = True
    ) -> ParsedNote | None:
        files: dict[str, pathlib.Path] = {}  # one Path per file, not one per entry
        try:
            parsed = ParsedNote(
                path,
                note,
                [Section(str(a), int(b), int(c), int(d)) for a, b, c, d in item["sections"]],
                [_entry(e, files) for e in item["entries"]],
                [Problem(_path(f, files), int(n), str(m)) for f, n, m in item["problems"]],
                int(item["body_start"]),
                [int(anchor[0]) for anchor in item["anchors"]] if anchors else [],
            )
        except (KeyError, TypeError, ValueError) as error:
            import logging  # rare: see the module docstring

            logging.getLogger(__name__).debug("parse cache entry for %s not used: %s", path, error)
            return None
        item["used"] = time.time()
        return parsed


def _unchanged_through(item: dict[str, t.Any], data: bytes) -> int | None:
    """The last cached heading line whose bytes, and all before, *data* still has."""
    found = None
    hasher = _sha1()
    done = 0
    try:
        for line, end, digest in item.get("anchors") or []:
            if end > len(data):
                break
            hasher.update(data[done:end])
            done = end
            if hasher.hexdigest() != digest:
                break
            found = int(line)
    except (TypeError, ValueError):
        return None
    return found


_ENTRY_FIELDS = tuple(field.name for field in dataclasses.fields(Entry))


def _entry(data: dict[str, t.Any], files: dict[str, pathlib.Path]) -> Entry:
    if not isinstance(data, dict) or data.keys() != set(_ENTRY_FIELDS):
        raise ValueError("the cached entry does not have the fields of an Entry")
    return Entry(**(data | {"file": _path(data["file"], files)}))


def _path(name: object, files: dict[str, pathlib.Path]) -> pathlib.Path:
    if not isinstance(name, str):
        raise TypeError("a cached file name is not a string")
    found = files.get(name)
    if found is None:
        found = files[name] = pathlib.Path(name)
    return found
