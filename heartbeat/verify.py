"""Post-completion verification through git, not through the agent's checklist.

In the session's folder: commits since the session started, ``git log
--oneline -3``, ``git diff --stat``; for a Ralph PRD, ticked boxes against
commits ("the PRD says done, git shows nothing" is flagged). ``verify`` is what a
check runs when a session finishes; ``verify_session`` is `heartbeat verify NAME`,
the same on demand.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import typing as t

import memory_schema as ms
from heartbeat import notes, proc, session
from heartbeat.tmux import Tmux

if t.TYPE_CHECKING:
    import datetime

    import pendulum

    from heartbeat.config import Settings

GIT_TIMEOUT = 20.0
BOX_RE = re.compile(r"^\s*[-*+]\s+\[( |x|X)\]\s+", re.M)
#: A task box and its text.
BOX_TEXT_RE = re.compile(r"^\s*[-*+]\s+\[( |x|X)\]\s+(.*?)\s*$", re.M)
#: How many ticked-without-a-commit boxes the summary names (the rest are counted).
NAMED_BOXES = 3


@dataclasses.dataclass
class Verification:
    dir: str | None
    is_repo: bool = False
    commits_since_start: int = 0
    log: list[str] = dataclasses.field(default_factory=list)
    diff_stat: str = ""
    #: New files git does not track yet (codex's workspace-write sandbox cannot commit).
    untracked: list[str] = dataclasses.field(default_factory=list)
    prd: str | None = None
    prd_ticked: int = 0
    prd_total: int = 0
    #: The texts of boxes ticked since the start that no commit backs (ralphy ticks a task
    #: even when it failed): with no commit at all, every one; else those no commit names.
    ticked_without_commit: list[str] = dataclasses.field(default_factory=list)
    flags: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None

    @property
    def changed_nothing(self) -> bool:
        return (
            self.is_repo
            and self.commits_since_start == 0
            and not self.diff_stat
            and not self.untracked
        )

    def summary(self) -> str:
        if self.error:
            return self.error
        parts = [f"{self.commits_since_start} commit(s) since start"]
        if self.diff_stat:
            parts.append("uncommitted changes: " + self.diff_stat.splitlines()[-1].strip())
        if self.untracked:
            parts.append(f"{len(self.untracked)} new file(s) not committed")
        if self.prd:
            parts.append(f"{self.prd}: {self.prd_ticked}/{self.prd_total} ticked")
        parts.extend(self.flags)
        return "; ".join(parts)

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["summary"] = self.summary()
        return data


class _GitError(Exception):
    pass


def _git(folder: pathlib.Path, *args: str) -> proc.Result:
    """Run git in *folder*; _GitError when git cannot be run or times out."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    result = proc.run(["git", "-C", str(folder), *args], timeout=GIT_TIMEOUT, env=env)
    if result.error is not None:
        raise _GitError(result.reason())
    return result


def prd_file(command: str) -> str | None:
    """The PRD a command works from: ``--prd FILE``, or PRD.md for ralphy."""
    try:
        argv = ms.split_shell(command)
    except ValueError:
        return None
    for index, arg in enumerate(argv):
        if arg == "--prd" and index + 1 < len(argv):
            return argv[index + 1].rstrip(";")
        if arg.startswith("--prd="):
            return arg.split("=", 1)[1]
    if any(os.path.basename(a) == "ralphy" for a in argv):
        return "PRD.md"
    return None


def _ticked(text: str) -> list[str]:
    """The texts of the ticked boxes of a PRD, in order."""
    return [task for box, task in BOX_TEXT_RE.findall(text) if box != " "]


def _ticked_at_start(folder: pathlib.Path, prd: str, started: float) -> list[str]:
    """Boxes already ticked in the PRD as committed before the session started."""
    base = _git(folder, "rev-list", "-1", f"--before=@{int(started)}", "HEAD")
    commit = base.stdout.strip()
    if base.returncode != 0 or not commit:
        return []
    shown = _git(folder, "show", f"{commit}:{prd}")
    if shown.returncode != 0:
        return []
    return _ticked(shown.stdout)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 4}


def _named_by(task: str, subjects: list[str]) -> bool:
    """Whether a commit subject names the task: its text, or most of its longer words."""
    flat = " ".join(re.findall(r"[a-z0-9]+", task.lower()))
    words = _words(task)
    for subject in subjects:
        other = " ".join(re.findall(r"[a-z0-9]+", subject.lower()))
        if flat and (flat in other or (len(other) >= 8 and other in flat)):
            return True
        if words and len(words & _words(subject)) * 5 >= len(words) * 3:
            return True
    return False


def _boxes(tasks: list[str]) -> str:
    """A few box texts, quoted, and how many more."""
    named = ", ".join(
        f"'{task[:60]}{'…' if len(task) > 60 else ''}'" for task in tasks[:NAMED_BOXES]
    )
    more = len(tasks) - NAMED_BOXES
    return f"{named} and {more} more" if more > 0 else named


def verify(directory: str | None, command: str, started: float | None) -> Verification:
    """Verify a finished session's work in *directory*; never raises."""
    result = Verification(dir=directory)
    if not directory:
        result.error = "no folder is known for this session; add `dir` to its entry to verify it"
        return result
    folder = pathlib.Path(os.path.expanduser(directory))
    if not folder.is_dir():
        result.error = f"the session's folder {folder} does not exist"
        return result
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            result.error = f"{folder} is not a git repository; nothing to verify against"
            return result
        result.is_repo = True
        log = _git(folder, "log", "--oneline", "-3")
        result.log = log.stdout.splitlines() if log.returncode == 0 else []
        if started is not None and result.log:
            count = _git(folder, "rev-list", "--count", f"--since=@{int(started)}", "HEAD")
            if count.returncode == 0 and count.stdout.strip().isdigit():
                result.commits_since_start = int(count.stdout.strip())
        elif started is None:
            result.commits_since_start = len(result.log)
        diff = _git(folder, "diff", "--stat", "HEAD" if result.log else "--cached")
        result.diff_stat = diff.stdout.strip() if diff.returncode == 0 else ""
        new = _git(folder, "ls-files", "--others", "--exclude-standard")
        result.untracked = new.stdout.splitlines()[:50] if new.returncode == 0 else []
    except _GitError as error:
        result.error = f"git could not be run in {folder}: {error}"
        return result
    prd = prd_file(command)
    if prd:
        path = folder / prd
        try:
            text = path.read_text("utf-8", errors="replace")
        except OSError:
            text = None
        if text is not None:
            try:
                _check_prd(result, folder, prd, text, started)
            except _GitError as error:
                result.flags.append(f"the PRD's boxes could not be checked: {error}")
    return result


def _check_prd(
    result: Verification, folder: pathlib.Path, prd: str, text: str, started: float | None
) -> None:
    """Count the PRD's boxes and flag those ticked since the start that no commit backs.

    Names the boxes (a few) with the fix: ralphy skips a ticked box, so a rerun
    does nothing for a task it ticked when it failed until the box is open again.
    """
    boxes = BOX_RE.findall(text)
    result.prd = prd
    result.prd_total = len(boxes)
    result.prd_ticked = sum(1 for b in boxes if b != " ")
    new = _ticked(text)
    for task in _ticked_at_start(folder, prd, started) if started is not None else []:
        if task in new:
            new.remove(task)
    commits = result.commits_since_start
    if not new or len(new) <= commits:
        return
    if commits == 0:
        result.ticked_without_commit = new
        flag = (
            f"the PRD says {len(new)} task(s) done since the start, git shows no "
            "commit: ralphy ticks a task even when it failed"
        )
    else:
        log = _git(folder, "log", "--format=%s", f"--since=@{int(started or 0)}", "HEAD")
        subjects = log.stdout.splitlines() if log.returncode == 0 else []
        result.ticked_without_commit = [task for task in new if not _named_by(task, subjects)]
        flag = f"{len(new)} task(s) ticked since the start but only {commits} commit(s)"
    unbacked = result.ticked_without_commit
    if unbacked:
        which = "ticked without a commit" if commits == 0 else "no commit names"
        them = "it" if len(unbacked) == 1 else "them"
        flag += (
            f" — {which}: {_boxes(unbacked)}; untick {them} (`- [ ]`) in {prd} so ralphy "
            f"runs {them} again, or rerun {'that task' if len(unbacked) == 1 else 'those tasks'}"
        )
    result.flags.append(flag)


def verify_session(
    settings: Settings, date: datetime.date, now: pendulum.DateTime, name: str
) -> Verification:
    """Verify *name*'s folder; the start time is the tmux session's, else the note's."""
    collection = notes.collect(settings, date)
    entry = collection.get(name)
    if entry is None:
        raise ms.EntryNotFound(name, f"the notes of {date.isoformat()} and the days before")
    started: float | None = None
    probe = Tmux(settings.socket).probe({name}, lines=1)
    panes = probe.session_panes(name) if probe.server == "running" else []
    if panes:
        started = panes[0].created
    if started is None:
        started = session.parse_started(entry.started, now)
    return verify(session.folder(entry), entry.command, started)
