"""The note reader of memory_schema, used as a library (no heartbeat, no CLI)."""

from __future__ import annotations

import datetime
import pathlib
import typing as t

import pytest

import memory_schema as ms
from memory_schema.model import decode_note
from memory_schema.status import MARKS

PATH = pathlib.Path("/notes/2026-02-01.md")


def parse(text: str) -> ms.ParsedNote:
    return ms.parse_note(text, PATH)


def only(text: str) -> ms.Entry:
    parsed = parse(text)
    assert parsed.problems == []
    [entry] = parsed.entries
    return entry


def section(body: str, heading: str = "## Active Long-Running Processes") -> str:
    return f"# 2026-02-01\n\nProse first.\n\n{heading}\n\n{body}\n"


# --------------------------------------------------------------------------- sections


class Heading(t.NamedTuple):
    id: str
    heading: str


HEADINGS = [
    Heading("h2", "## Active Long-Running Processes"),
    Heading("h1", "# Active Long-Running Processes"),
    Heading("h3", "### Active Long-Running Processes"),
    Heading("h6", "###### Active Long-Running Processes"),
    Heading("lower", "## active long-running processes"),
    Heading("upper", "## ACTIVE LONG-RUNNING PROCESSES"),
    Heading("no-hyphen", "## Active long running processes"),
    Heading("nb-hyphen", "## Active Long\u2011Running Processes"),
    Heading("suffix", "## Active Long-Running Processes (as of 15:00 UTC)"),
    Heading("emoji", "## 🔄 Active Long-Running Processes"),
    Heading("bold", "## **Active Long-Running Processes**"),
    Heading("closing-hashes", "## Active Long-Running Processes ##"),
    Heading("setext", "Active Long-Running Processes\n-----------------------------"),
    Heading("bold-paragraph", "**Active Long-Running Processes:**"),
]


@pytest.mark.parametrize("case", HEADINGS, ids=[h.id for h in HEADINGS])
def test_section_heading_forms(case: Heading) -> None:
    entry = only(section("- api: codex exec x", case.heading))
    assert (entry.name, entry.command) == ("api", "codex exec x")


def test_other_headings_are_not_the_section() -> None:
    """Sessions under another heading are not read, and the note says which heading to use."""
    for heading in ("## Active sessions", "## Long-Running Processes", "## Processes"):
        parsed = parse(section("- api: codex exec x", heading))
        assert parsed.entries == []
        [problem] = parsed.problems
        assert problem.line == 7
        assert "`## Active Long-Running Processes`" in problem.message
        assert f"`{heading}` on line 5" in problem.message


def test_section_runs_to_the_next_heading_of_same_or_higher_level() -> None:
    text = (
        "## Active Long-Running Processes\n\n"
        "- a: codex exec a\n\n"
        "### sub-heading stays inside\n\n"
        "- b: codex exec b\n\n"
        "## 15:00 UTC - next topic\n\n"
        "- c: codex exec c\n\n"
        "# Another day title\n\n"
        "- d: codex exec d\n"
    )
    parsed = parse(text)
    assert [e.name for e in parsed.entries] == ["a", "b"]
    assert parsed.problems == []


def test_a_level_one_section_runs_over_level_two_headings() -> None:
    text = "# Active Long-Running Processes\n\n- a: codex exec a\n\n## Notes\n\n- b: codex exec b\n"
    assert [e.name for e in parse(text).entries] == ["a", "b"]


def test_hash_lines_in_fences_are_not_headings() -> None:
    text = (
        "## Active Long-Running Processes\n\n"
        "- a: codex exec a\n\n"
        "```bash\n# list sessions\ntmux -S ~/.tmux/sock ls\n## not a heading either\n```\n\n"
        "- b: codex exec b\n\n"
        "~~~\n# Active Long-Running Processes\n- c: codex exec c\n~~~\n"
    )
    parsed = parse(text)
    assert [e.name for e in parsed.entries] == ["a", "b"]
    assert len(parsed.active_sections) == 1
    # The fenced list item starts an agent without a session: said, not skipped.
    assert [(p.line, "names no session" in p.message) for p in parsed.problems] == [(15, True)]


def test_repeated_sections_are_all_read_in_order() -> None:
    text = (
        "## Active Long-Running Processes\n\n- api: codex exec x\n\n"
        "## 11:00 UTC - later\n\nprose\n\n"
        "### active long-running processes\n\n- api — done\n- web: ralphy --codex\n\n"
        "## ACTIVE LONG-RUNNING PROCESSES\n\n- api: codex exec y\n"
    )
    parsed = parse(text)
    assert [(e.name, e.status, e.line) for e in parsed.entries] == [
        ("api", "running", 3),
        ("api", "done", 11),
        ("web", "running", 12),
        ("api", "running", 16),
    ]
    assert len(parsed.active_sections) == 3


def test_done_sub_heading_makes_its_entries_inactive() -> None:
    text = section(
        "### Running\n\n- a: codex exec a\n\n### Completed ✅\n\n- b: codex exec b\n\n"
        "### Paused\n\n- c: codex exec c — paused"
    )
    entries = {e.name: e for e in parse(text).entries}
    assert (entries["a"].active, entries["b"].active, entries["c"].active) == (True, False, True)
    assert entries["c"].status == "paused"


def test_heartbeat_log_nested_in_a_level_one_section_is_not_read_as_entries() -> None:
    text = (
        "# Active Long-Running Processes\n\n- api: codex exec x\n\n"
        "## Heartbeat\n\n- 14:40 api died → restarted (1/3)\n"
    )
    parsed = parse(text)
    assert [e.name for e in parsed.entries] == ["api"]
    assert parsed.problems == []


def test_non_ascii_headings_and_prose_around() -> None:
    text = (
        "# 2026-02-01 — Воскресенье\n\n## 14:05 UTC — Заметки\n\nТекст. 日本語の文。\n\n"
        "## Active Long-Running Processes\n\n"
        "- `api` — `codex exec --full-auto 'Исправить вход'`\n\n"
        "## 日本語の見出し\n\n- これはエントリではない\n"
    )
    parsed = parse(text)
    assert [(e.name, e.command, e.line) for e in parsed.entries] == [
        ("api", "codex exec --full-auto 'Исправить вход'", 9)
    ]
    assert parsed.problems == []


# --------------------------------------------------------------------------- frontmatter


def test_frontmatter_with_comments_is_metadata_and_lines_count_from_the_file() -> None:
    text = (
        "---\n# a comment\ntitle: Sunday  # trailing comment\ntags: [a, b]\n---\n"
        "# 2026-02-01\n\n## Active Long-Running Processes\n\n- api: codex exec x\n"
    )
    parsed = parse(text)
    assert parsed.metadata == {"title": "Sunday", "tags": ["a", "b"]}
    assert parsed.body_start == 5
    assert [(e.name, e.line) for e in parsed.entries] == [("api", 10)]


def test_invalid_yaml_is_a_problem_and_entries_are_still_read() -> None:
    text = "---\ntitle: [unclosed\n---\n## Active Long-Running Processes\n\n- api: codex exec x\n"
    parsed = parse(text)
    assert [(p.line, "YAML" in p.message) for p in parsed.problems] == [(1, True)]
    assert [(e.name, e.line) for e in parsed.entries] == [("api", 6)]


def test_rules_around_text_are_not_frontmatter() -> None:
    """Two thematic breaks around Markdown: python-frontmatter would drop what is between."""
    text = (
        "---\n## Active Long-Running Processes\n\n- api: codex exec x\n---\n\n"
        "Some prose after the rule.\n"
    )
    parsed = parse(text)
    assert parsed.metadata == {}
    assert [(e.name, e.line) for e in parsed.entries] == [("api", 4)]


def test_frontmatter_closed_by_dots_and_empty_frontmatter() -> None:
    dots = parse("---\na: 1\n...\n## Active Long-Running Processes\n\n- x: codex exec\n")
    assert dots.metadata == {"a": 1}
    assert [e.line for e in dots.entries] == [6]
    empty = parse("---\n---\n## Active Long-Running Processes\n\n- x: codex exec\n")
    assert empty.metadata == {}
    assert [e.line for e in empty.entries] == [5]


# --------------------------------------------------------------------------- entries


class Item(t.NamedTuple):
    id: str
    text: str
    name: str
    command: str
    status: str = "running"
    dir: str | None = None
    started: str | None = None


ITEMS = [
    Item("plain", "- api: codex exec x", "api", "codex exec x"),
    Item("plain-em-dash", "- api — codex exec x", "api", "codex exec x"),
    Item("plain-arrow", "- api -> codex exec x", "api", "codex exec x"),
    Item("plain-done-tail", "- api: codex exec x — done", "api", "codex exec x", "done"),
    Item(
        "plain-paren-tail",
        "- api: codex exec x (started 14:05)",
        "api",
        "codex exec x",
        started="14:05",
    ),
    Item("plain-em-dash-in-quotes", "- api: codex exec 'a — b'", "api", "codex exec 'a — b'"),
    Item("italic", "- *api* — `codex exec x`", "api", "codex exec x"),
    Item("underscore-bold", "- __api__: `codex exec x`", "api", "codex exec x"),
    Item("session-prefix", "- Session `api`: `codex exec x`", "api", "codex exec x"),
    Item("tmux-session-prefix", "- tmux session **api** — `codex exec x`", "api", "codex exec x"),
    Item(
        "name-repeated-in-paren",
        "- **api** (tmux session `api`): `codex exec x`",
        "api",
        "codex exec x",
    ),
    Item(
        "dir-span-first",
        "- `api` — `~/code/api` — `codex exec x`",
        "api",
        "codex exec x",
        dir="~/code/api",
    ),
    Item(
        "dir-word",
        "- `api`: `codex exec x` (dir ~/code/api)",
        "api",
        "codex exec x",
        dir="~/code/api",
    ),
    Item(
        "cd-dir",
        "- api: cd ~/code/api && codex exec x",
        "api",
        "cd ~/code/api && codex exec x",
        dir="~/code/api",
    ),
    Item(
        "log-span-skipped", "- `api` (log `~/logs/api.log`) — `codex exec x`", "api", "codex exec x"
    ),
    Item("double-backtick", "- `api` — ``codex exec 'a `b` c'``", "api", "codex exec 'a `b` c'"),
    Item("padded-backtick", "- `api` — `` `x` ``", "api", "`x`"),
    Item(
        "paragraph-key-values",
        "- **api**\n  command: `codex exec x`\n  dir: `~/code/api`",
        "api",
        "codex exec x",
        dir="~/code/api",
    ),
    Item("session-key-value", "- Session: api\n  - command: `codex exec x`", "api", "codex exec x"),
    Item(
        "bare-name-sub-items",
        "- api\n  - cmd: `codex exec x`\n  - started: 2026-02-01 09:00",
        "api",
        "codex exec x",
        started="2026-02-01 09:00",
    ),
    Item(
        "fence-under-item",
        "- api:\n  ```\n  codex exec --full-auto 'x'\n  ```",
        "api",
        "codex exec --full-auto 'x'",
    ),
    Item(
        "fence-cd-then-run",
        "- api:\n  ```sh\n  # go\n  cd ~/x\n  $ codex exec y\n  ```",
        "api",
        "cd ~/x && codex exec y",
        dir="~/x",
    ),
    Item(
        "tmux-grouped-flags",
        '- `tmux -S ~/.tmux/sock new -ds api "codex exec x"`',
        "api",
        'tmux -S ~/.tmux/sock new -ds api "codex exec x"',
    ),
    Item(
        "tmux-new-session",
        "- tmux new-session -d -s api -c /srv/api 'codex exec x'",
        "api",
        "tmux new-session -d -s api -c /srv/api 'codex exec x'",
        dir="/srv/api",
    ),
    Item("status-paused", "- `api` — `codex exec x` — paused", "api", "codex exec x", "paused"),
    Item(
        "status-blocked",
        "- `api`: `codex exec x` (blocked: codex login)",
        "api",
        "codex exec x",
        "blocked",
    ),
    Item("stopped", "- `api`: `codex exec x` — stopped by hand", "api", "codex exec x", "done"),
    Item("not-done", "- `api`: `codex exec x` — not done yet", "api", "codex exec x"),
    Item(
        "unicode-name-cmd",
        "- `api_2-b` — `codex exec --full-auto '修正 ✓'`",
        "api_2-b",
        "codex exec --full-auto '修正 ✓'",
    ),
]


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_item_forms(item: Item) -> None:
    entry = only(section(item.text))
    assert (entry.name, entry.command) == (item.name, item.command)
    assert (entry.status, entry.dir, entry.started) == (item.status, item.dir, item.started)
    assert entry.active == (item.status != "done")
    assert entry.line == 7
    assert entry.end_line == 6 + item.text.count("\n") + 1


class StatusOnly(t.NamedTuple):
    id: str
    text: str
    status: str


class Described(t.NamedTuple):
    id: str
    text: str
    name: str
    command: str
    active: bool = True
    started: str | None = None


DESCRIBED = [
    Described(
        "description-then-command-field",
        "- `api`: codex fixing the removed endpoints (started 14:32)\n"
        "  - command: `codex exec --full-auto 'x'`",
        "api",
        "codex exec --full-auto 'x'",
        started="14:32",
    ),
    Described(
        "description-then-fence",
        "- **web** — fixing the login redirect\n  ```\n"
        '  tmux -S ~/.tmux/sock new -d -s web "codex exec y"\n  ```',
        "web",
        'tmux -S ~/.tmux/sock new -d -s web "codex exec y"',
    ),
    Described(
        "status-then-command-field",
        "- `api` — done — it removed the old endpoints\n  - command: `codex exec x`",
        "api",
        "codex exec x",
        active=False,
    ),
    Described(
        "tmux-hint-is-not-the-command",
        "- `api` — `codex exec x`\n  - tmux: `tmux -S ~/.tmux/sock attach -t api`",
        "api",
        "codex exec x",
    ),
    Described(
        "leading-time",
        "- 14:32 — `api`: `codex exec x`",
        "api",
        "codex exec x",
        started="14:32",
    ),
    Described(
        "leading-bracket-time",
        "- [14:32 UTC] api: codex exec x",
        "api",
        "codex exec x",
        started="14:32 UTC",
    ),
    Described(
        "link-name", "- [api](https://x.invalid/pr/1) — `codex exec x`", "api", "codex exec x"
    ),
    Described("paren-span", "- api (`codex exec x`)", "api", "codex exec x"),
    Described(
        "bold-tmux-session-prefix",
        "- **tmux session `api`** — fixing login\n  - command: `codex exec x`",
        "api",
        "codex exec x",
    ),
]


@pytest.mark.parametrize("case", DESCRIBED, ids=[c.id for c in DESCRIBED])
def test_descriptions_are_not_commands(case: Described) -> None:
    entry = only(section(case.text))
    assert (entry.name, entry.command, entry.active, entry.started) == (
        case.name,
        case.command,
        case.active,
        case.started,
    )


def test_a_sub_heading_per_session() -> None:
    text = section(
        "### api\n- **Command:** `codex exec x`\n- **Dir:** `~/code/api`\n\n"
        "### `web` (finished)\n- command: `ralphy --codex`\n\n"
        "### Notes\n- Status: all quiet\n"
    )
    parsed = parse(text)
    assert parsed.problems == []
    assert [(e.name, e.command, e.dir, e.active, e.line, e.end_line) for e in parsed.entries] == [
        ("api", "codex exec x", "~/code/api", True, 7, 9),
        ("web", "ralphy --codex", None, False, 11, 12),
    ]
    removed = ms.remove_entry(parsed, "api")
    assert "### api" not in removed
    assert "### `web` (finished)" in removed


def test_a_group_item_holds_entries() -> None:
    text = section(
        "- Codex sessions:\n"
        "  - `auth-fix` — `codex exec --full-auto 'Fix login'`\n"
        "  - a.b: ralphy\n"
        "- **Finished today:**\n"
        "  - `docs` — `codex exec docs`\n"
        "- **web** — `codex exec web`\n"
        "  - started: 14:00"
    )
    parsed = parse(text)
    assert [(e.name, e.command, e.active, e.line) for e in parsed.entries] == [
        ("auth-fix", "codex exec --full-auto 'Fix login'", True, 8),
        ("docs", "codex exec docs", False, 11),
        ("web", "codex exec web", True, 12),
    ]
    assert [(p.line, "'a.b'" in p.message) for p in parsed.problems] == [(9, True)]


STATUS_ONLY = [
    StatusOnly("em-dash-done", "- api — done", "done"),
    StatusOnly("colon-finished", "- api: finished at 15:00", "done"),
    StatusOnly("ticks-killed", "- `api` — killed (user asked)", "done"),
    StatusOnly("check-mark-first", "- ✅ `api`", "done"),
    StatusOnly("check-mark-after", "- `api` ✅", "done"),
    StatusOnly("struck-name", "- ~~api~~", "done"),
    StatusOnly("struck-removed", "- ~~`api`~~ — removed", "done"),
    StatusOnly("completed-word", "- **api** — completed successfully", "done"),
    StatusOnly("failed", "- api — failed (exit 1)", "failed"),
    StatusOnly("died-restarted", "- `api` — died → restarted (1/3)", "died"),
    StatusOnly("paused", "- api: paused until the migration lands", "paused"),
]


@pytest.mark.parametrize("case", STATUS_ONLY, ids=[c.id for c in STATUS_ONLY])
def test_status_only_mentions_are_never_commands(case: StatusOnly) -> None:
    entry = only(section(case.text))
    assert (entry.name, entry.command, entry.status) == ("api", "", case.status)
    assert entry.status_only
    assert entry.active == (case.status != "done")


class Marked(t.NamedTuple):
    id: str
    text: str
    status: str
    active: bool
    command: str = "codex exec x"


#: The marks people write for a status (memory_schema.status.MARKS): ⏸️ pauses, 🟢 runs,
#: 🔴 failed but still watched, ❌ failed and no longer watched (like "killed"), ✅ done,
#: and a Markdown task box: ticked is done, open is an entry like any other.
MARKED = [
    Marked("pause-vs16", "- ⏸️ api: codex exec x", "paused", True),
    Marked("pause-bare", "- ⏸ api: codex exec x", "paused", True),
    Marked("pause-after-span", "- api: `codex exec x` ⏸️", "paused", True),
    Marked("pause-after-plain-command", "- api: codex exec x ⏸️", "paused", True),
    Marked("pause-after-bold-name", "- **api** ⏸️ — `codex exec x`", "paused", True),
    Marked("green", "- 🟢 api: codex exec x", "running", True),
    Marked("green-then-word", "- api: `codex exec x` — 🟢 restarted (1/3)", "restarted", True),
    Marked("red", "- 🔴 api: codex exec x", "failed", True),
    Marked("red-tail", "- api: `codex exec x` — 🔴", "failed", True),
    Marked(
        "red-in-a-quoted-task",
        "- api: codex exec 'fix 🔴 bug'",
        "running",
        True,
        "codex exec 'fix 🔴 bug'",
    ),
    Marked("cross", "- ❌ api: codex exec x", "failed", False),
    Marked("cross-tail", "- api: `codex exec x` — ❌", "failed", False),
    Marked("cross-then-word", "- ❌ api: `codex exec x` — failed (exit 1)", "failed", False),
    Marked("check", "- ✅ api: codex exec x", "done", False),
    Marked("box-ticked", "- [x] api: codex exec x", "done", False),
    Marked("box-ticked-upper", "- [X] `api` — `codex exec x`", "done", False),
    Marked("box-open", "- [ ] api: codex exec x", "running", True),
    Marked("box-open-paused", "- [ ] ⏸️ api: codex exec x", "paused", True),
    Marked("box-ticked-wins-over-pause", "- [x] ⏸️ api: codex exec x", "done", False),
    Marked(
        "status-field-mark", "- api\n  - command: `codex exec x`\n  - status: ⏸️", "paused", True
    ),
    Marked(
        "status-field-red", "- api\n  - command: `codex exec x`\n  - status: 🔴", "failed", True
    ),
    Marked("sub-heading", "### ⏸️ api\n- command: `codex exec x`", "paused", True),
]


@pytest.mark.parametrize("case", MARKED, ids=[c.id for c in MARKED])
def test_status_marks(case: Marked) -> None:
    entry = only(section(case.text))
    assert (entry.name, entry.command) == ("api", case.command)
    assert (entry.status, entry.active) == (case.status, case.active)


@pytest.mark.parametrize("mark", sorted(MARKS))
@pytest.mark.parametrize(
    "form",
    ["- {m} api: `codex exec x`", "- {m}\ufe0f api: `codex exec x`", "- api: `codex exec x` {m}"],
    ids=["before", "with-vs16", "after"],
)
def test_every_mark_of_the_table_is_read_where_marks_stand(mark: str, form: str) -> None:
    entry = only(section(form.format(m=mark)))
    assert (entry.name, entry.command) == ("api", "codex exec x")
    assert (entry.status, entry.active) == (MARKS[mark].status, not MARKS[mark].ends)


def test_status_marks_in_a_table() -> None:
    parsed = parse(
        section(
            "| Session | Command | Status |\n|---|---|---|\n"
            "| api | `codex exec a` | ⏸️ |\n"
            "| web | `codex exec b` | ❌ failed |\n"
            "| db | `codex exec c` | 🔴 |\n"
            "| ok | `codex exec d` | 🟢 running |\n"
            "| ⏸️ lead | `codex exec e` | |"
        )
    )
    assert parsed.problems == []
    assert [(e.name, e.status, e.active) for e in parsed.entries] == [
        ("api", "paused", True),
        ("web", "failed", False),
        ("db", "failed", True),
        ("ok", "running", True),
        ("lead", "paused", True),
    ]


def test_a_mark_alone_updates_an_earlier_entry() -> None:
    collection_text = section("- api: codex exec x\n- `api` — ⏸️\n- web: codex exec y\n- web — ❌")
    parsed = parse(collection_text)
    assert [(e.name, e.command, e.status, e.active) for e in parsed.entries] == [
        ("api", "codex exec x", "running", True),
        ("api", "", "paused", True),
        ("web", "codex exec y", "running", True),
        ("web", "", "failed", False),
    ]


NOT_ENTRIES = [
    "- (none)",
    "- Nothing running right now",
    "- _no active sessions_",
    "- N/A",
    "- **Note:** the api session is flaky, keep an eye on it",
    "- Monitor: `tmux -S ~/.tmux/sock capture-pane -t api -p | tail -20`",
    "- Started: 14:05",
    "- dir: ~/code/api",
    "Prose in the section: nothing else runs today.",
    "> - quoted: codex exec x",
    "```\n# comment only\nls -la\n```",
]


@pytest.mark.parametrize("text", NOT_ENTRIES)
def test_remarks_are_neither_entries_nor_problems(text: str) -> None:
    parsed = parse(section(text))
    assert parsed.entries == []
    assert parsed.problems == []


class Bad(t.NamedTuple):
    id: str
    text: str
    words: str


BAD = [
    Bad("dot", "- `web.app` — `codex exec x`", "'web.app'"),
    Bad("colon", "- a:b — codex exec x", "'a:b'"),
    Bad("hash", "- `a#b`: `codex exec x`", "'a#b'"),
    Bad("brace", "- `#{session_name}` — `codex exec x`", "'#{session_name}'"),
    Bad("dollar", "- `$api` — `codex exec x`", "'$api'"),
    Bad("semicolon", "- `a;b` — `codex exec x`", "'a;b'"),
    Bad("space", "- `my api` — `codex exec x`", "'my api'"),
    Bad("too-long", f"- `{'a' * 201}` — `codex exec x`", "cannot be used"),
    Bad("tmux-bad-name", '- tmux new -d -s "my.app" "codex exec x"', "'my.app'"),
    Bad("empty-span", "- `api` — ``", "empty command"),
    Bad("blank-span", "- `api` — ` `", "empty command"),
    Bad("nothing", "- `api`:", "empty command"),
    Bad("bold-nothing", "- **api**", "empty command"),
    Bad("single-quote", "- api: codex exec 'x", "unbalanced quotes"),
    Bad("double-quote", '- `api` — `codex exec "x`', "unbalanced quotes"),
    Bad("lone-backslash", "- api: codex exec x \\", "backslash"),
    Bad("tmux-no-name", '- `tmux -S ~/.tmux/sock new -d "codex exec x"`', "-s NAME"),
    Bad("tmux-unbalanced", "- tmux new -d -s api 'codex exec x", "unbalanced quotes"),
    Bad("prose", "- something odd happened here", "cannot read an entry"),
    Bad("fenced-tmux-bad", "```\ntmux new -d -s a.b 'codex'\n```", "'a.b'"),
    Bad("table-bad", "| Session | Command |\n|---|---|\n| `a.b` | `codex` |", "'a.b'"),
    Bad("table-empty", "| Session | Command |\n|---|---|\n| `api` | |", "empty command"),
]


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_unreadable_items_are_problems_with_their_line(case: Bad) -> None:
    parsed = parse(section(case.text))
    assert parsed.entries == []
    [problem] = parsed.problems
    assert problem.file == PATH
    expected_line = 7 + (
        2 if case.id.startswith("table") else 1 if case.id.startswith("fenced") else 0
    )
    assert problem.line == expected_line
    assert case.words in problem.message
    assert str(problem) == f"{PATH}:{problem.line}: {problem.message}"


def test_problem_lines_follow_bom_crlf_and_frontmatter() -> None:
    text = "\ufeff---\r\nk: v\r\n---\r\n## Active Long-Running Processes\r\n\r\n- a.b: codex\r\n"
    [problem] = parse(text).problems
    assert problem.line == 6


def test_entry_range_covers_sub_items_and_fences() -> None:
    text = section(
        "- **api**\n  - command: `codex exec x`\n  - dir: ~/x\n\n- web:\n  ```\n  ralphy\n  ```\n"
    )
    entries = parse(text).entries
    assert [(e.name, e.line, e.end_line) for e in entries] == [("api", 7, 9), ("web", 11, 14)]


# --------------------------------------------------------------------------- tmux commands


class Tmux(t.NamedTuple):
    id: str
    command: str
    name: str
    shell: str
    start_dir: str | None = None


TMUX = [
    Tmux(
        "seed",
        'tmux -S ~/.tmux/sock new -d -s api "cd ~/x && codex exec y"',
        "api",
        "cd ~/x && codex exec y",
        "~/x",
    ),
    Tmux("new-session", "tmux new-session -d -s api -c /srv 'codex'", "api", "codex", "/srv"),
    Tmux("attached-value", "tmux new -d -sapi -c/srv codex", "api", "codex", "/srv"),
    Tmux("grouped", "tmux new -ds api codex", "api", "codex"),
    Tmux("socket-name", "tmux -L work new -d -s api codex", "api", "codex"),
    Tmux(
        "path", "/opt/homebrew/bin/tmux -S /tmp/s new -d -s api -- codex exec", "api", "codex exec"
    ),
    Tmux("env", "tmux new -d -s api -e FOO=1 'codex'", "api", "codex"),
    Tmux(
        "continued",
        'tmux -S ~/.tmux/sock new -d -s api \\\n  "codex exec \\\n  x"',
        "api",
        "codex exec   x",  # inside double quotes the next line's indentation stays
    ),
]


@pytest.mark.parametrize("case", TMUX, ids=[c.id for c in TMUX])
def test_parse_tmux_new(case: Tmux) -> None:
    parsed = ms.parse_tmux_new(case.command)
    assert parsed is not None
    assert (parsed.name, parsed.shell_command, parsed.start_dir) == (
        case.name,
        case.shell,
        case.start_dir,
    )


def test_parse_tmux_new_rejects_and_ignores() -> None:
    assert ms.parse_tmux_new("codex exec x") is None
    assert ms.parse_tmux_new("tmux -S ~/.tmux/sock capture-pane -t new-api -p") is None
    with pytest.raises(ValueError, match="-s NAME"):
        ms.parse_tmux_new("tmux new -d codex")
    with pytest.raises(ValueError, match="quotation"):
        ms.parse_tmux_new("tmux new -d -s x 'codex")


# a hang guard: the quadratic reader took minutes here, the linear one milliseconds
@pytest.mark.timeout(120)
def test_a_line_of_many_code_spans_is_read_in_linear_time() -> None:
    """Quadratic in spans once: 8,000 spans on a line took over 10 s."""
    entry = only(section("- a: " + "`x` " * 50_000))
    assert (entry.name, entry.command) == ("a", "x")


# --------------------------------------------------------------------------- text and files


def test_decode_refuses_what_is_not_text() -> None:
    with pytest.raises(ms.NoteReadError, match="UTF-8") as info:
        decode_note(b"line one\nline two \xff\n", PATH)
    assert info.value.line == 2
    with pytest.raises(ms.NoteReadError, match="NUL") as info:
        decode_note(b"a\nb\nc\x00\n", PATH)
    assert info.value.line == 3
    with pytest.raises(ms.NoteReadError, match="literal"):
        decode_note(b"# day\\n\\n## Active Long-Running Processes\\n- a: b\\n", PATH)
    assert decode_note(b"one line that mentions \\n once\n", PATH)
    assert decode_note("\ufeffé\r\n".encode(), PATH) == "\ufeffé\r\n"


class Named(t.NamedTuple):
    name: str
    date: datetime.date | None


NAMES = [
    Named("2026-02-01.md", datetime.date(2026, 2, 1)),
    Named("2026-02-01-auth-session.md", None),
    Named("2026-02-30.md", None),
    Named("2026-2-1.md", None),
    Named("2026-02-01.MD", None),
    Named("2026-02-01.md.bak", None),
    Named("heartbeat-state.json", None),
    Named("x2026-02-01.md", None),
]


@pytest.mark.parametrize("case", NAMES, ids=[n.name for n in NAMES])
def test_only_exact_daily_note_names(case: Named) -> None:
    assert ms.note_date(pathlib.Path("/m") / case.name) == case.date


def test_daily_notes_and_note_path(tmp_path: pathlib.Path) -> None:
    for name in ("2026-02-02.md", "2026-02-01.md", "2026-02-01-dump.md", "notes.md"):
        (tmp_path / name).write_text("x\n")
    assert [p.name for p in ms.daily_notes(tmp_path)] == ["2026-02-01.md", "2026-02-02.md"]
    assert ms.note_path(tmp_path, datetime.date(2026, 2, 3)) == tmp_path / "2026-02-03.md"


def test_today_in_a_timezone() -> None:
    east = ms.today("Pacific/Kiritimati")  # UTC+14
    west = ms.today("Pacific/Pago_Pago")  # UTC-11
    assert (east - west).days in (1, 2)
    assert isinstance(ms.today(), datetime.date)


def test_collect_merges_days_oldest_first(tmp_path: pathlib.Path) -> None:
    def write(day: str, body: str) -> pathlib.Path:
        path = tmp_path / f"{day}.md"
        path.write_text(f"# {day}\n\n## Active Long-Running Processes\n\n{body}\n")
        return path

    write("2026-01-28", "- old: codex exec old")  # outside the window
    write("2026-01-30", "- api: codex exec x\n- web: ralphy --codex")
    write("2026-01-31", "- web — done\n- api: codex exec y")
    today = write("2026-02-01", "- `api` — paused")
    collection = ms.collect(tmp_path, datetime.date(2026, 2, 1), days=2)
    assert [p.name for p in collection.notes] == ["2026-01-30.md", "2026-01-31.md", "2026-02-01.md"]
    api = collection.get("api")
    web = collection.get("web")
    assert api is not None and web is not None
    assert (api.command, api.status, api.active, api.source) == (
        "codex exec y",
        "paused",
        True,
        f"{today}:5",
    )
    assert (web.command, web.active) == ("ralphy --codex", False)
    assert collection.get("old") is None
    assert collection.problems == []
    assert len(collection.all_entries) == 5


def test_collect_on_a_missing_folder_raises_a_note_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ms.NoteError, match="does not exist"):
        ms.collect(tmp_path / "missing", datetime.date(2026, 2, 1))


def test_read_note_refuses_a_symlink_out_but_follows_one_inside(tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("## Active Long-Running Processes\n\n- api: codex exec x\n")
    (folder / "2026-02-01.md").symlink_to(outside)
    with pytest.raises(ms.NoteReadError, match="symlink out"):
        ms.read_note(folder / "2026-02-01.md")
    (folder / "real.md").write_text("## Active Long-Running Processes\n\n- api: codex exec x\n")
    (folder / "2026-02-02.md").symlink_to(folder / "real.md")
    assert [e.name for e in ms.read_note(folder / "2026-02-02.md").entries] == ["api"]
