"""Notes read conservatively (issue 11): statuses only where statuses go, nothing skipped.

A status word ends or pauses an entry only in a status position: a Status
field or column, the first word after the name or the command or of a Notes
cell, a ✅, a strike. Progress prose anywhere else never does. And whatever
looks like a session but cannot be read is a problem with its line: several
tmux lines in one fence, sessions told in prose, a table without a Command
column, a note whose sessions sit under a heading in another language.
"""

from __future__ import annotations

import datetime
import pathlib
import typing as t

import pytest

import memory_schema as ms

PATH = pathlib.Path("/notes/2026-02-01.md")


def parse(text: str) -> ms.ParsedNote:
    return ms.parse_note(text, PATH)


def section(body: str) -> str:
    return f"# 2026-02-01\n\n## Active Long-Running Processes\n\n{body}\n"


class Case(t.NamedTuple):
    id: str
    body: str
    status: str
    command: str = "codex exec x"


PROGRESS_PROSE = [
    Case("tasks-done-so-far", "- `api` — `codex exec x` — 3/7 tasks done so far", "running"),
    Case("not-yet-done", "- `api`: `codex exec x` — not yet done", "running"),
    Case(
        "purge-completed-orders",
        "- **api** — purge completed orders nightly\n  - command: `codex exec x`",
        "running",
    ),
    Case(
        "paused-subscription-bug",
        "- `api` — fixing the paused-subscription bug\n  - command: `codex exec x`",
        "running",
    ),
    Case("done-mid-tail", "- `api` — `codex exec x` — tests green, 2 done, 5 to go", "running"),
    Case(
        "paren-progress", "- api: codex exec x (started 14:05, 3/7 done)", "running", "codex exec x"
    ),
    Case(
        "status-field-count",
        "- `api`\n  - command: `codex exec x`\n  - status: 3/7 done",
        "running",
    ),
    Case("continuation-line", "- `api` — `codex exec x`\n  progress: 3/7 tasks done", "running"),
    Case(
        "notes-cell-progress",
        "| Session | Command | Notes |\n|---|---|---|\n"
        "| api | `codex exec x` | 3/7 tasks done so far |",
        "running",
    ),
    Case(
        "notes-cell-prose",
        "| Session | Command | Notes |\n|---|---|---|\n"
        "| api | `codex exec x` | fixing the paused-subscription bug |",
        "running",
    ),
    Case(
        "task-cell-completed",
        "| Session | Command | Task |\n|---|---|---|\n"
        "| api | `codex exec x` | Finished-orders export |",
        "running",
    ),
    Case(
        "status-cell-not-done",
        "| Session | Command | Status |\n|---|---|---|\n| api | `codex exec x` | not done yet |",
        "running",
    ),
    Case("sub-heading-prose", "### Purge completed orders\n\n- api: codex exec x", "running"),
    Case(
        "group-with-counts",
        "- Codex sessions (2 of 3 done):\n  - `api` — `codex exec x`",
        "running",
    ),
    Case(
        "check-mark-in-command",
        "- `api` — `codex exec --full-auto 'tick ✅ boxes'`",
        "running",
        "codex exec --full-auto 'tick ✅ boxes'",
    ),
]

STATUS_POSITIONS = [
    Case("after-name", "- `api` — `codex exec x`\n- api — done", "done", ""),
    Case("after-command", "- `api` — `codex exec x` — paused", "paused"),
    Case("paren-after-name", "- `api` (finished): `codex exec x`", "done"),
    Case("check-mark-anywhere", "- `api` — `codex exec x` — merged ✅", "done"),
    Case("strike", "- ~~`api`~~ — `codex exec x`", "done"),
    Case(
        "canonical",
        "- `api` — stalled · started 2026-02-01 09:00\n  - command: `codex exec x`",
        "stalled",
    ),
    Case(
        "status-field", "- `api`\n  - command: `codex exec x`\n  - status: killed by hand", "done"
    ),
    Case(
        "status-column",
        "| Session | Command | Status |\n|---|---|---|\n| api | `codex exec x` | blocked (login) |",
        "blocked",
    ),
    Case(
        "notes-cell-first-word",
        "| Session | Command | Notes |\n|---|---|---|\n"
        "| api | `codex exec x` | finished 11:40, PR #42 merged |",
        "done",
    ),
    Case(
        "check-mark-cell",
        "| Session | Command | Result |\n|---|---|---|\n| api | `codex exec x` | PR #42 ✅ |",
        "done",
    ),
    Case("sub-heading-done", "### Completed ✅\n\n- api: codex exec x", "done"),
    Case("group-done", "- **Finished today:**\n  - `api` — `codex exec x`", "done"),
]


def last_api(text: str) -> ms.Entry:
    parsed = parse(text)
    assert parsed.problems == []
    return [e for e in parsed.entries if e.name == "api"][-1]


@pytest.mark.parametrize("case", PROGRESS_PROSE, ids=[c.id for c in PROGRESS_PROSE])
def test_progress_prose_never_ends_or_pauses_an_entry(case: Case) -> None:
    entry = last_api(section(case.body))
    assert (entry.command, entry.status, entry.active) == (case.command, "running", True)


@pytest.mark.parametrize("case", STATUS_POSITIONS, ids=[c.id for c in STATUS_POSITIONS])
def test_a_status_in_a_status_position_counts(case: Case) -> None:
    entry = last_api(section(case.body))
    assert (entry.command, entry.status) == (case.command, case.status)
    assert entry.active == (case.status != "done")


def test_a_notes_cell_that_says_finished_ends_the_row_in_collect(tmp_path: pathlib.Path) -> None:
    """The issue's table: the row is not active, so nothing would restart it."""
    note = tmp_path / "2026-02-01.md"
    note.write_text(
        section(
            "| Session | Command | Notes |\n|---|---|---|\n"
            "| api | `codex exec x` | finished 11:40, PR #42 merged |\n"
            "| web | `codex exec y` | 3/7 tasks done so far |"
        )
    )
    collection = ms.collect(tmp_path, datetime.date(2026, 2, 1))
    assert [(e.name, e.active) for e in collection.entries] == [("api", False), ("web", True)]


# --------------------------------------------------------------------------- nothing skipped


def test_several_tmux_lines_in_an_items_fence_are_several_entries() -> None:
    text = section(
        "- web servers:\n"
        "  ```bash\n"
        "  tmux -S ~/.tmux/sock new -d -s web \"codex exec --full-auto 'Fix the navbar'\"\n"
        "  tmux -S ~/.tmux/sock new -d -s api \"codex exec --full-auto 'Version the API'\"\n"
        "  ```\n"
        "- `docs` — `codex exec docs`"
    )
    parsed = parse(text)
    assert parsed.problems == []
    assert [(e.name, e.line, e.end_line, e.active) for e in parsed.entries] == [
        ("web", 7, 7, True),
        ("api", 8, 8, True),
        ("docs", 10, 10, True),
    ]
    # Removing one session never removes the other's line.
    after = parse(ms.remove_entry(parsed, "web"))
    assert [e.name for e in after.entries] == ["api", "docs"]


def test_an_items_own_tmux_command_and_a_fenced_one_are_two_entries() -> None:
    text = section(
        "- `tmux new -d -s web 'codex exec web'` — and its helper:\n"
        "  ```\n  tmux new -d -s web-helper 'codex exec helper'\n  ```"
    )
    parsed = parse(text)
    assert [(e.name, e.line, e.end_line) for e in parsed.entries] == [
        ("web", 5, 5),
        ("web-helper", 7, 7),
    ]


def test_the_second_tmux_line_of_a_bare_fence_is_not_dropped() -> None:
    text = section("```\ntmux new -d -s web 'npm run dev'\ntmux new -d -s api 'codex exec x'\n```")
    assert [(e.name, e.line) for e in parse(text).entries] == [("web", 6), ("api", 7)]


class Unread(t.NamedTuple):
    id: str
    body: str
    line: int
    words: str


UNREAD = [
    Unread(
        "prose-session",
        "Started auth-fix in tmux: codex exec --full-auto 'Fix login'",
        5,
        "`- auth-fix: codex exec --full-auto 'Fix login'`",
    ),
    Unread(
        "prose-span",
        "Kicked off `codex exec --full-auto 'Fix login'` for the login bug.",
        5,
        "`- NAME: codex exec --full-auto 'Fix login'`",
    ),
    Unread(
        "table-without-command",
        "| Session | Status |\n|---|---|\n| api | running |",
        5,
        "no Command column",
    ),
    Unread(
        "table-of-commands",
        "| When | What |\n|---|---|\n| 09:00 | `codex exec --full-auto 'x'` |",
        5,
        "no Session column",
    ),
    Unread("bare-fence", "```\ncd ~/x && codex exec --full-auto 'y'\n```", 6, "names no session"),
]


@pytest.mark.parametrize("case", UNREAD, ids=[c.id for c in UNREAD])
def test_what_looks_like_a_session_but_cannot_be_read_is_a_problem(case: Unread) -> None:
    parsed = parse(section(case.body))
    assert parsed.entries == []
    [problem] = parsed.problems
    assert (problem.file, problem.line) == (PATH, case.line)
    assert case.words in problem.message


class Missing(t.NamedTuple):
    id: str
    text: str
    line: int
    heading: str | None


MISSING = [
    Missing(
        "german",
        "# 2026-02-01\n\n## Aktive Langzeitprozesse\n\n- api: codex exec --full-auto 'x'\n",
        5,
        "`## Aktive Langzeitprozesse` on line 3",
    ),
    Missing(
        "chinese",
        "# 2026-02-01\n\n## 长期运行的进程\n\n- `api` — `codex exec --full-auto 'x'`\n",
        5,
        "`## 长期运行的进程` on line 3",
    ),
    Missing(
        "tmux-in-a-topic",
        "# 2026-02-01\n\n## 10:15 UTC - started the auth rewrite\n\n"
        '```bash\ntmux -S ~/.tmux/sock new -d -s auth "codex exec x"\n```\n',
        6,
        "`## 10:15 UTC - started the auth rewrite` on line 3",
    ),
    Missing("no-heading-at-all", "tmux new -d -s api 'codex exec x'\n", 1, None),
]


@pytest.mark.parametrize("case", MISSING, ids=[c.id for c in MISSING])
def test_sessions_without_the_section_heading_are_a_problem(case: Missing) -> None:
    parsed = parse(case.text)
    assert parsed.entries == []
    [problem] = parsed.problems
    assert problem.line == case.line
    assert "`## Active Long-Running Processes`" in problem.message
    if case.heading:
        assert case.heading in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "# 2026-02-01\n\n## 10:00 UTC - notes\n\nStarted a codex run for the login bug.\n",
        "# 2026-02-01\n\n- ran `codex exec` for the docs, all good\n",
        "# 2026-02-01\n\n```\ntmux -S ~/.tmux/sock capture-pane -t api -p\n```\n",
        "# 2026-02-01\n\nNothing today.\n",
    ],
)
def test_a_note_without_sessions_needs_no_heading(text: str) -> None:
    assert parse(text).problems == []
