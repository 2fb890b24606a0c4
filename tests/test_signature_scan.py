"""The signature scan's literal prefilter: the same matches as every pattern on every line.

Each shipped signature lists ``literals`` (heartbeat/profiles/*.toml), one of
which every line its pattern matches must hold; ``scan`` and ``scan_bytes``
run a pattern only on the lines that hold one. Two things keep that honest:

- the literals are required: every line a pattern matches — in the text the
  agents print (tests/agents_reference.md, the stand-ins, the tests' own lines,
  tests/realagents/transcripts/ when present) and in lines generated from the
  pattern itself — holds one of them;
- the matches are the same as ``scan_plain``'s (every pattern on every line)
  over generated output: agents' lines, the literals in any case, escape
  sequences, carriage returns, other line breaks and bytes that are not UTF-8.
"""

from __future__ import annotations

import ast
import pathlib
import typing as t

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from heartbeat import profiles
from heartbeat.errors import ConfigError
from heartbeat.signatures import (
    Signature,
    clean,
    compile_signature,
    may_match,
    scan,
    scan_bytes,
    scan_plain,
)

REPO = pathlib.Path(__file__).resolve().parent.parent
LOADED = profiles.load()
#: Every shipped signature: configured (none), every agent's, then the common ones.
SHIPPED = LOADED.signatures(None)
#: A signature of the configuration that lists no literals: it runs on every line.
UNLISTED = compile_signature(
    {"name": "mine", "kind": "transient", "pattern": r"(?i)overloaded|\bE\d{3}\b"}, "test"
)
SETS = {
    "all": SHIPPED,
    "codex": LOADED.signatures(LOADED.named("codex")),
    "ralphy": LOADED.signatures(LOADED.named("ralphy"), "ralphy --codex 'x'"),
    "claude": LOADED.signatures(LOADED.named("claude")),
    "unlisted": (UNLISTED, *SHIPPED),
}
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def holds_a_literal(signature: Signature, line: str) -> bool:
    low = clean(line).encode("utf-8", "surrogatepass").lower()
    return any(needle in low for needle in signature.needles)


# ------------------------------------------------------------------ the literals are required


def corpus_lines() -> list[str]:
    """Lines agents print, as the repository holds them (text files and the tests' strings)."""
    lines: list[str] = []
    folders = [REPO / "tests", REPO / "heartbeat" / "agents"]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text("utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if path.suffix == ".py":
                try:
                    tree = ast.parse(text)
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        lines += node.value.splitlines()
            else:
                lines += text.splitlines()
    return lines


CORPUS = corpus_lines()


def test_shipped_signatures_list_literals_and_their_patterns_compile() -> None:
    for signature in SHIPPED:
        assert signature.literals, f"{signature.name} lists no literals: every line runs it"
        assert signature.pattern.pattern == signature.source


@pytest.mark.parametrize("signature", SHIPPED, ids=[s.name for s in SHIPPED])
def test_every_line_of_the_corpus_a_pattern_matches_holds_a_literal(signature: Signature) -> None:
    matched = [line for line in CORPUS if signature.pattern.search(clean(line))]
    missing = [line for line in matched if not holds_a_literal(signature, line)]
    assert missing == []


def test_the_corpus_exercises_the_signatures() -> None:
    """The corpus holds lines of most signatures: the test above can fail."""
    hit = {s.name for s in SHIPPED if any(s.pattern.search(clean(x)) for x in CORPUS)}
    assert len(hit) >= len(SHIPPED) * 2 // 3, sorted({s.name for s in SHIPPED} - hit)


@PROPERTY
@given(st.data())
def test_every_line_a_pattern_generates_holds_a_literal(data: st.DataObject) -> None:
    signature = data.draw(st.sampled_from(SHIPPED))
    line = data.draw(st.from_regex(signature.pattern).filter(lambda x: "\n" not in x))
    assume(signature.pattern.search(clean(line)))
    assert holds_a_literal(signature, line), (signature.name, line)


# ------------------------------------------------------------------ the same matches

DECORATION = [
    "\x1b[31m",
    "\x1b[0m",
    "\x1b]0;title\x07",
    "\r",
    " ",
    "\t",
    "ERROR: ",
    "■ ",
    "2026-11-25T14:32:01.123456Z  WARN codex_core::codex: ",
    "2026-11-25T14:32:01.123456Z ERROR codex_core::auth: ",
    "[ralphy] ",
    "Fatal error: ",
    'Task "fix it" failed: ',
    "EXITED: 0",
    "EXITED:1",
]


def _case_variants(literal: str) -> list[str]:
    return [literal, literal.upper(), literal.title(), literal.swapcase()]


LITERALS = sorted({v for s in SHIPPED for x in s.literals for v in _case_variants(x)})
piece = st.one_of(
    st.sampled_from(DECORATION),
    st.sampled_from(LITERALS),
    st.sampled_from(SHIPPED).flatmap(lambda s: st.from_regex(s.pattern)),
    st.text(max_size=12),
)
line = st.lists(piece, max_size=5).map("".join)
output = st.lists(line, max_size=25)


@PROPERTY
@given(output, st.sampled_from(sorted(SETS)), st.sampled_from(["pane", "log"]))
def test_scan_finds_what_every_pattern_on_every_line_finds(
    lines: list[str], which: str, where: str
) -> None:
    signatures = SETS[which]
    assert scan(lines, signatures, where) == scan_plain(lines, signatures, where)


BREAKS = [b"\n", b"\r\n", b"\r", b"\x0b", b"\x1c", "\x85".encode(), "\u2028".encode()]
chunk = st.one_of(
    line.map(lambda x: x.encode("utf-8", "surrogatepass")),
    st.binary(max_size=6),
    st.sampled_from(BREAKS),
)


@PROPERTY
@given(st.lists(chunk, max_size=40).map(b"".join), st.sampled_from(sorted(SETS)))
def test_scan_bytes_finds_what_every_pattern_finds_on_the_decoded_lines(
    data: bytes, which: str
) -> None:
    signatures = SETS[which]
    lines = data.decode("utf-8", "replace").splitlines()
    assert scan_bytes(data, signatures, "log") == scan_plain(lines, signatures, "log")


@PROPERTY
@given(output, st.sampled_from(sorted(SETS)))
def test_what_may_not_match_does_not(lines: list[str], which: str) -> None:
    signatures = SETS[which]
    if not may_match("\n".join(lines), signatures):
        assert scan_plain(lines, signatures, "pane") == []


class Known(t.NamedTuple):
    id: str
    line: str
    kind: str


#: Lines the agents print, one per kind the prefilter must not lose (tests/agents_reference.md).
KNOWN = [
    Known("codex-429", "■ exceeded retry limit, last status: 429 Too Many Requests", "rate_limit"),
    Known(
        "codex-usage",
        "ERROR: You've hit your usage limit. Try again at 3:15 PM.",
        "rate_limit",
    ),
    Known("codex-refresh", "■ Failed to refresh token: 401 Unauthorized", "auth"),
    Known("hook", "EXITED: 1", "finish"),
    Known("prompt", "Do you want to proceed?", "prompt"),
    Known("escaped", "\x1b[31mEXIT\x1b[0mED: 2", "finish"),
]


@pytest.mark.parametrize("known", KNOWN, ids=[k.id for k in KNOWN])
def test_known_lines_are_found(known: Known) -> None:
    lines = ["INFO working", known.line, "done"]
    assert [m.kind for m in scan(lines, SHIPPED, "pane")] == [known.kind]
    data = "\n".join(lines).encode()
    found = scan_bytes(data, SHIPPED, "log")
    assert [m.kind for m in found] == (
        [known.kind] if known.kind not in {"finish", "prompt"} else []
    )


# ------------------------------------------------------------------ configuration


class BadLiterals(t.NamedTuple):
    id: str
    literals: object


BAD_LITERALS = [
    BadLiterals("not-a-list", "error"),
    BadLiterals("empty-string", ["error", ""]),
    BadLiterals("not-a-string", [3]),
    BadLiterals("two-lines", ["a\nb"]),
]


@pytest.mark.parametrize("bad", BAD_LITERALS, ids=[b.id for b in BAD_LITERALS])
def test_bad_literals_are_a_config_error_that_says_what_they_must_be(bad: BadLiterals) -> None:
    raw = {"name": "mine", "kind": "auth", "pattern": "nope", "literals": bad.literals}
    with pytest.raises(ConfigError, match=r"config signatures: signature 'mine': literals"):
        compile_signature(raw, "config signatures")


def test_a_bad_configured_pattern_is_reported_at_once() -> None:
    raw = {"name": "mine", "kind": "auth", "pattern": "(unclosed"}
    with pytest.raises(ConfigError, match="bad pattern"):
        compile_signature(raw, "config signatures")


def test_a_configured_signature_with_literals_finds_its_lines() -> None:
    """The README's example: a proxy's 429, listed with the literal it requires."""
    raw = {
        "name": "my-proxy-429",
        "kind": "rate_limit",
        "pattern": "^proxy: upstream 429",
        "literals": ["upstream 429"],
    }
    loaded = profiles.load((), [raw])
    signatures = loaded.signatures(None)
    lines = ["proxy: upstream 429 (retrying)", "PROXY: UPSTREAM 429", "proxy: upstream 200"]
    found = scan(lines, signatures, "pane")
    assert [(m.signature.name, m.line) for m in found] == [
        ("my-proxy-429", "proxy: upstream 429 (retrying)")
    ]
    data = "\n".join(lines).encode()
    assert scan_bytes(data, signatures, "log") == scan_plain(lines, signatures, "log")
