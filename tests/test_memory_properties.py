"""Properties of the note reader and the splice editor over generated notes.

Notes are generated from the pieces real daily notes are made of — dated
titles, ``## 14:05 UTC - topic`` sections, headings in other scripts,
frontmatter with comments, fences holding ``#`` lines, repeated Active
sections, entries in several forms — glued with arbitrary text, in LF or CRLF,
with or without a BOM and a final newline. Every edit must change only the
lines it means to: the lines before and after its change are compared byte for
byte with the original.
"""

from __future__ import annotations

import datetime
import pathlib
import tempfile
import typing as t

import pendulum
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import memory_schema as ms
from heartbeat import notes
from heartbeat.config import load_settings
from memory_schema.model import BOM, NoteText, decode_note

PATH = pathlib.Path("/notes/2026-02-01.md")
DAY = datetime.date(2026, 2, 1)
NOW = pendulum.datetime(2026, 2, 1, 14, 5, tz="UTC")

FAST = settings(max_examples=200, deadline=None)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- note pieces

names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,15}", fullmatch=True)
#: Anything a line may hold: every script, symbols, Markdown punctuation.
line_text = st.text(
    alphabet=st.characters(
        blacklist_categories=["Cs", "Cc"], blacklist_characters="\u2028\u2029\x85"
    ),
    max_size=30,
)
realistic_prose = st.sampled_from(
    [
        "Started a codex run for the login bug.",
        "Peter asked about the rate limits; told him to stagger the loops.",
        "Heute: Export fertigstellen. 今日はログインページを直す。",
        "Ничего нового.",
        "- 14:40 auth-fix died → restarted (1/3)",
        "> quoted: `tmux -S ~/.tmux/sock attach -t api`",
        "| a | b |",
        "***",
        "1. first thing",
        "   indented continuation",
        "<!-- a comment -->",
        "EXITED: 0",
        "",
        # Markdown that changes what follows it: the editor must not be fooled.
        "```",
        "~~~",
        "---",
        "===",
        "    indented code",
        "<pre>",
        "</pre>",
        "<!--",
        "-->",
        "- [ ] todo",
        "  - sub item",
        "* star item",
        "|---|---|",
        "Active Long-Running Processes",
        "**Active Long-Running Processes**",
        "\\",
        "\t tab",
        "text with a lone \r inside",
    ]
)
titles = st.sampled_from(
    [
        "2026-02-01 Sunday",
        "14:05 UTC - auth bug",
        "Heartbeat 04:13 UTC",
        "Heartbeat",
        "Заметки дня",
        "日本語の見出し",
        "Notizen für heute ✅",
        "Done",
        "Active Long-Running Processes",
        "active long running processes",
        "ACTIVE LONG-RUNNING PROCESSES (as of 15:00)",
    ]
)


@st.composite
def heading(draw: st.DrawFn) -> list[str]:
    level = draw(st.integers(1, 4))
    title = draw(st.one_of(titles, line_text.map(lambda s: s.strip() or "x")))
    return ["#" * level + " " + title]


@st.composite
def fence(draw: st.DrawFn) -> list[str]:
    mark = draw(st.sampled_from(["```", "~~~", "````"]))
    body = draw(
        st.lists(
            st.one_of(
                st.sampled_from(
                    ["# not a heading", "## Active Long-Running Processes", "- api: x", ""]
                ),
                line_text,
            ),
            max_size=4,
        )
    )
    body = [line for line in body if not line.lstrip().startswith(mark[0] * 3)]
    return [mark + draw(st.sampled_from(["", "bash", "sh"])), *body, mark]


@st.composite
def entry_item(draw: st.DrawFn) -> list[str]:
    name = draw(names)
    form = draw(st.integers(0, 10))
    if form == 0:
        return ms.render_entry(name, f"codex exec --full-auto '{name}'", newline="")
    if form == 1:
        return [f"- {name}: codex exec x"]
    if form == 2:
        return [f"- **{name}** — `ralphy --codex --prd PRD.md`"]
    if form == 3:
        return [f"- `{name}` — done"]
    if form == 4:
        return [f"- ~~`{name}`~~ — killed"]
    if form == 5:
        return [f"- **{name}**", "  - command: `codex exec y`", "  - dir: ~/code/y"]
    if form == 6:
        return [f'- `tmux -S ~/.tmux/sock new -d -s {name} "codex exec z"`']
    if form == 7:
        return ["- Codex sessions:", f"  - `{name}` — `codex exec g`", f"  - {name}-b: ralphy"]
    if form == 8:
        return [f"### {name}", "- **Command:** `codex exec h`", "- **Dir:** `~/h`"]
    if form == 9:
        return [f"- 14:32 — [{name}](https://x.invalid) — fixing it", "  - command: `codex exec i`"]
    return ["- **Note:** remember to check", f"- `{name}` — ~~`codex exec j`~~"]


blocks = st.one_of(
    heading(),
    fence(),
    entry_item(),
    realistic_prose.map(lambda s: [s]),
    line_text.map(lambda s: [s]),
    st.just([""]),
    st.just(["## Active Long-Running Processes", ""]),
    st.just(["### active long-running processes"]),
    st.just(["## Heartbeat", "", "- 04:13 all quiet"]),
)
frontmatter = st.sampled_from(
    [
        [],
        ["---", "# written by the morning routine", "title: x  # kept", "tags: [a, b]", "---"],
        ["---", "date: 2026-02-01", "---"],
        ["---", "---"],
    ]
)


class Note(t.NamedTuple):
    text: str
    newline: str


@st.composite
def notes_text(draw: st.DrawFn) -> Note:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = list(draw(frontmatter))
    for block in draw(st.lists(blocks, max_size=14)):
        lines.extend(block)
    text = newline.join(lines)
    if draw(st.booleans()) and lines:
        text += newline
    if draw(st.booleans()):
        text = BOM + text
    return Note(text, newline)


@st.composite
def active_note(draw: st.DrawFn) -> Note:
    """A generated note that surely holds an Active section with a canonical entry."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = list(draw(frontmatter))
    for block in draw(st.lists(blocks, max_size=6)):
        lines.extend(block)
    level = draw(st.integers(1, 4))
    title = draw(
        st.sampled_from(["Active Long-Running Processes", "active long-running processes"])
    )
    lines.extend(["", "#" * level + " " + title, ""])
    items = draw(st.lists(entry_item(), max_size=3))
    items.insert(
        draw(st.integers(0, len(items))),
        ms.render_entry(draw(names), "codex exec --full-auto 'c'", newline=""),
    )
    for item in items:
        lines.extend(item)
    if draw(st.booleans()):
        lines.append("")
    for block in draw(st.lists(blocks, max_size=6)):
        lines.extend(block)
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline
    if draw(st.booleans()):
        text = BOM + text
    return Note(text, newline)


# --------------------------------------------------------------------------- helpers


def parse(text: str) -> ms.ParsedNote:
    return ms.parse_note(text, PATH)


class Change(t.NamedTuple):
    """Where two texts differ, as line ranges: old[start:old_end] became new[start:new_end]."""

    start: int
    old_end: int
    new_end: int
    old: list[str]
    new: list[str]


def change(before: str, after: str) -> Change:
    """The one contiguous block of lines that differs (common prefix and suffix kept)."""
    assert after.startswith(BOM) == before.startswith(BOM), "the BOM changed"
    old = NoteText.from_text(before).lines
    new = NoteText.from_text(after).lines
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    tail = 0
    while (
        tail < min(len(old), len(new)) - start
        and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]
    ):
        tail += 1
    return Change(start, len(old) - tail, len(new) - tail, old, new)


def assert_insertion(before: str, after: str) -> Change:
    """*after* is *before* with lines inserted (and, at most, a final newline added).

    Inserted lines end as the note's lines do (LF when it has no line break yet).
    """
    newline = NoteText.from_text(before).newline
    diff = change(before, after)
    removed = diff.old[diff.start : diff.old_end]
    if removed:
        # Only the last line may change, by gaining the line ending it lacked.
        assert diff.old_end == len(diff.old), "an existing line was changed"
        assert len(removed) == 1
        assert not removed[0].endswith("\n")
        assert diff.new[diff.start] == removed[0] + newline
    for line in diff.new[diff.start : diff.new_end]:
        assert line.endswith(newline) or line is diff.new[-1], "inserted line in another style"
        if newline == "\n":
            assert not line.endswith("\r\n")
    if diff.old:  # a note with no line yet gets whole lines
        assert before.endswith("\n") == after.endswith("\n"), "the final newline changed"
    return diff


def swallows_the_end(text: str) -> bool:
    """True when the note ends inside a block (``<pre>``, a comment) that hides a heading."""
    probe = text + "\n\n## Probe heading\n"
    return not any(section.title == "Probe heading" for section in parse(probe).sections)


def last_mention(text: str, name: str) -> ms.Entry:
    mentions = parse(text).entries_named(name)
    assert mentions, f"{name} is not read back"
    return mentions[-1]


def fresh_name(parsed: ms.ParsedNote, name: str) -> str:
    taken = {e.name for e in parsed.entries}
    return name if name not in taken else name + "-new"


# --------------------------------------------------------------------------- reader


@FAST
@given(notes_text())
def test_parse_never_fails_and_lines_are_in_range(note: Note) -> None:
    parsed = parse(note.text)
    total = len(parsed.text.lines)
    assert parsed.text.text == note.text
    for entry in parsed.entries:
        assert 1 <= entry.line <= entry.end_line <= total
        assert ms.is_valid_name(entry.name)
        assert entry.active == (entry.status != "done")
    for problem in parsed.problems:
        assert 0 <= problem.line <= total


@FAST
@given(notes_text())
def test_crlf_and_bom_do_not_change_what_is_read(note: Note) -> None:
    plain = note.text.removeprefix(BOM).replace("\r\n", "\n")
    variants = [plain, plain.replace("\n", "\r\n"), BOM + plain]
    results = []
    for text in variants:
        parsed = parse(text)
        results.append(
            (
                [(e.name, e.command, e.dir, e.status, e.line) for e in parsed.entries],
                [(p.line, p.message) for p in parsed.problems],
            )
        )
    assert results[0] == results[1] == results[2]


# --------------------------------------------------------------------------- round trip

commands = st.text(
    alphabet=st.characters(
        blacklist_categories=["Cs", "Cc", "Zl", "Zp"], blacklist_characters="\x85"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and bool(s))
quoted_commands = st.builds(
    lambda task, tick: f"codex exec --full-auto '{task}'{tick}",
    st.text(
        alphabet=st.characters(
            blacklist_categories=["Cs", "Cc", "Zl", "Zp"], blacklist_characters="'\x85"
        ),
        max_size=20,
    ),
    st.sampled_from(["", " `x`", " ``a`b``", ' "q"', " — done", " ✅"]),
)
fields = st.one_of(
    st.none(),
    st.text(
        alphabet=st.characters(
            blacklist_categories=["Cs", "Cc", "Zl", "Zp"], blacklist_characters="·`\x85"
        ),
        min_size=1,
        max_size=20,
    ).filter(lambda s: s.strip() == s),
)
dirs = st.one_of(
    st.none(),
    st.sampled_from(["~/code/app", "/srv/my app", "./rel", "~/プロジェクト", "a`b", "`x"]),
)


@FAST
@given(
    notes_text(),
    names,
    st.one_of(commands, quoted_commands),
    st.sampled_from(ms.STATUS_WORDS),
    fields,
    dirs,
    fields,
)
def test_render_then_parse_round_trips(
    note: Note,
    name: str,
    command: str,
    status: str,
    started: str | None,
    directory: str | None,
    until: str | None,
) -> None:
    parsed = parse(note.text)
    name = fresh_name(parsed, name)
    try:
        after = ms.add_entry(
            parsed, name, command, status, started=started, dir=directory, until=until
        )
    except ms.InvalidEntry:
        assume(False)
        return
    except ms.NoteError as error:
        # Only a note ending inside an unclosed block may refuse the entry.
        assert "unclosed" in str(error)
        return
    assert_insertion(note.text, after)
    entry = last_mention(after, name)
    assert entry.canonical
    assert (entry.command, entry.status, entry.started, entry.dir, entry.until) == (
        command,
        status,
        started,
        directory,
        until,
    )
    assert entry.active == (status != "done")


class Refused(t.NamedTuple):
    id: str
    name: str
    command: str


REFUSED = [
    Refused("dot", "web.app", "codex exec x"),
    Refused("empty", "api", "   "),
    Refused("line-break", "api", "codex exec\nrm -rf /"),
    Refused("unbalanced", "api", "codex exec 'x"),
    Refused("lone-backslash", "api", "codex exec x \\"),
    Refused("tmux-other-name", "api", 'tmux new -d -s web "codex exec x"'),
    Refused("nul", "api", "codex\x00exec"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_render_refuses_what_would_not_read_back(case: Refused) -> None:
    with pytest.raises(ms.InvalidEntry):
        ms.render_entry(case.name, case.command)


# --------------------------------------------------------------------------- edits


@FAST
@given(notes_text(), names)
def test_add_entry_only_inserts(note: Note, name: str) -> None:
    parsed = parse(note.text)
    name = fresh_name(parsed, name)
    try:
        after = ms.add_entry(parsed, name, "codex exec --full-auto 'x'", started="2026-02-01 14:05")
    except ms.NoteError as error:
        assert "unclosed" in str(error)
        return
    diff = assert_insertion(note.text, after)
    # Everything else reads as before: the same entries, at their shifted lines.
    inserted = (diff.new_end - diff.start) - (diff.old_end - diff.start)
    before_entries = [(e.name, e.command, e.status) for e in parsed.entries]
    after_parsed = parse(after)
    after_entries = [(e.name, e.command, e.status) for e in after_parsed.entries if e.name != name]
    assert after_entries == [x for x in before_entries if x[0] != name]
    assert inserted >= 2
    assert after_parsed.metadata == parsed.metadata


@FAST
@given(notes_text(), names, st.sampled_from(ms.STATUS_WORDS), fields)
def test_set_status_changes_one_line(note: Note, name: str, status: str, until: str | None) -> None:
    parsed = parse(note.text)
    name = fresh_name(parsed, name)
    try:
        added = ms.add_entry(parsed, name, "codex exec x")
    except ms.NoteError:
        return
    entry = last_mention(added, name)
    after = ms.set_status(parse(added), name, status, until=until)
    diff = change(added, after)
    if after == added:
        assert status == "running" and until is None
        return
    assert (diff.start, diff.old_end, diff.new_end) == (entry.line - 1, entry.line, entry.line)
    again = last_mention(after, name)
    assert (again.status, again.until, again.command) == (status, until, "codex exec x")


@FAST
@given(active_note())
def test_set_status_on_existing_canonical_entries(note: Note) -> None:
    parsed = parse(note.text)
    canonical = [e for e in parsed.entries if e.canonical]
    assume(canonical)  # an unclosed <pre> or comment above may hide the section
    target = canonical[-1]
    last = parsed.entries_named(target.name)[-1]
    if not last.canonical:
        return
    after = ms.set_status(parsed, target.name, "paused")
    diff = change(note.text, after)
    if after != note.text:
        assert (diff.start, diff.old_end, diff.new_end) == (last.line - 1, last.line, last.line)
    assert last_mention(after, target.name).status == "paused"


@FAST
@given(active_note())
def test_remove_entry_deletes_exactly_its_lines(note: Note) -> None:
    parsed = parse(note.text)
    assume(parsed.entries)  # an unclosed <pre> or comment above may hide the section
    name = parsed.entries[0].name
    ranges = {(e.line - 1, e.end_line) for e in parsed.entries_named(name)}
    after = ms.remove_entry(parsed, name)
    old = NoteText.from_text(note.text).lines
    drop = {index for start, end in ranges for index in range(start, end)}
    kept = [line for index, line in enumerate(old) if index not in drop]
    assert NoteText.from_text(after).lines == kept
    assert after.startswith(BOM) == note.text.startswith(BOM)


@FAST
@given(
    notes_text(), st.lists(line_text.filter(lambda s: "\n" not in s and "\r" not in s), max_size=3)
)
def test_append_log_only_inserts_under_heartbeat(note: Note, events: list[str]) -> None:
    parsed = parse(note.text)
    after = ms.append_log(parsed, [f"14:40 {e}" for e in events])
    if not events:
        assert after == note.text
        return
    diff = assert_insertion(note.text, after)
    inserted = [line.rstrip("\r\n") for line in diff.new[diff.start : diff.new_end]]
    for event in events:
        assert f"- 14:40 {event}" in inserted
    reparsed = parse(after)
    assert reparsed.log_sections or swallows_the_end(note.text)
    shift = diff.new_end - diff.old_end
    assert [(e.name, e.command, e.line) for e in reparsed.entries] == [
        (e.name, e.command, e.line + shift if e.line - 1 >= diff.old_end else e.line)
        for e in parsed.entries
    ]


# ----------------------------------------------------------------------- the CLI's edits on disk


def _settings(folder: pathlib.Path) -> t.Any:
    return load_settings({"notes_dir": folder, "state_dir": folder / "state"})


@SLOW
@given(notes_text(), names)
def test_notes_commands_change_only_their_lines(note: Note, name: str) -> None:
    """`heartbeat notes add/pause/resume/done/remove` on a generated note, through edit_note."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp) / "memory"
        folder.mkdir()
        path = folder / f"{DAY.isoformat()}.md"
        path.write_bytes(note.text.encode("utf-8"))
        try:
            decode_note(note.text.encode("utf-8"), path)
        except ms.NoteReadError:
            return  # a note refused as text (lone CRs, ...) is never edited: tested elsewhere
        parsed = parse(note.text)
        name = fresh_name(parsed, name)
        cfg = _settings(folder)
        try:
            notes.add(cfg, DAY, NOW, name, "codex exec --full-auto 'x'", "~/code/x")
        except Exception as error:  # only an unclosed block at the end may refuse
            assert "unclosed" in str(error)
            return
        added = path.read_bytes().decode("utf-8")
        assert_insertion(note.text, added)

        steps: list[tuple[str, t.Callable[[], object]]] = [
            ("paused", lambda: notes.change(cfg, DAY, name, "paused", until="2026-02-01 16:05")),
            ("running", lambda: notes.resume(cfg, DAY, NOW, name)),
            ("done", lambda: notes.change(cfg, DAY, name, "done")),
        ]
        current = added
        for status, step in steps:
            step()
            after = path.read_bytes().decode("utf-8")
            entry = last_mention(current, name)
            diff = change(current, after)
            assert (diff.start, diff.old_end, diff.new_end) == (
                entry.line - 1,
                entry.line,
                entry.line,
            )
            assert last_mention(after, name).status == status
            current = after

        entry = last_mention(current, name)
        notes.remove(cfg, DAY, name)
        after = path.read_bytes().decode("utf-8")
        diff = change(current, after)
        assert (diff.start, diff.old_end, diff.new_end) == (
            entry.line - 1,
            entry.end_line,
            entry.line - 1,
        )
        assert not parse(after).entries_named(name)


@SLOW
@given(notes_text())
def test_quiet_edit_leaves_the_file_alone(note: Note) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "2026-02-01.md"
        data = note.text.encode("utf-8")
        path.write_bytes(data)
        before = path.stat()
        try:
            decode_note(data, path)
        except ms.NoteReadError:
            with pytest.raises(ms.NoteReadError):  # not text: refused, never rewritten
                ms.edit_note(path, lambda parsed: parsed.text.text + "x")
        else:
            assert ms.edit_note(path, lambda parsed: parsed.text.text) is False
        assert path.read_bytes() == data
        after = path.stat()
        assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
        assert ms.append_log(parse(note.text), []) == note.text
