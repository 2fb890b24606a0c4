"""A Ralph PRD against git: the boxes ralphy ticked without a commit are named, with the fix.

ralphy ticks a task's box when the task fails too, and skips a ticked box on its
next run: a rerun does nothing for those tasks until their boxes are open again.
Real git repositories, no tmux.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import typing as t

import pendulum
import pytest

from heartbeat.verify import verify
from tests import helpers

COMMAND = "ralphy --codex --prd PRD.md"
TASKS = [
    "Add a greeting to README.md",
    "Write the CSV export",
    "Add retries to the API client",
    "Document the config file",
    "Remove the legacy importer",
]


def git(repo: pathlib.Path, *args: str, at: float | None = None) -> None:
    env = dict(os.environ)
    if at is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{int(at)} +0000"
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def prd(ticked: t.Collection[int]) -> str:
    return "# Tasks\n\n" + "".join(
        f"- [{'x' if i in ticked else ' '}] {task}\n" for i, task in enumerate(TASKS)
    )


class Run(t.NamedTuple):
    id: str
    #: The boxes ticked when the session started (committed), then after it.
    before: tuple[int, ...]
    after: tuple[int, ...]
    #: Subjects of the commits the session made.
    commits: tuple[str, ...]
    #: The boxes the summary names as ticked without a commit.
    named: tuple[int, ...]
    more: int = 0


RUNS = [
    Run("all-failed-no-commit", (0,), (0, 1, 2), (), (1, 2)),
    Run("one-failed-one-committed", (), (1, 2), ("Add retries to the API client",), (1,)),
    Run("commit-says-it-in-other-words", (), (1, 2), ("feat: retries for API client calls",), (1,)),
    Run("many-named-a-few", (), (0, 1, 2, 3, 4), (), (0, 1, 2), more=2),
]


@pytest.mark.parametrize("run", RUNS, ids=[r.id for r in RUNS])
def test_ticked_without_a_commit_are_named_with_the_fix(tmp_path: pathlib.Path, run: Run) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    now = pendulum.now().timestamp()
    (repo / "PRD.md").write_text(prd(run.before))
    git(repo, "add", "PRD.md")
    git(repo, "commit", "-qm", "prd", at=now - 100)
    started = now - 60
    for number, subject in enumerate(run.commits):
        (repo / f"work{number}.txt").write_text(subject)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", subject)
    (repo / "PRD.md").write_text(prd(run.after))

    result = verify(str(repo), COMMAND, started)

    assert result.error is None
    assert result.ticked_without_commit[: len(run.named)] == [TASKS[i] for i in run.named]
    summary = result.summary()
    for index in run.named:
        assert f"'{TASKS[index]}'" in summary
    for index in set(run.after) - set(run.named) - set(run.before) if not run.more else ():
        assert TASKS[index] not in summary
    if run.more:
        assert f"and {run.more} more" in summary
    assert "(`- [ ]`) in PRD.md so ralphy runs" in summary
    assert result.to_json()["ticked_without_commit"] == result.ticked_without_commit


def test_the_counting_words_stay(tmp_path: pathlib.Path) -> None:
    """`heartbeat verify --json` readers match these phrases; the names extend them."""
    repo = helpers.git_repo(tmp_path / "repo")
    (repo / "PRD.md").write_text(prd((1,)))
    result = verify(str(repo), COMMAND, pendulum.now().timestamp() - 60)
    [flag] = result.flags
    assert flag.startswith(
        "the PRD says 1 task(s) done since the start, git shows no commit: "
        "ralphy ticks a task even when it failed — ticked without a commit: "
        "'Write the CSV export'; untick it (`- [ ]`) in PRD.md so ralphy runs it again"
    )


def test_every_tick_backed_by_a_commit_is_not_flagged(tmp_path: pathlib.Path) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    now = pendulum.now().timestamp()
    (repo / "PRD.md").write_text(prd(()))
    git(repo, "add", "PRD.md")
    git(repo, "commit", "-qm", "prd", at=now - 100)
    (repo / "x.txt").write_text("x")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "greeting")
    (repo / "PRD.md").write_text(prd((0,)))
    result = verify(str(repo), COMMAND, now - 60)
    assert (result.flags, result.ticked_without_commit) == ([], [])
    assert result.summary().endswith("PRD.md: 1/5 ticked")
