"""Every line a stand-in agent prints is a line the real agent prints.

Each stand-in keeps its own lines as data (``LINES``: name → template, ``{name}`` a value):
tests/standins/codex.py, tests/standins/ralphy.py and the demo's heartbeat/demo/standin.py.
Every template must match, in full, a line the real pinned release printed: the lines of
tests/standins/real_lines.txt (captured from the binaries on loopback) and, once they are in
the repository, the real-agent transcripts in tests/realagents/transcripts/<agent>/.
Then each stand-in is run through its scenarios, and every line it printed must be one of its
templates or what its "model" said and its commands printed (``CONTENT``).
No tmux: a few dozen short subprocesses.
"""

from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
import typing as t

import pytest

from heartbeat.demo import standin as demo
from tests import helpers
from tests.standins import codex, ralphy
from tests.standins.common import SHAPES, template_regex

STANDINS = pathlib.Path(__file__).parent / "standins"
TRANSCRIPTS = pathlib.Path(__file__).parent / "realagents" / "transcripts"
#: The stand-ins and the release each one copies, by the name real_lines.txt gives it.
TABLES = {
    "codex": ("codex", codex.RELEASE, codex.LINES),
    "ralphy": ("ralphy-cli", ralphy.RELEASE, ralphy.LINES),
    "demo": ("codex", demo.RELEASE, demo.LINES),
}
ALIASES = {"codex": "codex", "ralphy": "ralphy-cli", "ralphy-cli": "ralphy-cli"}
#: What git prints when the stand-in codex commits (a command's output, not codex's).
GIT_OUTPUT = re.compile(r"\[\S+ [0-9a-f]{7,}\] .+| \d+ files? changed.*| create mode \d+ .+")


def real_lines() -> dict[str, dict[str, set[str]]]:
    """agent → release → the lines it printed (releases of transcripts: "transcript")."""
    found: dict[str, dict[str, set[str]]] = {}
    for raw in (STANDINS / "real_lines.txt").read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            release, line = raw.split("\t", 1)
            agent, version = release.split(" ", 1)
            found.setdefault(agent, {}).setdefault(version, set()).add(line)
    if TRANSCRIPTS.is_dir():
        for path in sorted(TRANSCRIPTS.glob("*/*.txt")):
            agent = ALIASES.get(path.parent.name, path.parent.name)
            lines = path.read_text(encoding="utf-8").splitlines()
            found.setdefault(agent, {}).setdefault("transcript", set()).update(lines)
    return found


REAL = real_lines()
CASES = [
    pytest.param(agent, release, template, id=f"{standin}:{name}")
    for standin, (agent, release, lines) in TABLES.items()
    for name, template in lines.items()
]


@pytest.mark.parametrize(("agent", "release", "template"), CASES)
def test_the_real_agent_prints_the_line(agent: str, release: str, template: str) -> None:
    pattern = template_regex(template)
    seen = REAL.get(agent, {})
    printed = seen.get(release, set()) | seen.get("transcript", set())
    assert any(pattern.fullmatch(line) for line in printed), (
        f"{agent} {release} never printed a line like {template!r}; capture one from the "
        f"real binary into tests/standins/real_lines.txt, or drop the line"
    )


@pytest.mark.parametrize(("agent", "release", "template"), CASES)
def test_a_template_is_not_just_any_text(agent: str, release: str, template: str) -> None:
    pattern = template_regex(template)
    assert not pattern.fullmatch("something else entirely, said by anyone"), template
    literal = re.sub(r"\{[a-z_0-9]+\}", "", template).strip()
    assert literal or all(name in SHAPES for name in re.findall(r"\{(\w+)\}", template))


def test_real_lines_name_only_the_pinned_releases() -> None:
    """Bumping a release means capturing its lines again: no line of another release."""
    pinned = {agent: {release} for agent, release, _ in TABLES.values()}
    for agent, releases in REAL.items():
        assert set(releases) - {"transcript"} <= pinned.get(agent, set()), (agent, releases)


# ------------------------------------------------------------------ what the stand-ins print
def known(line: str, *tables: dict[str, str]) -> bool:
    return any(template_regex(t).fullmatch(line) for table in tables for t in table.values())


class Run(t.NamedTuple):
    lines: list[str]
    code: int | None


def run(
    argv: list[str], cwd: pathlib.Path, env: dict[str, str], seconds: float | None = None
) -> Run:
    """Run a stand-in; *seconds*: one that runs forever, stopped (SIGTERM) after that long."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=seconds or 60)
        except subprocess.TimeoutExpired:
            if not seconds:
                raise
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
        return Run(output.splitlines(), None if seconds else process.returncode)


@pytest.fixture
def standin_env(tmp_path: pathlib.Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{helpers.AGENTS}:{os.environ['PATH']}",
        "STANDIN_DELAY": "0",
        "CODEX_HOME": str(tmp_path / "codex"),
    }


FOREVER = {"work-forever", "sleep", "quiet", "quote429", "offline"}
EXITS = {"ok": 0, "noisy": 0, "read-exit": 0, "reconnect": 0, "flaky": 1}


@pytest.mark.parametrize("scenario", sorted(codex.SCENARIOS))
def test_the_codex_stand_in_prints_only_its_lines(
    scenario: str, tmp_path: pathlib.Path, standin_env: dict[str, str]
) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    prompt = f"Add a health endpoint scenario:{scenario}"
    seconds = 0.5 if scenario in FOREVER else None
    sandbox = "danger-full-access" if scenario == "noisy" else "workspace-write"
    argv = [str(helpers.AGENTS / "codex"), "exec", "-s", sandbox, prompt]
    done = run(argv, repo, standin_env, seconds)
    assert done.code == (None if seconds else EXITS.get(scenario, 1)), done.lines
    assert done.lines[1] == "OpenAI Codex v0.169.0" or scenario.startswith("auth")
    content = {prompt, "README.md", "standin-work", "project"} | codex.CONTENT
    patterns = [re.compile(p) for p in codex.CONTENT_PATTERNS] + [GIT_OUTPUT]
    for line in done.lines:
        if line and line not in content and not any(p.fullmatch(line) for p in patterns):
            assert known(line, codex.LINES), line


@pytest.mark.parametrize(
    ("commands", "code"),
    [
        ([["--version"]], 0),
        ([["exec", "--full-auto", "x"]], 2),
        ([["login", "status"]], 0),
        ([["logout"], ["logout"], ["login", "status"]], 1),
        ([["login"], ["login", "--with-api-key"]], 0),
        ([["exec", "--help"]], 0),
        ([["exec", "-s", "workspace-write", "x"]], 1),
    ],
    ids=["version", "full-auto", "status", "logout", "login", "help", "not-a-git-repo"],
)
def test_the_codex_stand_ins_commands_print_only_its_lines(
    commands: list[list[str]], code: int, tmp_path: pathlib.Path, standin_env: dict[str, str]
) -> None:
    for argv in commands:
        done = run([str(helpers.AGENTS / "codex"), *argv], tmp_path, standin_env)
        for line in done.lines:
            assert not line or known(line, codex.LINES), line
    assert done.code == code


@pytest.mark.parametrize(
    "argv",
    [
        ["--codex", "--prd", "PRD.md"],
        ["--codex", "--parallel", "--prd", "PRD.md"],
        ["--codex", "Add a health endpoint"],
        ["--codex", "--prd", "NOPE.md"],
        ["--version"],
    ],
    ids=["sequential", "parallel", "single", "no-prd", "version"],
)
def test_the_ralphy_stand_in_prints_only_its_lines(
    argv: list[str], tmp_path: pathlib.Path, standin_env: dict[str, str]
) -> None:
    """Its own lines, and codex's (an error's output), the last with the elapsed time."""
    repo = helpers.git_repo(tmp_path / "repo")
    (repo / "PRD.md").write_text("## Tasks\n- [ ] Add a health endpoint\n- [ ] Write docs\n")
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "PRD"], check=False)
    done = run([str(helpers.AGENTS / "ralphy"), *argv], repo, standin_env)
    assert done.code == (0 if argv == ["--version"] else 1), done.lines
    for line in done.lines:
        bare = re.sub(r" \[\d+m?s\]$", "", line)
        assert not line or known(line, ralphy.LINES) or known(bare, codex.LINES), line
    if "NOPE.md" not in argv and "--version" not in argv:
        assert "error: unexpected argument '--full-auto' found" in done.lines


@pytest.mark.parametrize("scenario", ["ok", "ratelimit", "auth", "work-forever"])
def test_the_demo_stand_in_prints_only_its_lines(
    scenario: str, tmp_path: pathlib.Path, standin_env: dict[str, str]
) -> None:
    repo = helpers.git_repo(tmp_path / "repo")
    task = f"Add a health endpoint scenario:{scenario}"
    argv = [sys.executable, "-m", "heartbeat.demo.standin", "exec", "-s", "workspace-write", task]
    seconds = 0.5 if scenario == "work-forever" else None
    done = run(argv, repo, standin_env, seconds)
    assert done.code == (None if seconds else {"ok": 0}.get(scenario, 1))
    content = {task, "README.md", "**Inspecting the repository layout**"}
    content |= {line for step in demo.WORK for line in (step[0], *step[2].splitlines())}
    said = re.compile(r"Done: .+\. I updated `README\.md`; I could not commit it: .+")
    fatal = re.compile(r"fatal: Unable to create '.+/\.git/index\.lock': Read-only file system")
    for line in done.lines:
        if line and line not in content and not said.fullmatch(line):
            assert fatal.fullmatch(line) or known(line, demo.LINES), line
