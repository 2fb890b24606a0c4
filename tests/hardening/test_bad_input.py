"""Bad input in the notes: each is a clear problem at file:line, exit 1, no write, no run.

Every case runs the installed ``heartbeat`` in a subprocess, as cron does,
with a time bound: ``notes list --json`` and ``check --json``. The check's
socket points at a path where no server runs, so a single restart would
create it: its absence proves that nothing was run.
"""

from __future__ import annotations

import os
import pathlib
import typing as t

import pytest

from tests import helpers
from tests.hardening import support

if t.TYPE_CHECKING:
    from collections.abc import Callable

HEAD = "# {day}\n\n## Active Long-Running Processes\n\n"


def text(body: str) -> Callable[[pathlib.Path], None]:
    def make(note: pathlib.Path) -> None:
        note.write_text(HEAD.format(day=note.stem) + body, encoding="utf-8", newline="")

    return make


def raw(body: bytes) -> Callable[[pathlib.Path], None]:
    def make(note: pathlib.Path) -> None:
        note.write_bytes(HEAD.format(day=note.stem).encode() + body)

    return make


def fifo(note: pathlib.Path) -> None:
    os.mkfifo(note)


def folder(note: pathlib.Path) -> None:
    note.mkdir()
    (note / "inside.md").write_text("- a: `sleep 1`\n")


def symlink_out(note: pathlib.Path) -> None:
    outside = note.parent.parent / "outside.md"
    outside.write_text(HEAD.format(day=note.stem) + "- a: `sleep 1`\n")
    note.symlink_to(outside)


def dangling(note: pathlib.Path) -> None:
    note.symlink_to(note.parent / "gone.md")


def loop(note: pathlib.Path) -> None:
    note.symlink_to(note)


def huge(note: pathlib.Path) -> None:
    """50 MB: a real file of text (not sparse), an entry at its top."""
    with note.open("wb") as handle:
        handle.write(HEAD.format(day=note.stem).encode() + b"- a: `sleep 1`\n\n")
        line = b"Some prose the assistant wrote about its day, again and again.\n"
        handle.write(line * (50 * 1024 * 1024 // len(line)))


def many_entries(note: pathlib.Path) -> None:
    body = "".join(f"- s{i}: `sleep {i}`\n" for i in range(100_000))
    note.write_text(HEAD.format(day=note.stem) + body)


def many_sessions(note: pathlib.Path) -> None:
    """1,000 well-formed entries: too many sessions for one check, line 205 is the 201st."""
    body = "".join(f"- s{i}: `sleep {i}`\n" for i in range(1_000))
    note.write_text(HEAD.format(day=note.stem) + body)


def one_line(note: pathlib.Path) -> None:
    body = HEAD.format(day=note.stem) + "- a: `sleep 1`\n- b: `sleep 2`\n"
    note.write_text(body.replace("\n", "\\n"))


def cr_only(note: pathlib.Path) -> None:
    body = HEAD.format(day=note.stem) + "- a: `sleep 1`\n"
    note.write_bytes(body.replace("\n", "\r").encode())


def utf16(note: pathlib.Path) -> None:
    note.write_bytes((HEAD.format(day=note.stem) + "- a: `sleep 1`\n").encode("utf-16"))


def long_command(note: pathlib.Path) -> None:
    """One command of 4 MB on one line (under the size cap)."""
    note.write_text(HEAD.format(day=note.stem) + "- a: `echo " + "x" * 4_000_000 + "`\n")


def long_continued(note: pathlib.Path) -> None:
    """One fenced tmux command of 1 MB continued over many lines with backslashes."""
    body = '```\ntmux -S ~/.tmux/sock new -d -s a "echo ' + ("x" * 60 + " \\\n") * 15_000
    note.write_text(HEAD.format(day=note.stem) + body + '"\n```\n')


class Bad(t.NamedTuple):
    id: str
    make: Callable[[pathlib.Path], object]
    line: int
    message: str
    #: Listing is fine (it only reads); the check refuses to act.
    check_only: bool = False


BAD = [
    Bad("invalid-utf8", raw(b"- `a` \xff\xfe: `sleep 1`\n"), 5, "not valid UTF-8"),
    Bad("utf16", utf16, 1, "not valid UTF-8"),
    Bad("nul-bytes", raw(b"- a: `sleep\x00 1`\n"), 5, "NUL"),
    Bad("50MB", huge, 1, "bytes, over"),
    Bad("100000-entries", many_entries, 20_001, "lines, over"),
    Bad("1000-active-sessions", many_sessions, 205, "active sessions", check_only=True),
    Bad("literal-backslash-n", one_line, 1, "literal \\n"),
    Bad("cr-only-line-ends", cr_only, 1, "CR alone"),
    Bad("unbalanced-single-quote", text("- a: `sh -c 'sleep 1`\n"), 5, "unbalanced quotes"),
    Bad(
        "unbalanced-double-quote",
        text('- `a` — running\n  - command: `codex exec "fix it`\n'),
        5,
        "unbalanced quotes",
    ),
    Bad("name-dot", text("- `a.b`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-colon", text("- `x:1` — `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-format", text("- `#{pane_id}`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-braces", text("- `a{b}`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-dollar", text("- `$HOME`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-semicolon", text("- `a;b`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-space", text("- `a b`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-exact-target", text("- `=x`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-non-ascii", text("- `café`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-bidi", text("- `a\u202eb`: `sleep 1`\n"), 5, "cannot be used"),
    Bad("name-300-chars", text("- `" + "a" * 300 + "`: `sleep 1`\n"), 5, "cannot be used"),
    Bad(
        "tmux-name-dot",
        text('- `tmux -S ~/.tmux/sock new -d -s a.b "sleep 1"`\n'),
        5,
        "cannot be used",
    ),
    Bad(
        "tmux-name-format-fenced",
        text("```\ntmux -S ~/.tmux/sock new -d -s '#{pane_id}' \"sleep 1\"\n```\n"),
        6,
        "cannot be used",
    ),
    Bad("tmux-without-name", text('- `tmux -S ~/.tmux/sock new -d "sleep 1"`\n'), 5, "-s NAME"),
    Bad(
        "duplicate-names",
        text("- api: `codex exec 'one'`\n- api: `codex exec 'two'`\n"),
        6,
        "twice",
    ),
    Bad("empty-command", text("- a: ``\n"), 5, "empty command"),
    Bad("empty-key-value-command", text("- `a` — running\n  - command:\n"), 5, "empty command"),
    Bad(
        "table-missing-cells",
        text("| Session | Command |\n|---|---|\n| a |\n"),
        7,
        "empty command",
    ),
    Bad(
        "table-missing-name",
        text("| Session | Command |\n|---|---|\n|  | `sleep 2` |\n"),
        7,
        "no session name",
    ),
    Bad("status-without-command", text("- `a` — running\n"), 5, "no command"),
    Bad(
        "broken-frontmatter",
        lambda note: note.write_text("---\nowner: [me\n---\n# note\n"),
        1,
        "not valid YAML",
    ),
    Bad("symlink-out-of-folder", symlink_out, 1, "symlink out of the notes folder"),
    Bad("dangling-symlink", dangling, 1, "does not exist"),
    Bad("symlink-loop", loop, 1, "cannot be read"),
    Bad("fifo", fifo, 1, "not a regular file"),
    Bad("folder-named-like-a-note", folder, 1, "is a folder"),
    Bad("4MB-command", long_command, 5, "tmux cannot start", check_only=True),
    Bad("1MB-continued-command", long_continued, 6, "tmux cannot start", check_only=True),
    Bad("20KB-command", text("- a: `echo " + "y" * 20_000 + "`\n"), 5, "bytes long", True),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_bad_note_is_a_clear_problem_and_nothing_runs(
    case: Bad, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    note = notes_dir / f"{helpers.today()}.md"
    case.make(note)
    before = support.snapshot(note)
    listing = sorted(os.listdir(notes_dir))
    socket = pathlib.Path(os.environ["HEARTBEAT_SOCKET"])
    try:
        commands = [["check", "--json"]]
        if not case.check_only:
            commands.insert(0, ["notes", "list", "--json"])
        for command in commands:
            run = support.run_cli(*command)
            assert run.code == 1, (command, run.stdout[-2000:], run.stderr[-2000:])
            report = run.json
            where = [
                (pathlib.Path(p["file"]).name, p["line"], p["message"]) for p in report["problems"]
            ]
            assert any(
                name == note.name and line == case.line and case.message in message
                for name, line, message in where
            ), where
            assert all(message for _, _, message in where)
            assert not report.get("sessions"), report.get("sessions")
            assert support.snapshot(note) == before
            assert sorted(os.listdir(notes_dir)) == listing
            assert not os.path.lexists(socket), "a session was started"
    finally:
        support.kill_server(socket)


class Readable(t.NamedTuple):
    id: str
    make: Callable[[pathlib.Path], object]
    names: list[str]


#: Inputs that look wrong but are Markdown: read as a renderer would, no problem, no guess.
READABLE = [
    Readable(
        "heading-inside-a-fence",
        lambda note: note.write_text(
            f"# {note.stem}\n\n```\n## Active Long-Running Processes\n- a: `sleep 1`\n```\n"
        ),
        [],
    ),
    Readable(
        "crlf-mixed-with-lf",
        lambda note: note.write_bytes(
            HEAD.format(day=note.stem).replace("\n", "\r\n").encode()
            + b"- a: `sleep 1`\r\n- b: `sleep 2`\n"
        ),
        ["a", "b"],
    ),
    Readable(
        "bom",
        lambda note: note.write_bytes(
            b"\xef\xbb\xbf" + HEAD.format(day=note.stem).encode() + b"- a: `sleep 1`\n"
        ),
        ["a"],
    ),
    Readable(
        "same-entry-twice",
        text("- a: `sleep 1`\n- a: `sleep 1`\n"),
        ["a"],
    ),
    Readable("empty-note", lambda note: note.write_text(""), []),
    Readable(
        "dashes-that-are-not-frontmatter",
        lambda note: note.write_text(
            "---\n---\n" + HEAD.format(day=note.stem) + "- a: `sleep 1`\n"
        ),
        ["a"],
    ),
]


@pytest.mark.parametrize("case", READABLE, ids=[c.id for c in READABLE])
def test_odd_but_valid_markdown_is_read_as_written(case: Readable, notes_dir: pathlib.Path) -> None:
    note = notes_dir / f"{helpers.today()}.md"
    case.make(note)
    run = support.run_cli("notes", "list", "--json")
    assert run.code == 0, run.stderr
    report = run.json
    assert report["problems"] == []
    assert [e["name"] for e in report["entries"]] == case.names


class Usage(t.NamedTuple):
    id: str
    args: list[str]
    env: dict[str, str]
    message: str


USAGE = [
    Usage("bad-date", ["check", "--date", "2026-13-45"], {}, "YYYY-MM-DD"),
    Usage("notes-dir-missing", ["check"], {"HEARTBEAT_NOTES_DIR": "/nonexistent/memory"}, "exist"),
    Usage("notes-dir-is-a-file", ["notes", "list"], {"HEARTBEAT_NOTES_DIR": "/etc/hostname"}, ""),
    Usage("config-not-toml", ["check"], {"HEARTBEAT_CONFIG": "{config}"}, "TOML"),
    Usage("notify-unbalanced", ["check"], {"HEARTBEAT_NOTIFY": "notify 'oops"}, "quote"),
]


@pytest.mark.parametrize("case", USAGE, ids=[c.id for c in USAGE])
def test_usage_errors_exit_2_with_a_message(case: Usage, tmp_path: pathlib.Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[heartbeat\nnotes_dir = \n")
    env = {**os.environ, **{k: v.format(config=config) for k, v in case.env.items()}}
    run = support.run_cli(*case.args, env=env)
    assert run.code == 2, (run.stdout, run.stderr)
    assert case.message in run.stderr
    assert run.stderr.strip()


class Pathological(t.NamedTuple):
    id: str
    body: str


#: Markdown shaped to find quadratic paths in a reader: each must be answered in bounded time.
PATHOLOGICAL = [
    Pathological(
        "10000-sections",
        "".join("## Active Long-Running Processes\n- a: `sleep 1`\n" for _ in range(9_990)),
    ),
    Pathological("nested-1000-deep", "".join("  " * i + "- a\n" for i in range(1_000))),
    Pathological("blockquote-100000-deep", ">" * 100_000 + " - a: `sleep 1`\n"),
    Pathological("brackets-100000", "- a: " + "[" * 100_000 + "\n"),
    Pathological("emphasis-100000", "- a: " + "*_" * 50_000 + "\n"),
    Pathological("table-20000-columns", "| Session | Command |" + " x |" * 20_000 + "\n"),
    Pathological("fences-9000", "```\n" * 9_000),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", PATHOLOGICAL, ids=[c.id for c in PATHOLOGICAL])
def test_pathological_markdown_is_answered_in_bounded_time(
    case: Pathological, notes_dir: pathlib.Path
) -> None:
    note = notes_dir / f"{helpers.today()}.md"
    note.write_text(HEAD.format(day=note.stem) + case.body)
    run = support.run_cli("notes", "list", "--json")
    assert run.code in (0, 1)
    assert isinstance(run.json["problems"], list)


def test_a_line_of_many_code_spans_is_answered_in_bounded_time(notes_dir: pathlib.Path) -> None:
    note = notes_dir / f"{helpers.today()}.md"
    note.write_text(HEAD.format(day=note.stem) + "- a: " + "`x` " * 8_000 + "\n")
    run = support.run_cli("notes", "list", "--json", timeout=10)
    assert run.code in (0, 1)


def test_thousands_of_repeated_sections_are_answered_in_bounded_time(
    notes_dir: pathlib.Path,
) -> None:
    """Each block used to look up its section by scanning every heading (quadratic)."""
    note = notes_dir / f"{helpers.today()}.md"
    block = "## Active Long-Running Processes\n- a: `sleep 1`\n"
    note.write_text(f"# {note.stem}\n\n" + block * 9_000)
    run = support.run_cli("notes", "list", "--json", timeout=15)
    assert run.code == 0
    assert [e["name"] for e in run.json["entries"]] == ["a"]
    assert run.json["entries"][0]["source"].endswith(f":{3 + 2 * 8_999 + 1}")
