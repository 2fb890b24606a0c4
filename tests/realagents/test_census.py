"""Each pinned release prints nothing its census does not classify.

The messages are extracted again from the installed binaries and bundles
(``heartbeat.profiles.census.extract``); a message the agent's census file does not
classify fails the test, listed, and so does a census of another release than the pin.
After bumping a pin: run this, then ``python -m heartbeat.profiles.census --agent A
--update`` and classify what it lists.
"""

from __future__ import annotations

import typing as t

import pytest

from heartbeat.profiles import census
from tests.realagents import install

if t.TYPE_CHECKING:
    import pathlib

pytestmark = pytest.mark.realagent


@pytest.mark.parametrize("agent", census.AGENTS)
def test_every_message_of_the_pinned_release_is_classified(
    agent: str, agents_bin: pathlib.Path
) -> None:
    root = agents_bin.parent
    found = census.load(agent)
    pinned = install.pin(agent).version
    assert census.version(agent, root) == pinned
    assert found.version == pinned, (
        f"{agent}'s census is of {found.version}, the pin is {pinned}: run "
        f"`python -m heartbeat.profiles.census --agent {agent} --update` and classify"
    )
    missing = census.unclassified(found, census.extract(agent, root))
    assert not missing, f"{agent} {pinned} prints messages its census does not classify:\n" + (
        "\n".join(missing)
    )
