"""Edits of a note: text splices, atomic writes, the lock and concurrent writers."""

from __future__ import annotations

import os
import pathlib
import stat
import subprocess
import sys
import typing as t

import pytest

import memory_schema as ms
from memory_schema.files import folder_lock

PATH = pathlib.Path("/notes/2026-02-01.md")
ENTRY = [
    "- `new` — running · started 2026-02-01 14:05\n",
    "  - command: `codex exec --full-auto 'x'`\n",
]


def parse(text: str) -> ms.ParsedNote:
    return ms.parse_note(text, PATH)


def add(text: str) -> str:
    return ms.add_entry(
        parse(text), "new", "codex exec --full-auto 'x'", started="2026-02-01 14:05"
    )


# --------------------------------------------------------------------------- add_entry


class Add(t.NamedTuple):
    id: str
    before: str
    after: str


ADDS = [
    Add(
        "after-last-item",
        "# d\n\n## Active Long-Running Processes\n\n- api: codex exec x\n\n## Later\n\ntext\n",
        "# d\n\n## Active Long-Running Processes\n\n- api: codex exec x\n"
        + "".join(ENTRY)
        + "\n## Later\n\ntext\n",
    ),
    Add(
        "empty-section",
        "## Active Long-Running Processes\n\n## Later\n",
        "## Active Long-Running Processes\n\n" + "".join(ENTRY) + "\n## Later\n",
    ),
    Add(
        "no-section",
        "# 2026-02-01\n\nprose\n",
        "# 2026-02-01\n\nprose\n\n## Active Long-Running Processes\n\n" + "".join(ENTRY),
    ),
    Add(
        "no-final-newline",
        "# d\n\n## Active Long-Running Processes\n\n- api: codex exec x",
        "# d\n\n## Active Long-Running Processes\n\n- api: codex exec x\n"
        + "".join(ENTRY).rstrip("\n"),
    ),
    Add(
        "after-prose",
        "## Active Long-Running Processes\n\nTwo sessions today.\n",
        "## Active Long-Running Processes\n\nTwo sessions today.\n\n" + "".join(ENTRY),
    ),
    Add(
        "after-table",
        "## Active Long-Running Processes\n\n| Session | Command |\n|---|---|\n| a | `b` |\n",
        "## Active Long-Running Processes\n\n| Session | Command |\n|---|---|\n| a | `b` |\n\n"
        + "".join(ENTRY),
    ),
    Add(
        "last-of-repeated",
        "## Active Long-Running Processes\n\n- a: x\n\n## 15:00\n\n"
        "### Active Long-Running Processes\n\n- b: y\n\n## Heartbeat\n",
        "## Active Long-Running Processes\n\n- a: x\n\n## 15:00\n\n"
        "### Active Long-Running Processes\n\n- b: y\n" + "".join(ENTRY) + "\n## Heartbeat\n",
    ),
    Add(
        "before-a-setext-heading",
        "## Active Long-Running Processes\n\n- a: x\nNext\n----\n",
        "## Active Long-Running Processes\n\n- a: x\nNext\n----\n\n" + "".join(ENTRY),
    ),
]


@pytest.mark.parametrize("case", ADDS, ids=[a.id for a in ADDS])
def test_add_entry_splices(case: Add) -> None:
    assert add(case.before) == case.after
    assert parse(case.after).entries_named("new")[-1].canonical


def test_add_entry_below_a_sub_heading_entry_keeps_it() -> None:
    before = "## Active Long-Running Processes\n\n### api\n- **Command:** `codex exec h`\n"
    after = add(before)
    assert after == before + "".join(ENTRY)
    entries = parse(after).entries
    assert [(e.name, e.command, e.line, e.end_line) for e in entries] == [
        ("api", "codex exec h", 3, 4),
        ("new", "codex exec --full-auto 'x'", 5, 6),
    ]


def test_add_entry_keeps_crlf_bom_and_frontmatter() -> None:
    before = (
        "\ufeff---\r\n# comment\r\nkey: value  # note\r\n---\r\n# 2026-02-01\r\n\r\n"
        "## Active Long-Running Processes\r\n\r\n- api: codex exec x\r\n\r\n## Later\r\n"
    )
    after = add(before)
    assert after.startswith("\ufeff---\r\n# comment\r\nkey: value  # note\r\n---\r\n")
    assert "\n" not in after.replace("\r\n", "")
    assert after == before.replace(
        "- api: codex exec x\r\n", "- api: codex exec x\r\n" + "".join(ENTRY).replace("\n", "\r\n")
    )


def test_add_entry_refuses_a_note_that_ends_inside_an_unclosed_fence() -> None:
    with pytest.raises(ms.NoteError, match="unclosed"):
        add("# d\n\n```\nunclosed fence to the end\n")


def test_add_entry_refuses_what_cannot_be_written() -> None:
    with pytest.raises(ms.InvalidEntry, match="letters, digits"):
        ms.add_entry(parse(""), "a.b", "codex")
    with pytest.raises(ms.InvalidEntry, match="unknown status"):
        ms.add_entry(parse(""), "a", "codex", "sleeping")
    with pytest.raises(ms.InvalidEntry, match="line break"):
        ms.add_entry(parse(""), "a", "codex\nrm -rf ~")
    with pytest.raises(ms.InvalidEntry, match="·"):
        ms.add_entry(parse(""), "a", "codex", dir="~/a · b")


def test_render_uses_a_longer_backtick_run_for_commands_with_backticks() -> None:
    lines = ms.render_entry("api", "echo `date` ``x``", dir="~/with `tick`")
    assert lines == [
        "- `api` — running · dir `` ~/with `tick` ``\n",
        "  - command: ``` echo `date` ``x`` ```\n",
    ]
    entry = parse("## Active Long-Running Processes\n\n" + "".join(lines)).entries[0]
    assert (entry.command, entry.dir) == ("echo `date` ``x``", "~/with `tick`")


# --------------------------------------------------------------------------- status, remove, log

NOTE = (
    "# d\n\n## Active Long-Running Processes\n\n"
    "- `api` — running · started 2026-02-01 09:00\n"
    "  - command: `codex exec x`\n"
    "- web: ralphy --codex\n"
    "- **db**\n  - command: `codex exec db`\n  - dir: ~/db\n\n"
    "## Later\n\n- ~~`api`~~ mention stays\n"
)


def test_set_status_rewrites_only_the_status_word() -> None:
    after = ms.set_status(parse(NOTE), "api", "paused", until="2026-02-01 16:00")
    assert after == NOTE.replace(
        "- `api` — running · started 2026-02-01 09:00\n",
        "- `api` — paused · started 2026-02-01 09:00 · until 2026-02-01 16:00\n",
    )
    back = ms.set_status(parse(after), "api", "running")
    assert back == NOTE
    assert ms.set_status(parse(NOTE), "api", "running") == NOTE


def test_set_status_never_rewords_a_hand_written_entry() -> None:
    with pytest.raises(ms.NotCanonical, match="left as written"):
        ms.set_status(parse(NOTE), "web", "done")
    with pytest.raises(ms.EntryNotFound, match="check the name"):
        ms.set_status(parse(NOTE), "nobody", "done")


def test_remove_entry_takes_the_whole_item() -> None:
    after = ms.remove_entry(parse(NOTE), "db")
    assert after == NOTE.replace("- **db**\n  - command: `codex exec db`\n  - dir: ~/db\n", "")
    with pytest.raises(ms.EntryNotFound):
        ms.remove_entry(parse(NOTE), "nobody")


def test_mark_removed_adds_a_struck_mention() -> None:
    after = ms.mark_removed(parse(NOTE), "web")
    assert after == NOTE.replace(
        "  - dir: ~/db\n\n## Later", "  - dir: ~/db\n- ~~`web`~~ — removed\n\n## Later"
    )
    web = parse(after).entries_named("web")[-1]
    assert (web.active, web.status_only) == (False, True)


def test_append_log_creates_then_extends_the_heartbeat_section() -> None:
    first = ms.append_log(parse("# d\n\nprose"), ["14:40 api died → restarted (1/3)"])
    assert first == "# d\n\nprose\n\n## Heartbeat\n\n- 14:40 api died → restarted (1/3)"
    second = ms.append_log(parse(first + "\n\n## 15:00 UTC - later\n"), ["14:45 api healthy"])
    assert second == (
        "# d\n\nprose\n\n## Heartbeat\n\n- 14:40 api died → restarted (1/3)\n"
        "- 14:45 api healthy\n\n## 15:00 UTC - later\n"
    )
    assert ms.append_log(parse(first), []) == first
    with pytest.raises(ms.NoteError, match="line break"):
        ms.append_log(parse(first), ["two\nlines"])


def test_heartbeat_with_a_time_is_not_the_log_section() -> None:
    text = "## Heartbeat 04:13 UTC\n\n- all quiet\n"
    after = ms.append_log(parse(text), ["14:40 x"])
    assert after == text + "\n## Heartbeat\n\n- 14:40 x\n"


# --------------------------------------------------------------------------- files


@pytest.fixture
def folder(tmp_path: pathlib.Path) -> pathlib.Path:
    """An empty folder of its own (tmp_path also holds the fixture's notes folder)."""
    path = tmp_path / "own"
    path.mkdir()
    return path


def note(folder: pathlib.Path, text: str = NOTE, mode: int | None = None) -> pathlib.Path:
    path = folder / "2026-02-01.md"
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)
    return path


def add_new(parsed: ms.ParsedNote) -> str:
    return ms.add_entry(parsed, "new", "codex exec --full-auto 'x'")


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o400], ids=oct)
def test_atomic_write_keeps_the_mode(folder: pathlib.Path, mode: int) -> None:
    path = note(folder, mode=mode)
    before = path.stat().st_ino
    assert ms.edit_note(path, add_new) is True
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.stat().st_ino != before  # replaced by rename, not rewritten in place
    assert "`new`" in path.read_text()
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left


def test_atomic_write_of_a_new_file_follows_the_umask(folder: pathlib.Path) -> None:
    old = os.umask(0o077)
    try:
        ms.atomic_write(folder / "fresh.md", b"# fresh\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((folder / "fresh.md").stat().st_mode) == 0o600


def test_atomic_write_failure_leaves_the_old_file(folder: pathlib.Path) -> None:
    path = note(folder)
    data = path.read_bytes()
    with pytest.raises(TypeError):
        ms.atomic_write(path, t.cast("bytes", "not bytes"))
    assert path.read_bytes() == data
    assert [p.name for p in folder.iterdir()] == [path.name]


def test_quiet_edit_changes_neither_bytes_nor_mtime(folder: pathlib.Path) -> None:
    path = note(folder, mode=0o640)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    assert ms.edit_note(path, lambda parsed: parsed.text.text) is False
    assert ms.edit_note(path, lambda parsed: ms.set_status(parsed, "api", "running")) is False
    after = path.stat()
    assert path.read_text() == NOTE
    assert (after.st_mtime_ns, after.st_ino, after.st_mode) == (
        before.st_mtime_ns,
        before.st_ino,
        before.st_mode,
    )


def test_edit_creates_a_missing_note_from_the_template(folder: pathlib.Path) -> None:
    path = folder / "2026-02-01.md"
    with pytest.raises(FileNotFoundError):
        ms.edit_note(path, add_new)
    assert ms.edit_note(path, add_new, create=ms.new_note_text("2026-02-01")) is True
    assert path.read_text() == (
        "# 2026-02-01\n\n## Active Long-Running Processes\n\n"
        "- `new` — running\n  - command: `codex exec --full-auto 'x'`\n"
    )


def test_edit_of_a_note_created_meanwhile_edits_it(folder: pathlib.Path) -> None:
    path = folder / "2026-02-01.md"
    calls: list[str] = []

    def transform(parsed: ms.ParsedNote) -> str:
        if not calls:  # the assistant creates the note while we build ours
            path.write_text("# 2026-02-01\n\nWritten by the assistant.\n")
        calls.append(parsed.text.text)
        return add_new(parsed)

    assert ms.edit_note(path, transform, create=ms.new_note_text("2026-02-01")) is True
    text = path.read_text()
    assert "Written by the assistant." in text
    assert "`new`" in text
    assert len(calls) == 2


def test_edit_re_applies_when_the_note_changed_between_read_and_write(
    folder: pathlib.Path,
) -> None:
    path = note(folder)
    seen: list[str] = []

    def transform(parsed: ms.ParsedNote) -> str:
        if not seen:
            with path.open("a", encoding="utf-8") as handle:
                handle.write("- 14:41 appended by the assistant\n")
        seen.append(parsed.text.text)
        return add_new(parsed)

    assert ms.edit_note(path, transform) is True
    text = path.read_text()
    assert len(seen) == 2
    assert seen[1].endswith("- 14:41 appended by the assistant\n")
    assert text.endswith("- 14:41 appended by the assistant\n")
    assert text.count("`new`") == 1


def test_edit_re_reads_after_a_rewrite_of_the_same_size(folder: pathlib.Path) -> None:
    path = note(folder)
    seen: list[str] = []

    def transform(parsed: ms.ParsedNote) -> str:
        if not seen:
            path.write_text(NOTE.replace("ralphy --codex", "ralphy --claud"))
            os.utime(path, ns=(2_000_000_000, 2_000_000_000))
        seen.append(parsed.text.text)
        return add_new(parsed)

    ms.edit_note(path, transform)
    assert "ralphy --claud" in path.read_text()
    assert len(seen) == 2


def test_edit_gives_up_when_the_note_keeps_being_rewritten(folder: pathlib.Path) -> None:
    path = note(folder)
    count = [0]

    def transform(parsed: ms.ParsedNote) -> str:
        count[0] += 1
        path.write_text(NOTE + f"rewritten {count[0]} " + "x" * count[0] + "\n" * (count[0] % 2))
        return add_new(parsed)

    with pytest.raises(ms.ConcurrentEditError, match="nothing was written"):
        ms.edit_note(path, transform, tries=4)
    assert count[0] == 4
    assert "`new`" not in path.read_text()


def test_edit_keeps_appends_made_while_it_writes(folder: pathlib.Path) -> None:
    """A writer that keeps appending never starves the edit, and loses nothing."""
    path = note(folder)
    appended: list[str] = []

    def transform(parsed: ms.ParsedNote) -> str:
        line = f"- appended {len(appended)}\n"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line)
        appended.append(line)
        return add_new(parsed)

    assert ms.edit_note(path, transform, tries=3) is True
    text = path.read_text()
    assert text.count("`new`") == 1
    for line in appended:
        assert text.count(line) == 1


def test_edit_never_rewrites_a_note_that_is_not_text(folder: pathlib.Path) -> None:
    path = folder / "2026-02-01.md"
    data = b"# d\n\n## Active Long-Running Processes\n\n- caf\xe9: codex\n"
    path.write_bytes(data)
    with pytest.raises(ms.NoteReadError, match="UTF-8"):
        ms.edit_note(path, add_new)
    assert path.read_bytes() == data


def test_edit_through_a_symlink_inside_the_folder_keeps_the_link(folder: pathlib.Path) -> None:
    real = note(folder, mode=0o600)
    link = folder / "2026-02-02.md"
    link.symlink_to(real.name)
    assert ms.edit_note(link, add_new) is True
    assert link.is_symlink()
    assert "`new`" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_edit_refuses_symlinks_out_and_dangling(folder: pathlib.Path) -> None:
    notes = folder / "notes"
    notes.mkdir()
    outside = note(folder)
    data = outside.read_bytes()
    (notes / "2026-02-01.md").symlink_to(outside)
    with pytest.raises(ms.NoteReadError, match="symlink out"):
        ms.edit_note(notes / "2026-02-01.md", add_new)
    assert outside.read_bytes() == data
    (notes / "2026-02-02.md").symlink_to(notes / "missing.md")
    with pytest.raises(ms.NoteReadError, match="does not exist"):
        ms.edit_note(notes / "2026-02-02.md", add_new, create="# x\n")
    assert not (notes / "missing.md").exists()


def test_edit_refuses_a_fifo_without_blocking(folder: pathlib.Path) -> None:
    path = folder / "2026-02-01.md"
    os.mkfifo(path)
    with pytest.raises(ms.NoteReadError, match="regular file"):
        ms.edit_note(path, add_new)


LOCK_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
if len(sys.argv) > 3:
    open(sys.argv[3], "w").close()  # the last thing done under the lock
"""


def test_edits_wait_for_the_folder_lock(folder: pathlib.Path, tmp_path: pathlib.Path) -> None:
    """The edit runs after the holder's last act under the lock, however busy the machine."""
    path = note(folder)
    released = tmp_path / "released"
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(folder), "0.5", str(released)],
        stdout=subprocess.PIPE,
        text=True,
    )
    seen: list[bool] = []

    def add_after_the_holder(parsed: ms.ParsedNote) -> str:
        seen.append(released.exists())
        return add_new(parsed)

    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        assert ms.edit_note(path, add_after_the_holder) is True
    finally:
        holder.wait(timeout=10)
    assert seen and all(seen), "the edit ran while another writer held the folder lock"
    assert "`new`" in path.read_text()


def test_the_folder_lock_times_out_with_a_clear_error(folder: pathlib.Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(folder), "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ms.NoteError, match="try again"), folder_lock(folder, timeout=0.2):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert [p.name for p in folder.iterdir()] == []  # no lock file in the user's folder
