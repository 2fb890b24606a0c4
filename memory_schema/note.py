"""A note as read: its lines, sections, entries and problems (``ParsedNote``).

Its own module, light to import: the parse cache builds one from what it
kept without importing the parser.
"""

from __future__ import annotations

import dataclasses
import typing as t

from memory_schema.model import LOG_TITLE, SECTION_RE, Entry, Problem, Section

if t.TYPE_CHECKING:
    import pathlib

    from memory_schema.text import NoteText


@dataclasses.dataclass
class ParsedNote:
    """A note read into lines, sections, entries and problems."""

    path: pathlib.Path
    text: NoteText
    sections: list[Section]
    entries: list[Entry]
    problems: list[Problem]
    #: The 0-based index of the first line after the frontmatter.
    body_start: int
    #: 0-based lines of the top-level ATX headings: where a parse may resume
    #: (memory_schema.reparse).
    anchors: list[int] = dataclasses.field(default_factory=list)
    _metadata: dict[str, object] | None = dataclasses.field(default=None, repr=False)

    @property
    def metadata(self) -> dict[str, object]:
        """The frontmatter's mapping ({} when there is none); read on first use."""
        if self._metadata is None:
            from memory_schema.metadata import frontmatter

            self._metadata = frontmatter(self.text, self.path, [])[1]
        return self._metadata

    @property
    def active_sections(self) -> list[Section]:
        return [s for s in self.sections if SECTION_RE.search(s.title)]

    @property
    def log_sections(self) -> list[Section]:
        return [s for s in self.sections if s.level == 2 and s.title.strip() == LOG_TITLE]

    def entries_named(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.name == name]
