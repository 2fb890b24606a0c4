"""Fixtures for the real-agent tests: the pinned agents, the fake API, an agent in a pane.

``agents_bin`` finds the pinned agents in the cache, else installs them with npm (once, under
a lock), else skips with the reason — except under ``CI=true``, where a missing agent fails
the test: CI must run the real agents, never skip them. ``fake_api`` is one fake API server
per module. ``real_agent`` starts a scenario's agent in a tmux session on the test's private
server, its environment set before the server starts (so sessions heartbeat recreates
inherit it), with HOME, CODEX_HOME and the notes all under the test's folders.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from tests import helpers
from tests.realagents import bed, install, record, scenarios
from tests.realagents.fakeapi import FakeAPI

if t.TYPE_CHECKING:
    import collections.abc
    import pathlib


@pytest.fixture(scope="session")
def agents_bin() -> pathlib.Path:
    """The folder of the pinned agents' binaries (installed into the cache when missing)."""
    if install.installed():
        return install.bin_dir()
    try:
        return install.install()
    except install.NotInstalled as exc:
        reason = f"the pinned agents are not installed and could not be: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI runs the real agents; {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def transcript_runs() -> dict[str, record.Recorded]:
    """The first run of each scenario in this session, normalized, by scenario id.

    The diagnosis tests fill it as they run agents; the drift test compares these runs with
    the transcripts instead of running the same scenarios again (and runs the rest itself).
    """
    return {}


@pytest.fixture(scope="module")
def fake_api() -> collections.abc.Iterator[FakeAPI]:
    with FakeAPI() as fake:
        yield fake


class Agent:
    """One scenario's agent in session ``job`` on the test's tmux server."""

    def __init__(
        self,
        the_bed: bed.Bed,
        socket: pathlib.Path,
        fake: FakeAPI,
        runs: dict[str, record.Recorded],
    ) -> None:
        self.bed = the_bed
        self.socket = socket
        self.fake = fake
        self.runs = runs
        self.name = "job"

    @property
    def command(self) -> str:
        return self.bed.scenario.command

    @property
    def workdir(self) -> pathlib.Path:
        return self.bed.workdir

    def start(self) -> None:
        bed.start(self.bed, self.socket, self.name)

    def finish(self, timeout: float = 180) -> bed.Run:
        """Wait for the scenario's end (see bed.finish); the run is kept for the drift test."""
        run = bed.finish(self.bed, self.socket, self.name, self.fake, timeout)
        scenario = self.bed.scenario
        self.runs.setdefault(scenario.id, record.recorded(scenario, self.bed, run))
        return run

    def log(self, notes_dir: pathlib.Path) -> None:
        """The session logged in today's note, as the assistant logs it (canonical form)."""
        helpers.write_note(notes_dir, helpers.canonical(self.name, self.command, self.workdir))

    def check(self, *args: str) -> tuple[int, dict[str, t.Any], dict[str, t.Any]]:
        """`heartbeat check --json ARGS` in-process: exit code, report, this session's row."""
        code, report = helpers.check_json(*args)
        return code, report, helpers.by_name(report)[self.name]

    def pane(self) -> str:
        return bed.capture(self.socket, self.name)

    def pane_pid(self) -> str:
        return helpers.session_pid(self.socket, self.name)


@pytest.fixture
def real_agent(
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    socket_path: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    transcript_runs: dict[str, record.Recorded],
) -> collections.abc.Callable[[str], Agent]:
    """A factory: ``real_agent("codex/usage-limit")`` prepares that scenario (not started).

    The agent and heartbeat share a HOME of the test's own (``tmp_path/home``). The fake
    API's answers are tagged with the test's name, so counts are per test. The
    configuration points heartbeat's path prefix at the agents (its restarts find them)
    and takes no second look before a restart.
    """

    def make(scenario_id: str) -> Agent:
        scenario = scenarios.by_id(scenario_id)
        tag = "".join(c if c.isalnum() else "-" for c in request.node.name)[-40:]
        the_bed = bed.prepare(scenario, tmp_path, fake_api, agents_bin, tag=tag)
        for key, value in the_bed.env.items():
            monkeypatch.setenv(key, value)
        # The agents on PATH, as where a user installed them. (Also restores PATH after the
        # test: an in-process check prepends the path prefix to the process's PATH.)
        monkeypatch.setenv("PATH", f"{agents_bin}:{os.environ['PATH']}")
        helpers.write_config(
            tmp_path / "config.toml", path_prefix=str(agents_bin), second_look_seconds=0
        )
        return Agent(the_bed, socket_path, fake_api, transcript_runs)

    return make
