"""Notes as text: decoding, line splitting that keeps every byte, newline style."""

from __future__ import annotations

import codecs
import dataclasses
import functools
import re
import typing as t

from memory_schema.errors import NoteReadError

if t.TYPE_CHECKING:
    import pathlib

BOM = codecs.BOM_UTF8.decode("utf-8")
#: Notes longer than this are refused rather than parsed (bounded time per check).
MAX_NOTE_LINES = 20_000


@dataclasses.dataclass
class NoteText:
    """A note's text split into lines that keep their own endings.

    ``"".join(lines)`` with the BOM in front is the original text, byte for
    byte once encoded; only ``\\n`` ends a line (a lone ``\\r`` stays inside it).
    """

    lines: list[str]
    bom: bool = False

    @classmethod
    def from_text(cls, text: str) -> NoteText:
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        return cls(lines=split_lines(text), bom=bom)

    @property
    def text(self) -> str:
        return (BOM if self.bom else "") + "".join(self.lines)

    @functools.cached_property
    def newline(self) -> str:
        """The note's line ending: CRLF when most lines end so, else LF (lines are not changed
        in place, so it is counted once)."""
        crlf = sum(1 for line in self.lines if line.endswith("\r\n"))
        lf = sum(1 for line in self.lines if line.endswith("\n")) - crlf
        return "\r\n" if crlf > lf else "\n"

    @property
    def ends_with_newline(self) -> bool:
        return not self.lines or self.lines[-1].endswith("\n")

    def bare(self, index: int) -> str:
        """Line *index* (0-based) without its ending."""
        return strip_ending(self.lines[index])


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only, keeping the endings (unlike ``str.splitlines``)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def strip_ending(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def decode_note(data: bytes, path: pathlib.Path) -> str:
    """Decode a note, raising NoteReadError for what is not Markdown text.

    Refuses invalid UTF-8 (naming the line of the first bad byte), NUL bytes
    (binary files), notes written on one line with literal ``\\n``
    sequences, which an assistant sometimes produces by double-escaping, notes
    whose lines end with a lone CR (read as one line, they would hide every
    entry), and notes of more than MAX_NOTE_LINES lines (bounded time).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise NoteReadError(
            path,
            line,
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save the note as UTF-8 text",
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise NoteReadError(
            path, line, "contains NUL bytes: this is not a text note; move it out of the folder"
        )
    body = text.rstrip("\r\n")
    if "\n" not in body and body.count("\\n") >= 2:
        raise NoteReadError(
            path,
            1,
            "the note is one line with literal \\n sequences instead of line breaks; "
            "rewrite it with real line breaks",
        )
    lone_cr = body.count("\r") - body.count("\r\n")
    if lone_cr and lone_cr >= body.count("\n"):
        first = re.search(r"\r(?!\n)", body)
        assert first is not None
        raise NoteReadError(
            path,
            body.count("\n", 0, first.start()) + 1,
            "the note's lines end with CR alone (old Mac style), so it reads as one line; "
            "convert it to LF line endings (e.g. `tr '\\r' '\\n'`)",
        )
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > MAX_NOTE_LINES:
        raise NoteReadError(
            path,
            MAX_NOTE_LINES + 1,
            f"the note has {lines} lines, over the {MAX_NOTE_LINES} lines a note may have; "
            "move old content to another file",
        )
    return text
