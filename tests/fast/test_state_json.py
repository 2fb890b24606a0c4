"""The state's JSON, written field by field, is what dataclasses.asdict wrote; it reads back."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given
from hypothesis import strategies as st

from heartbeat.state import LogEvent, SessionState, State, _from_json

times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
words = st.text(max_size=12)
sessions = st.builds(
    SessionState,
    restarts=st.lists(times, max_size=3),
    healthy_since=st.none() | times,
    hold_reason=st.none() | words,
    failures=st.integers(0, 9),
    seen=times,
    diagnosis=st.none() | words,
    agent_session=st.none() | words,
)
states = st.builds(
    State,
    sessions=st.dictionaries(words, sessions, max_size=4),
    log_offsets=st.dictionaries(words, st.lists(st.integers(0, 2**40), max_size=2), max_size=2),
    log_events=st.lists(st.builds(LogEvent, times, words, words), max_size=3),
    last_check=st.none() | times,
    checks=st.integers(0, 10**6),
    warnings=st.lists(words, max_size=2),
)


@given(states)
def test_the_json_is_asdicts_and_reads_back(state: State) -> None:
    want = dataclasses.asdict(state)
    del want["warnings"]
    want["version"] = 1
    data = state.to_json()
    assert data == want
    again = _from_json(json.loads(json.dumps(data, sort_keys=True)))
    assert again == dataclasses.replace(state, warnings=[])


def test_a_field_of_the_wrong_type_is_refused() -> None:
    for bad in ({"seen": "yesterday"}, {"restarts": [1.0, "2"]}, {"failures": True}):
        try:
            _from_json({"sessions": {"job": bad}})
        except TypeError as error:
            assert "session 'job'" in str(error)
        else:
            raise AssertionError(f"{bad} was accepted")
