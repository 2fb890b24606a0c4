"""The pinned releases still print what the transcripts say: bump a pin, see what broke.

Every scenario runs again against the real agent and the fake API, and its normalized pane
text and records are compared with ``transcripts/``. A difference fails with a diff; if the
new release is right, re-record (``python -m tests.realagents.record AGENT/NAME``) and fix
the profiles and signatures the diff shows.
"""

from __future__ import annotations

import os
import re
import typing as t

import pytest

from tests.realagents import record, scenarios

if t.TYPE_CHECKING:
    import pathlib

    from tests.realagents.fakeapi import FakeAPI

pytestmark = pytest.mark.realagent

README = record.TRANSCRIPTS.parent / "README.md"


@pytest.mark.parametrize("scenario", scenarios.SCENARIOS, ids=[s.id for s in scenarios.SCENARIOS])
def test_transcript_has_not_drifted(
    scenario: scenarios.Scenario,
    agents_bin: pathlib.Path,
    fake_api: FakeAPI,
    socket_path: pathlib.Path,
    tmp_path: pathlib.Path,
    transcript_runs: dict[str, record.Recorded],
) -> None:
    """A scenario a diagnosis test ran already is compared as it ran there.

    A difference must show again in a run of its own before it counts: a busy machine
    can leave a one-off frame in a pane (a spinner, a profiler notice) that no release
    change made. A real drift shows every time.
    """
    if scenario.root and os.geteuid() != 0:
        pytest.skip("recorded as root: the agent answers this user otherwise")
    now = transcript_runs.get(scenario.id) or record.run_in(
        scenario, fake_api, agents_bin, tmp_path / "run", socket_path
    )
    diff = record.compare(scenario, now)
    if diff:
        again = record.run_in(scenario, fake_api, agents_bin, tmp_path / "again", socket_path)
        diff = record.compare(scenario, again) and diff
    assert not diff, f"{scenario.id} prints something else now:\n{diff}"


def test_every_transcript_has_a_scenario() -> None:
    """No stale transcript lingers after a scenario is renamed or dropped."""
    known = {f"{s.id}.txt" for s in scenarios.SCENARIOS} | {
        f"{s.id}.json" for s in scenarios.SCENARIOS
    }
    files = {str(p.relative_to(record.TRANSCRIPTS)) for p in record.TRANSCRIPTS.glob("*/*")}
    assert files == known


class Row(t.NamedTuple):
    line: str
    release: str
    scenarios: list[str]


def readme_rows() -> list[Row]:
    """The README's signature table: `| `line` | release | scenario, scenario |`."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Signature lines", 1)[1].split("\n## ", 1)[0]
    rows = []
    for raw in section.splitlines():
        match = re.match(r"^\| ``?(.+?)``? \| ([^|]+) \| ([^|]+) \|", raw)
        if match and not match.group(1).startswith("-"):
            names = [n.strip() for n in match.group(3).split(",")]
            rows.append(Row(match.group(1), match.group(2).strip(), names))
    return rows


def test_readme_table_quotes_the_transcripts() -> None:
    """Each signature line in the README is in every transcript it names, from that release."""
    rows = readme_rows()
    assert len(rows) >= 20
    for row in rows:
        for name in row.scenarios:
            scenario = scenarios.by_id(name)
            text = record.Recorded.path(scenario).read_text(encoding="utf-8")
            assert row.line in text, f"README: {row.line!r} is not in {name}'s transcript"
            assert record.release(scenario).split(" ")[0] in row.release, (row, name)
