"""The parse cache: an unchanged note is not parsed again, and nothing read changes.

``collect(..., cache_dir=)`` and ``edit_note(..., cache_dir=)`` share one cache
file. These tests check that a cached read gives exactly what a fresh read
gives, that an unchanged note does not even import markdown-it (in a fresh
process), and that a changed, rewritten or corrupt-cached note is read anew.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess
import sys
import time
import tomllib

import pytest

import memory_schema as ms
from memory_schema.cache import CACHE_NAME

DAY = datetime.date(2026, 2, 1)
NOTE = (
    "# 2026-02-01\n\n## 09:00 UTC - morning\n\nprose\n\n"
    "## Active Long-Running Processes\n\n"
    "- `api` — running · started 2026-02-01 09:00\n  - command: `codex exec --full-auto 'x'`\n"
    "- web: codex exec y — 3/7 done\n- `a.b` — `codex exec bad`\n\n"
    "## Heartbeat\n\n- 09:05 all quiet\n"
)


def write(folder: pathlib.Path, day: datetime.date, text: str, *, age: float = 60) -> pathlib.Path:
    """A note written *age* seconds ago (an old note's stat alone is trusted)."""
    path = ms.note_path(folder, day)
    path.write_text(text, encoding="utf-8")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def reading(collection: ms.Collection) -> tuple[object, ...]:
    return (
        [str(p) for p in collection.notes],
        [e.to_json() for e in collection.entries],
        [e.to_json() for e in collection.all_entries],
        [p.to_json() for p in collection.problems],
    )


def fresh(folder: pathlib.Path) -> tuple[object, ...]:
    return reading(ms.collect(folder, DAY))


def collect_in_a_new_process(folder: pathlib.Path, cache: pathlib.Path) -> dict[str, object]:
    code = (
        "import datetime, json, pathlib, sys\n"
        "import memory_schema as ms\n"
        f"c = ms.collect(pathlib.Path({str(folder)!r}), datetime.date(2026, 2, 1), "
        f"cache_dir=pathlib.Path({str(cache)!r}))\n"
        "print(json.dumps({'markdown_it': 'markdown_it' in sys.modules,\n"
        "  'entries': [e.to_json() for e in c.entries],\n"
        "  'problems': [p.to_json() for p in c.problems]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def folder(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "notes"
    path.mkdir()
    return path


@pytest.fixture
def cache(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "state"


def test_a_cached_read_is_the_fresh_read(folder: pathlib.Path, cache: pathlib.Path) -> None:
    write(folder, DAY - datetime.timedelta(days=1), NOTE.replace("api", "old"))
    write(folder, DAY, NOTE)
    first = ms.collect(folder, DAY, cache_dir=cache)
    assert (cache / CACHE_NAME).is_file()
    second = ms.collect(folder, DAY, cache_dir=cache)
    assert reading(first) == reading(second) == fresh(folder)
    assert len(first.parsed) == 2
    assert second.parsed == []  # both notes known unchanged: not even read


def test_an_unchanged_note_does_not_import_markdown_it(
    folder: pathlib.Path, cache: pathlib.Path
) -> None:
    write(folder, DAY, NOTE)
    cold = collect_in_a_new_process(folder, cache)
    warm = collect_in_a_new_process(folder, cache)
    assert cold["markdown_it"] is True
    assert warm["markdown_it"] is False
    expected = ms.collect(folder, DAY)
    assert warm["entries"] == cold["entries"] == [e.to_json() for e in expected.entries]
    assert warm["problems"] == cold["problems"] == [p.to_json() for p in expected.problems]


def test_a_note_changed_just_now_is_checked_by_its_bytes(
    folder: pathlib.Path, cache: pathlib.Path
) -> None:
    """A note modified within the last seconds: its stat is not trusted, its hash is."""
    write(folder, DAY, NOTE, age=0)
    ms.collect(folder, DAY, cache_dir=cache)
    again = collect_in_a_new_process(folder, cache)
    assert again["markdown_it"] is False  # same bytes: the parse was reused
    assert again["entries"] == [e.to_json() for e in ms.collect(folder, DAY).entries]


def test_appended_and_rewritten_notes_are_read_anew(
    folder: pathlib.Path, cache: pathlib.Path
) -> None:
    path = write(folder, DAY, NOTE)
    ms.collect(folder, DAY, cache_dir=cache)
    # The assistant appends a section (the parse resumes at the last heading).
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n## Active Long-Running Processes\n\n- api — done\n- new: codex exec n\n")
    appended = ms.collect(folder, DAY, cache_dir=cache)
    assert reading(appended) == fresh(folder)
    assert [(e.name, e.active) for e in appended.entries] == [
        ("web", True),
        ("api", False),
        ("new", True),
    ]
    # A rewrite of the same size with the old mtime put back: the ctime still tells.
    info = path.stat()
    text = path.read_text(encoding="utf-8").replace("running ·", "stalled ·")
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size
    rewritten = ms.collect(folder, DAY, cache_dir=cache)
    assert reading(rewritten) == fresh(folder)
    assert "stalled" in [e.status for e in rewritten.all_entries]


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff not json",
        b"[1, 2, 3]",
        b'{"version": "other", "notes": {}}',
        b"",
    ],
)
def test_a_corrupt_cache_is_ignored_and_replaced(
    folder: pathlib.Path, cache: pathlib.Path, content: bytes
) -> None:
    write(folder, DAY, NOTE)
    cache.mkdir()
    (cache / CACHE_NAME).write_bytes(content)
    assert reading(ms.collect(folder, DAY, cache_dir=cache)) == fresh(folder)
    data = json.loads((cache / CACHE_NAME).read_bytes())
    assert str(ms.note_path(folder, DAY)) in data["notes"]


def test_a_cache_entry_of_the_wrong_shape_is_ignored(
    folder: pathlib.Path, cache: pathlib.Path
) -> None:
    path = write(folder, DAY, NOTE)
    ms.collect(folder, DAY, cache_dir=cache)
    data = json.loads((cache / CACHE_NAME).read_bytes())
    data["notes"][str(path)]["entries"] = [{"name": "forged"}]
    (cache / CACHE_NAME).write_text(json.dumps(data))
    assert reading(ms.collect(folder, DAY, cache_dir=cache)) == fresh(folder)


def test_an_unwritable_cache_folder_is_no_error(
    folder: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    write(folder, DAY, NOTE)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert reading(ms.collect(folder, DAY, cache_dir=blocker / "state")) == fresh(folder)


def test_a_write_through_note_edits_is_known_to_the_next_read(
    folder: pathlib.Path, cache: pathlib.Path
) -> None:
    """edit_note remembers what it wrote: the next check's read parses nothing."""
    path = write(folder, DAY, NOTE)
    ms.collect(folder, DAY, cache_dir=cache)
    edits = ms.NoteEdits()
    edits.add("carried", "codex exec --full-auto 'carry me'", started="2026-01-31 22:00")
    edits.status("api", "restarted")
    edits.log(["14:40 api died → restarted (1/3)"])
    assert ms.edit_note(path, edits.apply_parsed, cache_dir=cache)
    text = path.read_text(encoding="utf-8")
    assert "- `api` — restarted · started" in text
    assert "- 14:40 api died → restarted (1/3)" in text
    warm = collect_in_a_new_process(folder, cache)
    assert warm["markdown_it"] is False
    expected = ms.collect(folder, DAY)
    assert warm["entries"] == [e.to_json() for e in expected.entries]
    assert [e.name for e in expected.entries] == ["api", "web", "carried"]


def test_the_cache_is_keyed_on_the_package_version(
    folder: pathlib.Path, cache: pathlib.Path
) -> None:
    """A cache another release wrote is not trusted, even for a note unchanged since."""
    project = tomllib.loads((pathlib.Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert ms.__version__ == project["project"]["version"]
    write(folder, DAY, NOTE)
    ms.collect(folder, DAY, cache_dir=cache)
    data = json.loads((cache / CACHE_NAME).read_bytes())
    assert data["version"].split("|")[0] == ms.__version__
    data["version"] = data["version"].replace(ms.__version__, "0.0.0-other", 1)
    (cache / CACHE_NAME).write_text(json.dumps(data))
    again = ms.collect(folder, DAY, cache_dir=cache)
    assert len(again.parsed) == 1  # read and parsed anew
    assert reading(again) == fresh(folder)
