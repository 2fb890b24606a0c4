"""``python -m heartbeat.profiles.census [--agent A] [--unclassified] [--update]``.

Prints each pinned release's failure messages (``class<TAB>message``; ``-`` for one its census
file does not classify). ``--unclassified`` prints only those. ``--update`` rewrites the census
file for the installed release: it keeps every entry still printed, drops the ones the release
no longer has, and adds each new message its profile's signatures match (with their kind) or an
ignore rule below names (with its why); the rest it lists, to be classified by hand. Review
the diff: a proposal is a starting point, not a classification.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
import typing as t

from heartbeat import profiles, signatures
from heartbeat.profiles import census

#: Why a message is not the agent's failure in a headless run: (pattern, why), first wins.
IGNORE_RULES: tuple[tuple[str, str], ...] = (
    (
        r"(?i)\bmcp\b|oauth tokens? for server|plugin|connector|marketplace|extension",
        "an MCP server's, plugin's or extension's trouble: reported inside a turn, not the agent's",
    ),
    (
        r"(?i)/login|/usage|/status|/model|/upgrade|/extra-usage|/rate-limit|notify owner|"
        r"\?\s*$|reminder|approaching|no longer close|switching models|request (?:a|an) "
        r"(?:limit )?increase|dialog|menu|press |click|settings page|banner",
        "interactive TUI only: a prompt, menu or notice, not printed by a headless run",
    ),
    (
        r"(?i)\bcodex (?:login|doctor|cloud|agents)\b|login (?:flow|server)|device code|"
        r"--with-(?:api-key|access-token)|stdin|keyring|credential helper|auth storage",
        "a login or setup subcommand's own output, not a session's",
    ),
    (
        r"(?i)^(?:error|fatal error)\b.*(?:pars|decod|encod|compress|tls|socket|stream|h3|quic|"
        r"sof|huffman|dqt|sos|mcu|png|jpeg|image|font|fluent|sqlite|grpc|header|json|yaml|toml|"
        r"tarball|package\.json|macro|gntp)",
        "a library's error text (parsing, I/O, a protocol): "
        "reaches the pane only in a tool's output",
    ),
    (
        r"(?i)retrying|retry in|will retry|reconnecting|falling back",
        "describes a retry, not a failure",
    ),
    (r"(?i)\b(?:debug|trace|telemetry|metric|otel|span)\b", "debug log"),
    (
        r"(?i)usage limits? go|more efficient|consumes usage limits|remaining usage on|"
        r"reset your|resets? (?:are|is) available|no usage limit resets|couldn.t (?:load|reset)",
        "a plan or usage notice, not a refusal",
    ),
)
FALLBACK = "not a line a headless run ends on (library, tool or interactive text)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heartbeat.profiles.census")
    parser.add_argument("--agent", choices=census.AGENTS, action="append")
    parser.add_argument("--unclassified", action="store_true")
    parser.add_argument("--update", action="store_true")
    parser.add_argument(
        "--ignore-rest",
        action="store_true",
        help="with --update, for a first census: ignore what no signature or rule names",
    )
    parser.add_argument("--root", help="the agents' node_modules (default: the test bed's cache)")
    args = parser.parse_args(argv)
    root = _root(args.root)
    missing = 0
    for agent in args.agent or census.AGENTS:
        messages = census.extract(agent, root)
        if args.update:
            missing += update(agent, messages, census.version(agent, root), args.ignore_rest)
            continue
        known = census.load(agent).by_text() if census.path(agent).exists() else {}
        for message in messages:
            entry = known.get(message)
            if entry is None:
                missing += 1
            if entry is None or not args.unclassified:
                print(f"{agent}\t{entry.kind if entry else '-'}\t{message}")
    return 1 if missing else 0


def _root(given: str | None) -> pathlib.Path:
    if given:
        return pathlib.Path(given)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))
    # off the package's path: tests/ is in a checkout only, put on sys.path above
    from tests.realagents import install

    return install.cache_dir() / "node_modules"


def update(agent: str, messages: list[str], version: str, ignore_rest: bool = False) -> int:
    """Rewrite *agent*'s census for *messages* of *version*; returns how many it left out."""
    old = census.load(agent) if census.path(agent).exists() else None
    known = old.by_text() if old else {}
    shape = old.shape if old else "{}"
    profile = profiles.load().named(agent)
    sigs = profile.signatures if profile else ()
    entries: list[census.Entry] = []
    left = []
    for message in messages:
        entry = known.get(message) or _propose(message, shape, sigs, ignore_rest)
        if entry is None:
            left.append(message)
        else:
            entries.append(entry)
    census.path(agent).write_text(render(agent, version, shape, entries), "utf-8")
    for message in left:
        print(f"{agent}\tunclassified\t{message}")
    return len(left)


def _propose(
    message: str, shape: str, sigs: t.Sequence[signatures.Signature], ignore_rest: bool
) -> census.Entry | None:
    line = shape.replace("{}", message, 1)
    kinds = [m.kind for m in signatures.scan([line], sigs) if m.kind in census.CLASSES]
    if kinds:
        return census.Entry(message, kinds[0])
    for pattern, why in IGNORE_RULES:
        if re.search(pattern, message):
            return census.Entry(message, "ignored", why=why)
    return census.Entry(message, "ignored", why=FALLBACK) if ignore_rest else None


def render(agent: str, version: str, shape: str, entries: list[census.Entry]) -> str:
    """The census file's text: the release, the shape, each message (sorted by text)."""
    out = [
        f"# {agent}'s failure messages, extracted from its pinned release by",
        "# `python -m heartbeat.profiles.census` and classified: auth, rate_limit (reset: clock,",
        "# date_time, relative, epoch, none), config, transient, or ignored with why.",
        f"version = {json.dumps(version)}",
        f"shape = {json.dumps(shape, ensure_ascii=False)}",
    ]
    for entry in sorted(entries, key=lambda e: e.text):
        out += ["", "[[message]]", f"text = {json.dumps(entry.text, ensure_ascii=False)}"]
        out.append(f'class = "{entry.kind}"')
        for key, value in (("reset", entry.reset), ("why", entry.why), ("example", entry.example)):
            if value:
                out.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
