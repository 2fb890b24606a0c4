"""`heartbeat notes …` through the real command line (typer's CliRunner).

The sample notes in ``tests/notes_samples/`` are written the way OpenClaw
daily notes are: a ``# YYYY-MM-DD`` title, ``## HH:MM UTC - topic`` sections,
prose in several languages, and the Active Long-Running Processes section in
every form DESIGN §3 accepts. Each has a ``.json`` beside it with what
``heartbeat notes list --json`` must read from it (entries by name, with their
line, and problems by line). Every sample is also checked with CRLF endings
and with a BOM, which must not move a single line number.
"""

from __future__ import annotations

import json
import os
import pathlib
import stat
import typing as t

import pytest
from typer.testing import CliRunner

from heartbeat.cli import app

SAMPLES = pathlib.Path(__file__).parent / "notes_samples"
DAY = "2026-02-01"

runner = CliRunner()


class Result(t.NamedTuple):
    exit_code: int
    stdout: str
    stderr: str


def run(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


def list_json(*args: str) -> tuple[int, dict[str, t.Any]]:
    result = run("notes", "list", "--json", "--date", DAY, *args)
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout)


def write(notes_dir: pathlib.Path, text: str | bytes, day: str = DAY) -> pathlib.Path:
    path = notes_dir / f"{day}.md"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


# --------------------------------------------------------------------------- samples


class Variant(t.NamedTuple):
    id: str
    newline: str
    bom: bool


VARIANTS = [
    Variant("lf", "\n", False),
    Variant("crlf", "\r\n", False),
    Variant("bom", "\n", True),
    Variant("bom-crlf", "\r\n", True),
]
SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.md"))


def test_there_are_samples() -> None:
    assert len(SAMPLE_NAMES) >= 5
    for name in SAMPLE_NAMES:
        assert (SAMPLES / f"{name}.json").is_file(), f"{name}.md has no expected .json"


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_sample_read_through_the_cli(
    notes_dir: pathlib.Path, sample: str, variant: Variant
) -> None:
    text = (SAMPLES / f"{sample}.md").read_text(encoding="utf-8")
    expected = json.loads((SAMPLES / f"{sample}.json").read_text(encoding="utf-8"))
    text = text.replace("\n", variant.newline)
    path = write(notes_dir, ("\ufeff" if variant.bom else "") + text)

    code, data = list_json()

    assert data["notes"] == [str(path)]
    got = {entry["name"]: entry for entry in data["entries"]}
    assert sorted(got) == sorted(e["name"] for e in expected["entries"])
    for want in expected["entries"]:
        entry = got[want["name"]]
        for key in ("command", "dir", "status", "active", "started"):
            assert entry[key] == want[key], f"{want['name']}.{key}"
        assert entry["source"] == f"{path}:{want['line']}"
    problems = [(p["line"], p["message"]) for p in data["problems"]]
    assert [line for line, _ in problems] == [p["line"] for p in expected["problems"]]
    for (_, message), want in zip(problems, expected["problems"], strict=True):
        assert want["match"] in message
    assert all(p["file"] == str(path) for p in data["problems"])
    assert code == (1 if expected["problems"] else 0)


def test_samples_are_not_touched_by_reading(notes_dir: pathlib.Path) -> None:
    data = (SAMPLES / "openclaw-day.md").read_bytes()
    path = write(notes_dir, data)
    before = path.stat().st_mtime_ns
    list_json()
    assert path.read_bytes() == data
    assert path.stat().st_mtime_ns == before


# --------------------------------------------------------------------------- forms


class Form(t.NamedTuple):
    id: str
    item: str
    name: str
    command: str
    dir: str | None = None
    status: str = "running"
    active: bool = True


FORMS = [
    Form(
        "canonical",
        "- `auth-fix` — running · started 2026-11-25 14:32 · dir `~/code/app`\n"
        "  - command: `codex exec --full-auto 'Fix the login redirect'`",
        "auth-fix",
        "codex exec --full-auto 'Fix the login redirect'",
        "~/code/app",
    ),
    Form("name-colon", "- api: codex exec --full-auto 'x'", "api", "codex exec --full-auto 'x'"),
    Form("bold-dash", "- **web** - `ralphy --codex`", "web", "ralphy --codex"),
    Form("bold-colon-inside", "- **web:** `ralphy --codex`", "web", "ralphy --codex"),
    Form("ticks-emdash", "- `web` — `ralphy --codex`", "web", "ralphy --codex"),
    Form("ticks-colon", "- `web`: `ralphy --codex`", "web", "ralphy --codex"),
    Form("bold-ticks", "- **`web`** — `ralphy --codex`", "web", "ralphy --codex"),
    Form("numbered", "1. web – `ralphy --codex`", "web", "ralphy --codex"),
    Form("star-bullet", "* web → `ralphy --codex`", "web", "ralphy --codex"),
    Form(
        "tmux-inline",
        "- tmux -S ~/.tmux/sock new -d -s ui \"cd ~/code/ui && codex exec --full-auto 'go'\"",
        "ui",
        "tmux -S ~/.tmux/sock new -d -s ui \"cd ~/code/ui && codex exec --full-auto 'go'\"",
        "~/code/ui",
    ),
    Form(
        "tmux-span",
        '- `tmux -S ~/.tmux/sock new -d -s ui -c ~/code/ui "codex exec x"`',
        "ui",
        'tmux -S ~/.tmux/sock new -d -s ui -c ~/code/ui "codex exec x"',
        "~/code/ui",
    ),
    Form(
        "tmux-fenced",
        "- **ui**\n"
        "  ```bash\n"
        '  tmux -S ~/.tmux/sock new -d -s ui "cd ~/code/ui && \\\n'
        "  PATH=/opt/homebrew/bin:\\$PATH codex exec --full-auto 'go'; \\\n"
        '  sleep 999999"\n'
        "  ```",
        "ui",
        'tmux -S ~/.tmux/sock new -d -s ui "cd ~/code/ui && '
        "PATH=/opt/homebrew/bin:\\$PATH codex exec --full-auto 'go'; sleep 999999\"",
        "~/code/ui",
    ),
    Form(
        "key-values",
        "- **api**\n  - command: `codex exec 'x'`\n  - dir: ~/code/api\n  - started: 09:00",
        "api",
        "codex exec 'x'",
        "~/code/api",
    ),
    Form("struck", "- ~~`api` — `codex exec x`~~", "api", "codex exec x", None, "done", False),
    Form("struck-name", "- ~~api~~: `codex exec x`", "api", "codex exec x", None, "done", False),
    Form(
        "struck-command",
        "- `api` — ~~`codex exec x`~~ (replaced)",
        "api",
        "codex exec x",
        None,
        "done",
        False,
    ),
    Form(
        "done-word", "- `api` — `codex exec x` — done", "api", "codex exec x", None, "done", False
    ),
    Form("finished", "- api: codex exec x (finished)", "api", "codex exec x", None, "done", False),
    Form(
        "completed",
        "- `api` — completed — `codex exec x`",
        "api",
        "codex exec x",
        None,
        "done",
        False,
    ),
    Form("killed", "- `api`: `codex exec x` (killed)", "api", "codex exec x", None, "done", False),
    Form("check-mark", "- ✅ `api` — `codex exec x`", "api", "codex exec x", None, "done", False),
    Form("checked-box", "- [x] `api` — `codex exec x`", "api", "codex exec x", None, "done", False),
    Form("open-box", "- [ ] `api` — `codex exec x`", "api", "codex exec x"),
    Form("status-word", "- `api` — `codex exec x` — failed", "api", "codex exec x", None, "failed"),
    Form("in-dir", "- `api` in `~/code/api`: `codex exec x`", "api", "codex exec x", "~/code/api"),
]


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_accepted_form(notes_dir: pathlib.Path, form: Form) -> None:
    path = write(
        notes_dir,
        f"# {DAY}\n\nSome prose.\n\n## Active Long-Running Processes\n\n{form.item}\n",
    )
    code, data = list_json()
    assert data["problems"] == []
    assert code == 0
    [entry] = data["entries"]
    assert (entry["name"], entry["command"], entry["dir"]) == (form.name, form.command, form.dir)
    assert (entry["status"], entry["active"]) == (form.status, form.active)
    assert entry["source"] == f"{path}:7"


def test_table_form(notes_dir: pathlib.Path) -> None:
    path = write(
        notes_dir,
        "## Active Long-Running Processes\n\n"
        "| Session | Command |\n|---|---|\n"
        "| `api` | `codex exec x` |\n"
        "| ~~web~~ | `ralphy --codex` |\n",
    )
    code, data = list_json()
    assert code == 0
    assert [(e["name"], e["command"], e["active"], e["source"]) for e in data["entries"]] == [
        ("api", "codex exec x", True, f"{path}:5"),
        ("web", "ralphy --codex", False, f"{path}:6"),
    ]


def test_later_mention_overrides_across_days(notes_dir: pathlib.Path) -> None:
    write(
        notes_dir,
        "## Active Long-Running Processes\n\n- api: codex exec x\n- web: ralphy --codex\n",
        "2026-01-31",
    )
    today = write(notes_dir, "# 2026-02-01\n\n## Active Long-Running Processes\n\n- api — done\n")
    code, data = list_json()
    assert code == 0
    entries = {e["name"]: e for e in data["entries"]}
    assert entries["api"]["active"] is False
    assert entries["api"]["command"] == "codex exec x"
    assert entries["api"]["source"] == f"{today}:5"
    assert entries["web"]["active"] is True
    assert len(data["notes"]) == 2


def test_status_only_without_earlier_entry_is_a_problem(notes_dir: pathlib.Path) -> None:
    path = write(notes_dir, "## Active Long-Running Processes\n\n- api — running\n")
    code, data = list_json()
    assert code == 1
    assert data["entries"] == []
    assert [(p["file"], p["line"]) for p in data["problems"]] == [(str(path), 3)]
    assert "no command" in data["problems"][0]["message"]


def test_text_output_lists_entries_and_problems(notes_dir: pathlib.Path) -> None:
    path = write(
        notes_dir, "## Active Long-Running Processes\n\n- api: codex exec x\n- a.b: codex exec y\n"
    )
    result = run("notes", "list", "--date", DAY)
    assert result.exit_code == 1
    assert "api" in result.stdout
    assert "codex exec x" in result.stdout
    assert f"{path}:3" in result.stdout
    assert f"{path}:4" in result.stderr
    assert "'a.b'" in result.stderr


# ---------------------------------------------------------------- notes that are not text


class Unreadable(t.NamedTuple):
    id: str
    make: t.Callable[[pathlib.Path, pathlib.Path], None]
    line: int
    words: str


def _invalid_utf8(path: pathlib.Path, tmp: pathlib.Path) -> None:
    path.write_bytes(b"# 2026-02-01\n\n## Active Long-Running Processes\n\n- caf\xe9: run\n")


def _latin1(path: pathlib.Path, tmp: pathlib.Path) -> None:
    path.write_bytes("# Notizen für heute\n".encode("latin-1"))


def _binary(path: pathlib.Path, tmp: pathlib.Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def _nul(path: pathlib.Path, tmp: pathlib.Path) -> None:
    path.write_bytes(b"# 2026-02-01\n\nline two\n\x00\n")


def _literal_newlines(path: pathlib.Path, tmp: pathlib.Path) -> None:
    path.write_text(
        "# 2026-02-01\\n\\n## Active Long-Running Processes\\n\\n- api: codex exec x\\n",
        encoding="utf-8",
    )


def _folder(path: pathlib.Path, tmp: pathlib.Path) -> None:
    path.mkdir()


def _fifo(path: pathlib.Path, tmp: pathlib.Path) -> None:
    os.mkfifo(path)


def _symlink_out(path: pathlib.Path, tmp: pathlib.Path) -> None:
    outside = tmp / "elsewhere.md"
    outside.write_text("## Active Long-Running Processes\n\n- api: codex exec x\n")
    path.symlink_to(outside)


def _dangling(path: pathlib.Path, tmp: pathlib.Path) -> None:
    path.symlink_to(path.parent / "missing.md")


UNREADABLE = [
    Unreadable("invalid-utf8", _invalid_utf8, 5, "UTF-8"),
    Unreadable("latin-1", _latin1, 1, "UTF-8"),
    Unreadable("binary", _binary, 1, "UTF-8"),
    Unreadable("nul", _nul, 4, "NUL"),
    Unreadable("literal-newlines", _literal_newlines, 1, "literal \\n"),
    Unreadable("folder", _folder, 1, "folder"),
    Unreadable("fifo", _fifo, 1, "not a regular file"),
    Unreadable("symlink-out", _symlink_out, 1, "symlink out of the notes folder"),
    Unreadable("dangling-symlink", _dangling, 1, "does not exist"),
]


@pytest.mark.parametrize("case", UNREADABLE, ids=[c.id for c in UNREADABLE])
def test_unreadable_note_is_a_problem(
    notes_dir: pathlib.Path, tmp_path: pathlib.Path, case: Unreadable
) -> None:
    path = notes_dir / f"{DAY}.md"
    case.make(path, tmp_path)
    code, data = list_json()
    assert code == 1
    assert data["entries"] == []
    assert [(p["file"], p["line"]) for p in data["problems"]] == [(str(path), case.line)]
    assert case.words in data["problems"][0]["message"]

    text = run("notes", "list", "--date", DAY)
    assert text.exit_code == 1
    assert "Traceback" not in text.stderr
    problem_lines = [line for line in text.stderr.splitlines() if line.startswith("problem:")]
    assert len(problem_lines) == 1
    assert f"{path}:{case.line}" in problem_lines[0]


@pytest.mark.parametrize("case", UNREADABLE, ids=[c.id for c in UNREADABLE])
def test_unreadable_note_is_never_rewritten(
    notes_dir: pathlib.Path, tmp_path: pathlib.Path, case: Unreadable
) -> None:
    path = notes_dir / f"{DAY}.md"
    case.make(path, tmp_path)
    before = path.read_bytes() if path.is_file() and not stat.S_ISFIFO(path.stat().st_mode) else b""
    result = run("notes", "add", "new", "--command", "codex exec x", "--date", DAY)
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if before:
        assert path.read_bytes() == before


# --------------------------------------------------------------------------- exit codes


class Usage(t.NamedTuple):
    id: str
    args: list[str]
    words: str


USAGE = [
    Usage("bad-date", ["notes", "list", "--date", "2026-13-45"], "YYYY-MM-DD"),
    Usage("bad-date-text", ["notes", "add", "x", "--command", "c", "--date", "tomorrow"], "date"),
    Usage("bad-name-dot", ["notes", "add", "web.app", "--command", "codex exec x"], "web.app"),
    Usage("bad-name-colon", ["notes", "add", "a:b", "--command", "codex exec x"], "a:b"),
    Usage("bad-name-space", ["notes", "add", "a b", "--command", "codex exec x"], "a b"),
    Usage("bad-name-hash", ["notes", "add", "#{x}", "--command", "codex exec x"], "#{x}"),
    Usage("empty-command", ["notes", "add", "api", "--command", "  "], "empty"),
    Usage("no-command", ["notes", "add", "api"], "--command"),
    Usage("bad-duration", ["notes", "pause", "api", "--for", "soon"], "duration"),
    Usage("unknown-name", ["notes", "done", "nobody"], "nobody"),
]


@pytest.mark.parametrize("case", USAGE, ids=[c.id for c in USAGE])
def test_usage_errors_exit_2(notes_dir: pathlib.Path, case: Usage) -> None:
    write(notes_dir, "## Active Long-Running Processes\n\n- api: codex exec x\n", "2099-01-01")
    before = sorted(p.name for p in notes_dir.iterdir())
    result = run(*case.args)
    assert result.exit_code == 2, result.stderr
    assert case.words in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in notes_dir.iterdir()) == before


def test_duplicate_add_exits_2(notes_dir: pathlib.Path) -> None:
    first = run("notes", "add", "api", "--command", "codex exec x", "--date", DAY)
    assert first.exit_code == 0, first.stderr
    path = notes_dir / f"{DAY}.md"
    before = path.read_bytes()
    again = run("notes", "add", "api", "--command", "codex exec y", "--date", DAY)
    assert again.exit_code == 2
    assert "already listed as active" in again.stderr
    assert f"{path}:" in again.stderr
    assert path.read_bytes() == before


class Missing(t.NamedTuple):
    id: str
    args: list[str]


MISSING = [
    Missing("list", ["notes", "list"]),
    Missing("list-json", ["notes", "list", "--json"]),
    Missing("add", ["notes", "add", "api", "--command", "codex exec x"]),
    Missing("done", ["notes", "done", "api"]),
    Missing("pause", ["notes", "pause", "api", "--for", "2h"]),
    Missing("resume", ["notes", "resume", "api"]),
    Missing("remove", ["notes", "remove", "api"]),
]


@pytest.mark.parametrize("case", MISSING, ids=[c.id for c in MISSING])
def test_missing_notes_folder(tmp_path: pathlib.Path, case: Missing) -> None:
    missing = tmp_path / "no" / "such" / "memory"
    result = run(*case.args, "--notes-dir", str(missing))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(missing) in lines[0]
    assert "does not exist" in lines[0]
    assert "HEARTBEAT_NOTES_DIR" in lines[0]
    assert not missing.exists()


def test_missing_notes_folder_from_the_environment(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone"
    monkeypatch.setenv("HEARTBEAT_NOTES_DIR", str(missing))
    result = run("notes", "list", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(missing) in result.stderr


def test_notes_folder_that_is_a_file(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "memory.md"
    file.write_text("# not a folder\n")
    result = run("notes", "list", "--notes-dir", str(file))
    assert result.exit_code == 2
    assert "is not a folder" in result.stderr


def test_clean_list_exits_0_and_empty_folder_too(notes_dir: pathlib.Path) -> None:
    code, data = list_json()
    assert (code, data["entries"], data["problems"], data["notes"]) == (0, [], [], [])
    write(notes_dir, "## Active Long-Running Processes\n\n- api: codex exec x\n")
    code, data = list_json()
    assert code == 0
    assert [e["name"] for e in data["entries"]] == ["api"]


def test_notes_dir_flag_beats_the_environment(
    notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write(other, "## Active Long-Running Processes\n\n- from-flag: codex exec x\n")
    write(notes_dir, "## Active Long-Running Processes\n\n- from-env: codex exec x\n")
    code, data = list_json("--notes-dir", str(other))
    assert code == 0
    assert [e["name"] for e in data["entries"]] == ["from-flag"]


def test_other_files_in_the_folder_are_left_be(notes_dir: pathlib.Path) -> None:
    for name in ("2026-02-01-session-dump.md", "heartbeat-state.json", "notes.md", "2026-2-1.md"):
        (notes_dir / name).write_text("## Active Long-Running Processes\n\n- x: codex exec\n")
    code, data = list_json()
    assert (code, data["notes"], data["entries"]) == (0, [], [])


def test_loose_permissions_are_a_problem(notes_dir: pathlib.Path) -> None:
    path = write(notes_dir, "## Active Long-Running Processes\n\n- api: codex exec x\n")
    path.chmod(0o666)
    code, data = list_json()
    assert code == 1
    assert any("chmod go-w" in p["message"] and p["file"] == str(path) for p in data["problems"])


# --------------------------------------------------------------------------- editing commands


def test_add_done_pause_resume_remove_round(notes_dir: pathlib.Path) -> None:
    path = notes_dir / f"{DAY}.md"
    added = run(
        "notes", "add", "api", "--command", "codex exec 'x'", "--dir", "~/code/api", "--date", DAY
    )
    assert added.exit_code == 0, added.stderr
    assert str(path) in added.stdout
    assert path.read_text().startswith(f"# {DAY}\n")
    [entry] = list_json()[1]["entries"]
    assert (entry["name"], entry["command"], entry["dir"], entry["status"], entry["active"]) == (
        "api",
        "codex exec 'x'",
        "~/code/api",
        "running",
        True,
    )

    paused = run("notes", "pause", "api", "--for", "2h", "--date", DAY)
    assert paused.exit_code == 0, paused.stderr
    [entry] = list_json()[1]["entries"]
    assert entry["status"] == "paused"
    assert entry["until"]

    assert run("notes", "resume", "api", "--date", DAY).exit_code == 0
    [entry] = list_json()[1]["entries"]
    assert (entry["status"], entry["until"]) == ("running", None)

    assert run("notes", "done", "api", "--date", DAY).exit_code == 0
    [entry] = list_json()[1]["entries"]
    assert (entry["status"], entry["active"]) == ("done", False)
    assert path.read_text().count("`api`") == 1  # updated in place, not appended

    assert run("notes", "remove", "api", "--date", DAY).exit_code == 0
    assert list_json()[1]["entries"] == []
    assert "api" not in path.read_text()


def test_done_on_a_hand_written_entry_adds_a_mention(notes_dir: pathlib.Path) -> None:
    line = "- api: codex exec --full-auto 'x'   <- started by hand\n"
    path = write(notes_dir, f"## Active Long-Running Processes\n\n{line}")
    result = run("notes", "done", "api", "--date", DAY)
    assert result.exit_code == 0, result.stderr
    text = path.read_text()
    assert line in text  # never reworded
    [entry] = list_json()[1]["entries"]
    assert (entry["active"], entry["status"]) == (False, "done")


def test_remove_of_an_entry_from_yesterday_leaves_a_struck_mention(
    notes_dir: pathlib.Path,
) -> None:
    yesterday = write(
        notes_dir, "## Active Long-Running Processes\n\n- api: codex exec x\n", "2026-01-31"
    )
    before = yesterday.read_bytes()
    result = run("notes", "remove", "api", "--date", DAY)
    assert result.exit_code == 0, result.stderr
    assert yesterday.read_bytes() == before
    [entry] = list_json()[1]["entries"]
    assert entry["active"] is False


class Carried(t.NamedTuple):
    id: str
    yesterday: str
    today: str
    args: list[str]
    started: str


#: An entry whose start is a bare time ("08:18") means that time on its own note's day: an edit
#: that writes it into another day's note must write that day too (heartbeat.session.dated_start).
CARRIED = [
    Carried(
        "pause-hand-written",
        "- api: `codex exec x` (started 08:18)\n",
        "",
        ["pause", "api"],
        "2026-01-31 08:18",
    ),
    Carried(
        "pause-for-canonical",
        "- `api` — running · started 08:18\n  - command: `codex exec x`\n",
        "",
        ["pause", "api", "--for", "2h"],
        "2026-01-31 08:18",
    ),
    Carried(
        "done-hand-written",
        "- api: `codex exec x` (started 08:18)\n",
        "",
        ["done", "api"],
        "2026-01-31 08:18",
    ),
    Carried(
        "resume-after-a-mention-today",
        "- api: `codex exec x` (started 08:18)\n",
        "- api — paused\n",
        ["resume", "api"],
        "2026-01-31 08:18",
    ),
    Carried(
        "dated-start-kept",
        "- api: `codex exec x` (started 2026-01-30 23:50)\n",
        "",
        ["pause", "api"],
        "2026-01-30 23:50",
    ),
    Carried(
        "today-bare-start",
        "",
        "- api: `codex exec x` (started 08:18)\n",
        ["pause", "api"],
        "2026-02-01 08:18",
    ),
]


@pytest.mark.parametrize("case", CARRIED, ids=[c.id for c in CARRIED])
def test_an_edit_keeps_the_day_of_a_bare_start(notes_dir: pathlib.Path, case: Carried) -> None:
    section = "## Active Long-Running Processes\n\n"
    if case.yesterday:
        write(notes_dir, section + case.yesterday, "2026-01-31")
    if case.today:
        write(notes_dir, f"# {DAY}\n\n" + section + case.today)
    result = run("notes", *case.args, "--date", DAY)
    assert result.exit_code == 0, result.stderr
    [entry] = list_json()[1]["entries"]
    assert entry["source"].startswith(str(notes_dir / f"{DAY}.md"))
    assert entry["started"] == case.started


def test_remove_keeps_a_note_without_final_newline_well_formed(notes_dir: pathlib.Path) -> None:
    write(notes_dir, "## Active Long-Running Processes\n\n- api: codex exec x\n", "2026-01-31")
    path = write(notes_dir, "# 2026-02-01\n\n## Active Long-Running Processes\n\n- web: ralphy")
    assert run("notes", "remove", "api", "--date", DAY).exit_code == 0
    text = path.read_text()
    assert "- web: ralphy\n" in text
    assert not text.endswith("\n")
    entries = {e["name"]: e for e in list_json()[1]["entries"]}
    assert entries["web"]["command"] == "ralphy"
    assert entries["api"]["active"] is False


# --------------------------------------------------------------------------- help


HELP = [
    ["--help"],
    ["notes", "--help"],
    ["notes", "list", "--help"],
    ["notes", "add", "--help"],
    ["notes", "done", "--help"],
    ["notes", "remove", "--help"],
    ["notes", "pause", "--help"],
    ["notes", "resume", "--help"],
]


@pytest.mark.parametrize("args", HELP, ids=[" ".join(a) for a in HELP])
def test_help(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    if len(args) == 3:
        assert "--notes-dir" in result.stdout
        assert "--date" in result.stdout
