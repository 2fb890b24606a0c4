"""Edits of a note as text splices: each changes only the lines it means to.

- the canonical form of an entry, which the reader round-trips exactly
  (``render_entry``);
- the edits: each takes a parsed note and returns the new full text (or the
  splice that makes it), touching no disk; the frontmatter, other sections,
  line endings, the trailing newline and a BOM are kept byte for byte;
- several edits of one note from one parse (:class:`NoteEdits`): after each
  change the note is parsed again only between the headings around the
  lines it changed (:func:`memory_schema.parse.reparse`), and one read-back
  checks them all;
- the edit on disk (:func:`edit_note`): atomic, under the folder lock, and
  re-read and re-applied when someone else wrote meanwhile.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import stat
import time
import typing as t

from memory_schema import shell
from memory_schema.cache import ParseCache, stat_key
from memory_schema.files import (
    MAX_NOTE_BYTES,
    atomic_write,
    create_exclusive,
    folder_lock,
    remove_stale_temps,
)
from memory_schema.model import (
    LOG_TITLE,
    SECTION_TITLE,
    STATUS_WORDS,
    ConcurrentEditError,
    Entry,
    EntryNotFound,
    NoteError,
    NoteReadError,
    NoteText,
    Section,
    decode_note,
    is_valid_name,
    name_problem,
    strip_ending,
)
from memory_schema.parse import ParsedNote, parse_note, reparse
from memory_schema.shell import parse_tmux_like, parse_tmux_new

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable


# ------------------------------------------------------- the canonical form


class InvalidEntry(NoteError):
    """An entry that cannot be written in the canonical form."""


def code_span(text: str) -> str:
    """Render *text* as a CommonMark code span that reads back as *text*.

    Uses a backtick run longer than any inside the text, padded with a space
    where the text starts or ends with a backtick or is wrapped in spaces.
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = (
        text.startswith("`")
        or text.endswith("`")
        or (text.startswith(" ") and text.endswith(" ") and text.strip(" ") != "")
    )
    space = " " if pad else ""
    return f"{fence}{space}{text}{space}{fence}"


def _check_text(label: str, value: str) -> None:
    if any(char in value for char in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        raise InvalidEntry(f"the {label} contains a line break; put it on one line")
    if "\x00" in value:
        raise InvalidEntry(f"the {label} contains a NUL byte; remove it")
    if value.strip() != value:
        raise InvalidEntry(f"the {label} starts or ends with spaces; remove them")


def _check_field(label: str, value: str, *, spanned: bool = False) -> None:
    _check_text(label, value)
    if "·" in value:
        raise InvalidEntry(f"the {label} contains '·', which separates fields; remove it")
    if not spanned and "`" in value:
        raise InvalidEntry(f"the {label} contains a backtick; remove it")


def render_head(
    name: str,
    status: str = "running",
    *,
    started: str | None = None,
    dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
    until: str | None = None,
) -> str:
    """The first line of a canonical entry, without its line ending."""
    problem = name_problem(name)
    if problem:
        raise InvalidEntry(problem)
    if status not in STATUS_WORDS:
        raise InvalidEntry(f"unknown status {status!r}; use one of {', '.join(STATUS_WORDS)}")
    head = f"- `{name}` — {status}"
    if started:
        _check_field("start time", started)
        head += f" · started {started}"
    if dir:
        _check_field("folder", dir, spanned=True)
        head += f" · dir {code_span(dir)}"
    if until:
        _check_field("pause end", until)
        head += f" · until {until}"
    return head


def render_entry(
    name: str,
    command: str,
    status: str = "running",
    *,
    started: str | None = None,
    dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
    until: str | None = None,
    newline: str = "\n",
) -> list[str]:
    """The canonical entry's lines, each ending in *newline*.

    Raises InvalidEntry for what the canonical form cannot hold: a bad name,
    an unknown status, an empty command or one with a line break.
    """
    if not command.strip():
        raise InvalidEntry("the command is empty; give the command the session runs")
    _check_text("command", command)
    _check_shell(name, command)
    head = render_head(name, status, started=started, dir=dir, until=until)
    return [head + newline, f"  - command: {code_span(command)}" + newline]


def _check_shell(name: str, command: str) -> None:
    """Refuse a command the reader would report as a problem (it must read back)."""
    try:
        shell.tokens(command)
        tmux = parse_tmux_new(command) if parse_tmux_like(command) else None
    except ValueError as error:
        raise InvalidEntry(
            f"the command cannot be read as a shell command ({error}); check its quotes"
        ) from None
    if tmux is not None and tmux.name != name:
        raise InvalidEntry(
            f"the tmux command creates the session {tmux.name!r}, not {name!r}; "
            "use the same name in both"
        )


def render_section(entries: list[list[str]], newline: str = "\n") -> list[str]:
    """A new Active Long-Running Processes section holding *entries*."""
    lines = [f"## {SECTION_TITLE}{newline}", newline]
    for entry in entries:
        lines.extend(entry)
    return lines


# -------------------------------------------------------------------- edits


class NotCanonical(NoteError):
    """The entry was not written by this library, so it is never reworded."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        super().__init__(
            f"{entry.source}: the entry {entry.name!r} is not in the canonical form, "
            "so it is left as written"
        )


class Splice(t.NamedTuple):
    """Replace ``remove`` lines at ``at`` (an index of the original note's lines) by ``lines``."""

    at: int
    lines: list[str]
    remove: int = 0


def apply_splices(note: NoteText, splices: list[Splice]) -> str:
    """The note's text with every splice made; indices are those of the original lines.

    Of two splices at one index, the one listed first comes first. A note that
    ended without a newline still does, after whatever was added at its end.
    """
    lines = list(note.lines)
    for _, splice in sorted(enumerate(splices), key=lambda p: (p[1].at, p[0]), reverse=True):
        lines[splice.at : splice.at + splice.remove] = splice.lines
    if not note.ends_with_newline and lines:
        lines = [line if line.endswith("\n") else line + note.newline for line in lines]
        lines[-1] = strip_ending(lines[-1])
    return NoteText(lines=lines, bom=note.bom).text


def _splice(note: NoteText, index: int, new: list[str], remove: int = 0) -> str:
    """Replace ``remove`` lines at *index* by *new* lines; return the full text."""
    return apply_splices(note, [Splice(index, new, remove)])


def _last_content_line(note: NoteText, section: Section) -> int:
    """Index of the last non-blank line of *section* (its heading at least)."""
    for index in range(section.end - 1, section.start, -1):
        if note.bare(index).strip():
            return index
    return section.start


def section_insertion(note: NoteText, section: Section, block: list[str]) -> Splice:
    """Where and how *block* goes at the end of *section*'s content."""
    nl = note.newline
    last = _last_content_line(note, section)
    if last == section.start:
        after = section.start + 1
        if after < section.end and not note.bare(after).strip():
            after, block = after + 1, list(block)
        else:
            block = [nl, *block]
        if after < len(note.lines) and note.bare(after).strip():
            block = [*block, nl]  # the next heading starts right below: keep it apart
        return Splice(after, block)
    line = note.bare(last)
    in_list = bool(re.match(r"^(\s+\S|\s*([-*+]|\d+[.)])\s)", line))
    block = block if in_list else [nl, *block]
    if last + 1 < len(note.lines) and note.bare(last + 1).strip():
        block = [*block, nl]  # the next heading starts right below: keep it apart
    return Splice(last + 1, block)


def section_append(note: NoteText, lines: list[str]) -> Splice:
    """*lines* (a new section) at the end of the note, after a blank line."""
    block = list(lines)
    if note.lines and note.bare(len(note.lines) - 1).strip():
        block.insert(0, note.newline)
    return Splice(len(note.lines), block)


def _insert_in_section(note: NoteText, section: Section, block: list[str]) -> str:
    return apply_splices(note, [section_insertion(note, section, block)])


def _append_section(note: NoteText, lines: list[str]) -> str:
    return apply_splices(note, [section_append(note, lines)])


def set_status(parsed: ParsedNote, name: str, status: str, *, until: str | None = None) -> str:
    """Update the status word (and the pause end) of the last mention of *name*.

    Raises EntryNotFound when the note does not mention *name*, NotCanonical
    when that mention is not in the canonical form.
    """
    splice = status_splice(parsed, name, status, until=until)
    return parsed.text.text if splice is None else apply_splices(parsed.text, [splice])


def status_splice(
    parsed: ParsedNote, name: str, status: str, *, until: str | None = None
) -> Splice | None:
    """The one-line splice that sets *name*'s status; None when it already reads so.

    Raises as :func:`set_status` does.
    """
    entries = parsed.entries_named(name)
    if not entries:
        raise EntryNotFound(name, str(parsed.path))
    entry = entries[-1]
    if not entry.canonical:
        raise NotCanonical(entry)
    if status not in STATUS_WORDS:
        raise InvalidEntry(f"unknown status {status!r}; use one of {', '.join(STATUS_WORDS)}")
    index = entry.line - 1
    original = parsed.text.lines[index]
    bare = strip_ending(original)
    ending = original[len(bare) :]
    match = re.match(r"^(\s*- `[^`]+` — )(\w+)(.*)$", bare)
    if match is None:  # pragma: no cover - canonical entries always match
        raise NotCanonical(entry)
    fields = re.sub(r" · until [^·]*", "", match.group(3))
    if until:
        fields += f" · until {until}"
    new = f"{match.group(1)}{status}{fields}{ending}"
    return None if new == original else Splice(index, [new], remove=1)


def mark_removed(parsed: ParsedNote, name: str) -> str:
    """Add a struck-through ``- ~~`name`~~ — removed`` mention to the last Active section.

    The mention reads as inactive and overrides earlier mentions (in this or
    earlier notes) without rewording them. Creates the section when missing.
    """
    if not is_valid_name(name):
        raise InvalidEntry(f"session name {name!r} cannot be used")
    note = parsed.text
    block = [f"- ~~`{name}`~~ — removed{note.newline}"]
    sections = parsed.active_sections
    if sections:
        return _insert_in_section(note, sections[-1], block)
    return _append_section(note, render_section([block], note.newline))


def remove_entry(parsed: ParsedNote, name: str) -> str:
    """Delete every mention of *name* in the note (its whole item, sub-items too)."""
    entries = parsed.entries_named(name)
    if not entries:
        raise EntryNotFound(name, str(parsed.path))
    lines = list(parsed.text.lines)
    for entry in sorted(entries, key=lambda e: e.line, reverse=True):
        del lines[entry.line - 1 : entry.end_line]
    return NoteText(lines=lines, bom=parsed.text.bom).text


def append_log(parsed: ParsedNote, events: list[str]) -> str:
    """Append one ``- ...`` line per event under the note's ``## Heartbeat``.

    The section is created at the end of the note when missing. Returns the
    text unchanged when *events* is empty.
    """
    if not events:
        return parsed.text.text
    return apply_splices(parsed.text, [log_splice(parsed, events)])


def log_splice(parsed: ParsedNote, events: list[str]) -> Splice:
    """The splice that appends *events* as log lines (see :func:`append_log`)."""
    note, sections = parsed.text, parsed.log_sections
    for event in events:
        if "\n" in event or "\r" in event:
            raise NoteError("a log line cannot contain a line break")
    block = [f"- {event}{note.newline}" for event in events]
    if sections:
        return section_insertion(note, sections[-1], block)
    return section_append(note, [f"## {LOG_TITLE}{note.newline}", note.newline, *block])


def new_note_text(title: str) -> str:
    """The text of a new daily note: its ``# title`` line."""
    return f"# {title}\n"


# ------------------------------------------------- several edits, one parse


@dataclasses.dataclass(frozen=True)
class _Add:
    name: str
    command: str
    status: str
    started: str | None
    dir: str | None
    until: str | None

    def lines(self, newline: str) -> list[str]:
        return render_entry(
            self.name,
            self.command,
            self.status,
            started=self.started,
            dir=self.dir,
            until=self.until,
            newline=newline,
        )


@dataclasses.dataclass
class NoteEdits:
    """Edits to make to one note: new canonical entries, status changes, log lines.

    Collect them with :meth:`add`, :meth:`status` and :meth:`log` (each checks
    its input at once and raises InvalidEntry or NoteError), then
    :meth:`apply` them to a parsed note: one splice pass, one read-back.
    ``edit_note(path, edits.apply_parsed)`` writes them atomically.
    """

    adds: list[_Add] = dataclasses.field(default_factory=list)
    statuses: dict[str, tuple[str, str | None]] = dataclasses.field(default_factory=dict)
    events: list[str] = dataclasses.field(default_factory=list)

    def add(
        self,
        name: str,
        command: str,
        status: str = "running",
        *,
        started: str | None = None,
        dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
        until: str | None = None,
    ) -> None:
        """Add a canonical entry at the end of the last Active section (see add_entry)."""
        add = _Add(name, command, status, started, dir, until)
        add.lines("\n")  # raises InvalidEntry now, not in the middle of a write
        self.adds.append(add)

    def status(self, name: str, status: str, *, until: str | None = None) -> None:
        """Set the status (and pause end) of *name*'s last mention, as set_status does."""
        self.statuses[name] = (status, until)

    def log(self, events: Iterable[str]) -> None:
        """Append log lines under ``## Heartbeat`` (created at the end when missing)."""
        for event in events:
            if "\n" in event or "\r" in event:
                raise NoteError("a log line cannot contain a line break")
            self.events.append(event)

    def __bool__(self) -> bool:
        return bool(self.adds or self.statuses or self.events)

    def apply(self, parsed: ParsedNote) -> str:
        """The note's new text. Raises as :meth:`apply_parsed` does."""
        return self.apply_parsed(parsed).text.text

    def apply_parsed(self, parsed: ParsedNote) -> ParsedNote:
        """The note with every edit made, parsed (the parse reused up to the first change).

        Raises EntryNotFound or NotCanonical for a status change of an entry
        that is missing or not canonical, and NoteError when an added entry
        would not read back even in a new section at the end of the note.
        """
        if not self:
            return parsed
        # One edit after the other, as the single edits would be made, each
        # parsed again only around the lines it changed.
        current = parsed
        for name, (status, until) in self.statuses.items():
            splice = status_splice(current, name, status, until=until)
            if splice is not None:
                current = _spliced(current, splice)
        if self.adds:
            current = self._add(current)
        if self.events:
            current = _spliced(current, log_splice(current, self.events))
        return current

    def _add(self, parsed: ParsedNote) -> ParsedNote:
        """The adds as one block in the last Active section, else in a new one at the end."""
        note = parsed.text
        block = [line for add in self.adds for line in add.lines(note.newline)]
        tries = [section_append(note, render_section([block], note.newline))]
        if parsed.active_sections:
            tries.insert(0, section_insertion(note, parsed.active_sections[-1], block))
        for splice in tries:
            result = _spliced(parsed, splice)
            if all(_reads_back(result, add) for add in self.adds):
                return result
        raise NoteError(
            f"{parsed.path}: an entry added at the end of the note would not be read back "
            "(the note ends inside an unclosed code block, HTML block or comment); "
            "close it, then add the entry again"
        )


def _spliced(parsed: ParsedNote, splice: Splice) -> ParsedNote:
    return reparse(parsed, apply_splices(parsed.text, [splice]))


def _reads_back(parsed: ParsedNote, add: _Add) -> bool:
    """True when *add*'s name reads last as the canonical entry just added."""
    mentions = parsed.entries_named(add.name)
    return bool(mentions) and (
        mentions[-1].canonical,
        mentions[-1].command,
        mentions[-1].status,
    ) == (True, add.command, add.status)


def add_entry(
    parsed: ParsedNote,
    name: str,
    command: str,
    status: str = "running",
    *,
    started: str | None = None,
    dir: str | None = None,  # noqa: A002 - the Entry field and the --dir option say `dir`
    until: str | None = None,
) -> str:
    """Add a canonical entry at the end of the note's last Active section.

    Creates the section at the end of the note when there is none, or when
    the entry would not read back where it was put. Does not check for an
    existing entry of the same name: a later mention overrides. Raises
    InvalidEntry for what the canonical form cannot hold, NoteError when the
    entry cannot be added so that it reads back.
    """
    edits = NoteEdits()
    edits.add(name, command, status, started=started, dir=dir, until=until)
    return edits.apply(parsed)


# --------------------------------------------------------- the edit on disk


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
