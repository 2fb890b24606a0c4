"""Redaction behind its literal prefilter removes exactly what every pattern would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from heartbeat.signatures import redact, secret_patterns

#: Pieces that make the patterns match, or nearly match.
PIECES = st.sampled_from(
    [
        "sk-",
        "sk-proj-",
        "sk-ant-",
        "Bearer ",
        "bearer ",
        "BEARER ",
        "ghp_",
        "GHP_",
        "gho_",
        "github_pat_",
        "xoxb-",
        "XOXB-",
        "eyJ",
        "EYJ",
        "api_key=",
        "API-KEY: ",
        "access_token=",
        "refresh-token: '",
        "id_token=",
        "secret=",
        "Password: ",
        "passwd=",
        "abcdefghijklmnop",
        "0123456789",
        ".",
        "-",
        "_",
        " ",
        '"',
        "'",
    ]
)


def every_pattern(text: str) -> str:
    for pattern, replacement in secret_patterns():
        text = pattern.sub(replacement, text)
    return text


@given(st.lists(PIECES | st.text(max_size=8), max_size=12).map("".join))
def test_redact_is_every_pattern_on_every_text(text: str) -> None:
    assert redact(text) == every_pattern(text)


def test_the_prefilter_still_redacts_each_kind() -> None:
    line = (
        "key sk-proj-abcdef123 Bearer abc.def-123 ghp_abcdef1234 "
        "xoxb-12345678 eyJhbGciOiJIUzI1.eyJzdWIiOiIx.abc password=hunter22"
    )
    redacted = redact(line)
    for secret in ("abcdef123", "abc.def-123", "abcdef1234", "12345678", "hunter22"):
        assert secret not in redacted
    assert redact("nothing to hide here") == "nothing to hide here"
