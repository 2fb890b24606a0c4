"""One parse per note: resuming a parse, and several edits from one parse.

A long note must not be parsed once per edit (issue 15). ``reparse`` resumes
at the last heading above a change and must read exactly what a full parse
reads; ``NoteEdits`` makes the carry-ins, status changes and log lines of a
check against one parse and must write exactly what the single edits, made
one after the other, write.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import memory_schema as ms
from memory_schema.model import NoteText
from memory_schema.parse import reparse
from tests.test_memory_properties import FAST, Note, active_note, blocks, names, notes_text

PATH = pathlib.Path("/notes/2026-02-01.md")


def parse(text: str) -> ms.ParsedNote:
    return ms.parse_note(text, PATH)


def same_reading(got: ms.ParsedNote, want: ms.ParsedNote) -> None:
    assert got.text.text == want.text.text
    assert got.sections == want.sections
    assert got.entries == want.entries
    assert got.problems == want.problems
    assert got.anchors == want.anchors
    assert got.body_start == want.body_start
    assert got.metadata == want.metadata


@FAST
@given(notes_text(), st.lists(blocks, max_size=6), st.data())
def test_reparse_reads_what_a_full_parse_reads(
    note: Note, inserted: list[list[str]], data: st.DataObject
) -> None:
    """Lines inserted or replaced anywhere: the resumed parse equals the full one."""
    before = parse(note.text)
    lines = NoteText.from_text(note.text).lines
    at = data.draw(st.integers(0, len(lines)))
    remove = data.draw(st.integers(0, min(2, len(lines) - at)))
    new_lines = [line + note.newline for block in inserted for line in block]
    changed = NoteText(lines=lines[:at] + new_lines + lines[at + remove :], bom=before.text.bom)
    text = changed.text
    assume(text != note.text)
    same_reading(reparse(before, text, at), parse(text))
    same_reading(reparse(before, text), parse(text))  # lines compared: a window is parsed


@FAST
@given(active_note(), st.lists(blocks, min_size=1, max_size=3), st.data())
def test_reparse_of_a_change_between_headings(
    note: Note, inserted: list[list[str]], data: st.DataObject
) -> None:
    """A change in the middle, with headings below it: what is below is moved, not re-read."""
    before = parse(note.text)
    lines = NoteText.from_text(note.text).lines
    assume(len(before.anchors) >= 2)
    at = data.draw(st.integers(before.anchors[0] + 1, before.anchors[-1]))
    new_lines = [line + note.newline for block in inserted for line in block]
    text = NoteText(lines=lines[:at] + new_lines + lines[at:], bom=before.text.bom).text
    same_reading(reparse(before, text), parse(text))


@pytest.mark.parametrize("closing", ["---", "..."])
def test_a_line_below_that_closes_the_opening_dashes_is_read_whole(closing: str) -> None:
    """A note that opens with ``---`` (no frontmatter yet): a closing line added below
    turns its top into a frontmatter block, so no heading's parse can be kept.
    (Found by the property above.)"""
    text = (
        "---\n\n# Active Long-Running Processes\n\n- `0` — running\n"
        "  - command: `codex exec 'c'`\n# 2026-02-01 Sunday\n"
    )
    before = parse(text)
    assert before.body_start == 0 and before.anchors == [2, 6]
    lines = NoteText.from_text(text).lines
    changed = NoteText(lines=[*lines[:6], f"{closing}\n", *lines[6:]]).text
    assert parse(changed).problems  # the block is read again, and is not valid YAML
    same_reading(reparse(before, changed), parse(changed))
    same_reading(reparse(before, changed, 6), parse(changed))


def test_reparse_resumes_at_the_last_heading_above_the_change() -> None:
    """What was read above that heading is taken over, not read again."""
    head = "# Day\n\n## Active Long-Running Processes\n\n- api: codex exec x\n\n"
    text = head + "## 10:00 UTC - later\n\nprose\n"
    before = parse(text)
    assert before.anchors == [0, 2, 6]
    after = text + "\n## Active Long-Running Processes\n\n- web: codex exec y\n"
    marked = ms.ParsedNote(
        before.path,
        before.text,
        before.sections,
        [ms.Entry("taken-over", "codex exec x", PATH, 5, 5)],
        before.problems,
        before.body_start,
        before.anchors,
    )
    resumed = reparse(marked, after, len(before.text.lines))
    assert [e.name for e in resumed.entries] == ["taken-over", "web"]


class Edit(t.NamedTuple):
    carry: list[str]
    statuses: list[str]
    events: list[str]


edits = st.builds(
    Edit,
    st.lists(names, max_size=3, unique=True),
    st.lists(st.sampled_from(ms.STATUS_WORDS), max_size=3),
    st.lists(st.sampled_from(["14:40 api died → restarted (1/3)", "14:45 web done"]), max_size=2),
)


def one_by_one(parsed: ms.ParsedNote, edit: Edit, status_of: dict[str, str]) -> str:
    """The single-edit helpers, each on a fresh parse of the text so far (the old way)."""
    text = parsed.text.text
    for name in edit.carry:
        text = ms.add_entry(parse(text), name, f"codex exec --full-auto '{name}'")
    for name, status in status_of.items():
        text = ms.set_status(parse(text), name, status)
    if edit.events:
        text = ms.append_log(parse(text), edit.events)
    return text


@FAST
@given(st.one_of(active_note(), notes_text()), edits)
def test_note_edits_write_what_the_single_edits_write(note: Note, edit: Edit) -> None:
    parsed = parse(note.text)
    canonical = [e.name for e in parsed.entries if e.canonical]
    # Status changes of the note's own canonical entries (the last mention of each).
    last = {e.name: e for e in parsed.entries}
    targets = [n for n in dict.fromkeys(canonical) if last[n].canonical]
    status_of = dict(zip(targets, edit.statuses, strict=False))
    carry = [n for n in edit.carry if n not in last]
    edit = edit._replace(carry=carry)
    batch = ms.NoteEdits()
    for name in carry:
        batch.add(name, f"codex exec --full-auto '{name}'")
    for name, status in status_of.items():
        batch.status(name, status)
    batch.log(edit.events)
    try:
        expected = one_by_one(parsed, edit, status_of)
    except ms.NoteError:
        with pytest.raises(ms.NoteError):
            batch.apply(parsed)
        return
    result = batch.apply_parsed(parsed)
    assert result.text.text == expected
    same_reading(result, parse(expected))


def test_note_edits_raise_for_what_set_status_refuses() -> None:
    parsed = parse("## Active Long-Running Processes\n\n- api: codex exec x\n")
    edits = ms.NoteEdits()
    edits.status("api", "done")
    with pytest.raises(ms.NotCanonical):
        edits.apply(parsed)
    edits = ms.NoteEdits()
    edits.status("nope", "done")
    with pytest.raises(ms.EntryNotFound):
        edits.apply(parsed)
    with pytest.raises(ms.InvalidEntry):
        ms.NoteEdits().add("a.b", "codex exec x")
    with pytest.raises(ms.NoteError, match="line break"):
        ms.NoteEdits().log(["two\nlines"])


def test_no_edits_change_nothing() -> None:
    parsed = parse("# Day\n")
    assert not ms.NoteEdits()
    assert ms.NoteEdits().apply_parsed(parsed) is parsed


def test_a_change_in_the_middle_of_a_long_note_is_parsed_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the lines between the headings around a change go to markdown-it.

    A spy wraps the real ``parse_blocks`` (and calls it) only to count the
    lines it is given: how much is parsed is the point of reparse.
    """
    import memory_schema.parse as module

    parts = [f"## {h:02d}:00 UTC - topic\n\nprose {h}\n\n" for h in range(40)]
    active = (
        "## Active Long-Running Processes\n\n- `api` — running\n  - command: `codex exec x`\n\n"
    )
    text = "".join(parts[:20]) + active + "".join(parts[20:])
    before = parse(text)
    given_lines: list[int] = []
    from memory_schema.markdown import parse_blocks as real

    def spy(source: str) -> list[t.Any]:
        given_lines.append(source.count("\n") + 1)
        return real(source)

    monkeypatch.setattr(module, "parse_blocks", spy)
    edits = ms.NoteEdits()
    edits.status("api", "restarted")
    after = edits.apply_parsed(before)
    assert after.entries_named("api")[-1].status == "restarted"
    assert given_lines == [6]  # the Active section and the heading below it, of 166 lines
    same_reading(after, parse(after.text.text))
