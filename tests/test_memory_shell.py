"""Logged commands are read as the user's shell read them (POSIX sh, not shlex).

The seed logs `tmux ... new -d -s NAME "cd DIR && PATH=/opt/homebrew/bin:\\$PATH
codex exec ...; EXIT_CODE=\\$?; ..."`: inside double quotes the shell turns `\\$`
into `$`. A reader that keeps `\\$` re-runs a command whose PATH is broken and
whose hook prints `EXITED: $EXIT_CODE`. These tests run what the reader made of
the seed's own commands in a real /bin/sh, and compare the word splitting with
/bin/sh on generated strings.
"""

from __future__ import annotations

import os
import pathlib
import stat
import subprocess
import typing as t

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import memory_schema as ms
from memory_schema.shell import Token, join_continuations, split_shell, tokens

SAMPLES = pathlib.Path(__file__).parent / "notes_samples"


# --------------------------------------------------------------------------- words


class Words(t.NamedTuple):
    id: str
    command: str
    words: list[str]


WORDS = [
    Words("dq-dollar", '"a\\$b"', ["a$b"]),
    Words("dq-backtick", '"a\\`b"', ["a`b"]),
    Words("dq-quote", '"a\\"b"', ['a"b']),
    Words("dq-backslash", '"a\\\\b"', ["a\\b"]),
    Words("dq-other-escape-kept", '"a\\xb"', ["a\\xb"]),
    Words("dq-continuation", '"a\\\nb"', ["ab"]),
    Words("sq-literal", "'a\\$b \\\n c'", ["a\\$b \\\n c"]),
    Words("bare-escape", "a\\ b \\$c", ["a b", "$c"]),
    Words("bare-continuation-in-word", "ab\\\ncd", ["abcd"]),
    Words("bare-continuation-between", "a \\\n  b", ["a", "b"]),
    Words("comment", "a #b c\nd", ["a", "\n", "d"]),
    Words("hash-in-word", "a#b '#c' \"#d\"", ["a#b", "#c", "#d"]),
    Words("operators", "a;b&&c|d", ["a", ";", "b", "&&", "c", "|", "d"]),
    Words("substitution-with-quotes", '"$(echo "a b")" x', ['$(echo "a b")', "x"]),
    Words("backticks", "`echo a b` x", ["`echo a b`", "x"]),
    Words("parameter", '${x:-"y z"}', ['${x:-"y z"}']),
    Words("arithmetic", "$((1 + (2)))", ["$((1 + (2)))"]),
    Words("lone-dollar", 'a$ "$" $', ["a$", "$", "$"]),
    Words("empty-quotes", "'' \"\"", ["", ""]),
]


@pytest.mark.parametrize("case", WORDS, ids=[w.id for w in WORDS])
def test_words_as_sh_reads_them(case: Words) -> None:
    assert split_shell(case.command) == case.words


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("'a", "No closing quotation"),
        ('"a', "No closing quotation"),
        ('"a\\', "No closing quotation"),
        ("$(a", "No closing quotation"),
        ("`a", "No closing quotation"),
        ("a \\", "No escaped character"),
    ],
)
def test_unclosed_words_raise(command: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        split_shell(command)


def test_split_shell_is_linear_on_a_huge_command() -> None:
    """Word building character by character was quadratic: a 4 MB command took minutes."""
    words = split_shell("codex exec '" + "x" * 4_000_000 + "' \"" + "y" * 1_000_000 + '"')
    assert [len(w) for w in words] == [5, 4, 4_000_000, 1_000_000]


#: Pieces /bin/sh reads without expanding anything: `$a/` expands to itself
#: (a='$a' in the environment) and `$` before any other piece is literal; no
#: globs, no operators, no tilde; `$#` and `$$` are left out.
PIECES = [" ", "\t", "'", '"', "\\", "%", "+", "$a/", "\\$", "\\\n", "#", "% +", '\\"', "\\\\"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_split_shell_agrees_with_bin_sh(text: str) -> None:
    """Word splitting, quoting, escapes, continuations and comments, as /bin/sh does them."""
    joined = text.replace("\\\n", "")
    assume("$#" not in joined and "$$" not in joined)
    try:
        found = tokens(text)
    except ValueError as error:
        assume("escaped" not in str(error))  # a final backslash would continue sh's next line
        expected: list[str] | None = None
    else:
        ends = next((i for i, token in enumerate(found) if token.operator), len(found))
        expected = [token.text for token in found[:ends]]  # `set --` ends at a newline
    script = f'set -- {text}\nfor w in "$@"; do printf \'%s\\0\' "$w"; done\n'
    done = subprocess.run(
        ["/bin/sh", "-c", script],
        env={"PATH": "/usr/bin:/bin", "a": "$a"},
        capture_output=True,
        timeout=30,
        check=False,
    )
    if expected is None:
        assert done.returncode != 0, f"sh read {text!r} without complaint: {done.stdout!r}"
        return
    assert done.returncode == 0, done.stderr
    words = done.stdout.decode().split("\0")[:-1]
    assert expected == words


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "\n", "  \\\n  ", "a"]), max_size=16).map("".join))
def test_joining_continuations_never_changes_the_words(text: str) -> None:
    """The one-line form of a logged command (Entry.command) reads as the lines did."""
    try:
        found = tokens(text)
    except ValueError:
        return
    assert trim_newlines(tokens(join_continuations(text))) == trim_newlines(found)


def trim_newlines(found: list[Token]) -> list[tuple[str, bool]]:
    """Tokens (as words, not where they stand) without the line breaks at either end
    (a trimmed command has none)."""
    words = [(token.text, token.operator) for token in found]
    start, end = 0, len(words)
    while start < end and words[start] == ("\n", True):
        start += 1
    while end > start and words[end - 1] == ("\n", True):
        end -= 1
    return words[start:end]


class Joined(t.NamedTuple):
    id: str
    command: str
    joined: str


JOINED = [
    Joined("outside-quotes", 'tmux new -s x \\\n  "codex"', 'tmux new -s x "codex"'),
    Joined("inside-word", "tmux new -s x\\\n  y", "tmux new -s x y"),
    Joined("in-double-quotes-keeps-indent", '"a \\\n  b"', '"a   b"'),
    Joined("in-single-quotes-kept", "'a \\\nb'", "'a \\\nb'"),
    Joined("in-comment-kept", "a # b \\\nc", "a # b \\\nc"),
    Joined("escaped-backslash-no-join", "a \\\\\nb", "a \\\\\nb"),
    Joined("crlf", "a \\\r\n  b", "a b"),
]


@pytest.mark.parametrize("case", JOINED, ids=[j.id for j in JOINED])
def test_join_continuations(case: Joined) -> None:
    joined = join_continuations(case.command)
    assert joined == case.joined
    try:
        found = tokens(case.command)
    except ValueError:
        return
    assert trim_newlines(tokens(joined)) == trim_newlines(found)  # the same words


# --------------------------------------------------------------------------- tmux lines


class Tmux(t.NamedTuple):
    id: str
    command: str
    name: str
    shell: str
    start_dir: str | None = None


TMUX = [
    Tmux(
        "dq-escapes",
        'tmux new -d -s a "PATH=/x:\\$PATH c; echo \\$?"',
        "a",
        "PATH=/x:$PATH c; echo $?",
    ),
    Tmux("and-attach", "tmux new -d -s a 'codex' && tmux attach -t a", "a", "codex"),
    Tmux("semicolon", "tmux new -d -s a codex exec; echo started", "a", "codex exec"),
    Tmux("tmux-separator", "tmux new -d -s a codex \\; set -g mouse on", "a", "codex"),
    Tmux("comment", 'tmux new -d -s a "codex"  # by hand', "a", "codex"),
    Tmux("assignment-first", "TMUX= tmux new -d -s a codex", "a", "codex"),
    Tmux("c-flag", "tmux new -d -s a -c ~/code/x codex", "a", "codex", "~/code/x"),
    Tmux(
        "cd-quoted",
        "tmux new -d -s a \"cd 'my dir' && codex\"",
        "a",
        "cd 'my dir' && codex",
        "my dir",
    ),
    Tmux(
        "cd-escaped-space",
        "tmux new -d -s a 'cd my\\ dir && codex'",
        "a",
        "cd my\\ dir && codex",
        "my dir",
    ),
    Tmux("cd-without-and-is-no-dir", "tmux new -d -s a 'cd x; codex'", "a", "cd x; codex"),
]


@pytest.mark.parametrize("case", TMUX, ids=[c.id for c in TMUX])
def test_parse_tmux_new_as_sh_reads_it(case: Tmux) -> None:
    parsed = ms.parse_tmux_new(case.command)
    assert parsed is not None
    assert (parsed.name, parsed.shell_command, parsed.start_dir) == (
        case.name,
        case.shell,
        case.start_dir,
    )


def test_a_template_placeholder_is_named() -> None:
    with pytest.raises(ValueError, match="placeholder <name>"):
        ms.parse_tmux_new('tmux -S ~/.tmux/sock new -d -s <name> "cd <project-dir> && codex"')


def test_the_folder_of_tmux_new_c_is_the_entry_folder() -> None:
    """An entry without a dir, started with `tmux new -c DIR`, is in DIR (issue 11)."""
    text = (
        "## Active Long-Running Processes\n\n- `tmux new -d -s api -c ~/code/api 'codex exec x'`\n"
    )
    [entry] = ms.parse_note(text, pathlib.Path("/n/2026-02-01.md")).entries
    assert (entry.name, entry.dir, entry.tmux_command) == ("api", "~/code/api", True)


# --------------------------------------------------------------------------- the seed's commands

STAND_INS = {
    # Each records how it was called (its PATH, its arguments) and prints nothing.
    "codex": 'printf "%s\\n" "$PATH" "$*" > "$HOME/codex.call"\n',
    "ralphy": 'printf "%s\\n" "$PATH" "$*" > "$HOME/ralphy.call"\n',
    "openclaw": 'printf "%s\\n" "$*" > "$HOME/openclaw.call"\n',
    "sleep": "exit 0\n",  # the seed's `sleep 999999` tail, cut short
}


@pytest.fixture
def stand_ins(tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, body in STAND_INS.items():
        path = folder / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return folder


def seed_entries() -> list[ms.Entry]:
    path = SAMPLES / "seed-commands.md"
    parsed = ms.parse_note(path.read_text(encoding="utf-8"), path)
    assert parsed.problems == []
    return parsed.entries


def test_the_seeds_commands_are_entries_one_per_tmux_line() -> None:
    entries = seed_entries()
    names = ["auth-fix", "auth-ralph", "auth-parallel"]
    assert [e.name for e in entries] == [*names, *(f"{n}-2" for n in names)]
    assert [e.line for e in entries] == [8, 16, 24, 36, 41, 46]
    assert [e.end_line - e.line for e in entries] == [4] * 6
    assert all(e.dir == "~/code/proj" and e.tmux_command and e.active for e in entries)


@pytest.mark.parametrize("index", range(6))
def test_the_seeds_command_runs_in_sh_as_the_users_shell_ran_it(
    index: int, stand_ins: pathlib.Path
) -> None:
    entry = seed_entries()[index]
    parsed = ms.parse_tmux_new(entry.command)
    assert parsed is not None
    home = pathlib.Path(os.environ["HOME"])
    (home / "code" / "proj").mkdir(parents=True, exist_ok=True)
    path = f"{stand_ins}:/usr/bin:/bin"
    done = subprocess.run(
        ["/bin/sh", "-c", parsed.shell_command],
        env={"PATH": path, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "EXITED: 0\n", "")
    agent = "codex" if "codex exec" in entry.command else "ralphy"
    agent_path, agent_args = (home / f"{agent}.call").read_text().splitlines()
    assert agent_path == f"/opt/homebrew/bin:{path}"  # $PATH expanded, not kept as \$PATH
    assert agent_args == (
        "exec --full-auto Fix the login redirect"
        if agent == "codex"
        else "--codex --parallel --prd PRD.md"
        if "parallel" in entry.name
        else "--codex --prd PRD.md"
    )
    [hook] = (home / "openclaw.call").read_text().splitlines()
    # The seed single-quotes its message, so the shell never expanded $EXIT_CODE there.
    assert hook.startswith("system event --text ")
    assert "finished (exit $EXIT_CODE)" in hook
    assert hook.endswith("--mode now")
