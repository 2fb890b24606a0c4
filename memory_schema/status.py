"""Status words, and the only places where they count.

A status ends or pauses an entry only where a person writes a status: in a
Status (or State) field or column; as the first word after the name, after
the command, or of a Notes cell (``- api — done``, ``… `codex exec x` —
paused``, ``finished 11:40, PR #42 merged``); as a ✅; as a strike
(``~~api~~``, handled by the readers). Progress prose anywhere else — ``3/7
tasks done so far``, ``not yet done``, ``purge completed orders``, ``fixing the
paused-subscription bug`` — never does.
"""

from __future__ import annotations

import re
import typing as t

from memory_schema.model import STATUS_WORDS

if t.TYPE_CHECKING:
    from collections.abc import Iterable

#: Words that end an entry: it is no longer watched.
DONE_WORDS = r"done|finished|completed?|killed|removed|stopped|cancell?ed|aborted"
#: Marks that end an entry when they lead its text.
DONE_MARKS = "✅✔☑✓"
#: The mark that ends an entry wherever it stands in the entry's own text.
CHECK_MARK = "✅"

_WORD = rf"(?:{DONE_WORDS}|{'|'.join(STATUS_WORDS)})"
#: Punctuation and emphasis that may come before a leading status.
_LEAD = r"[\s().,;:!·—–\-→>*_~\[\]]*"
#: A whole word: "paused-subscription" and "done_at" are not status words.
_END = r"(?![\w-])"
_START = r"(?<![\w-])"

_LEAD_RE = re.compile(
    rf"^{_LEAD}(?:❌{_LEAD})?(?:(?P<mark>[{DONE_MARKS}])|(?P<word>{_WORD}){_END})",
    re.IGNORECASE,
)
#: Text that starts with a status (or ❌), so it is a status mention, never a command.
STATUS_LEAD_RE = re.compile(
    rf"^{_LEAD}(?:[{DONE_MARKS}❌]|{_WORD}{_END})",
    re.IGNORECASE,
)
_ANY_RE = re.compile(rf"{_START}(?P<word>{_WORD}){_END}|(?P<mark>[{DONE_MARKS}])", re.IGNORECASE)
#: What before a status word makes it no status: a negation or a count ("not", "3/7 tasks").
_NOT_BEFORE_RE = re.compile(
    r"(?:\bnot|n't|\byet to be|\bnever|\d+\s*(?:/\s*\d+|%)?\s*(?:of\s+\d+\s+)?(?:[a-z]+\s+)?)\s*$",
    re.IGNORECASE,
)
#: Any mention at all: used only to tell a status tail from the command it follows.
MENTION_RE = re.compile(rf"{_START}{_WORD}{_END}|[{DONE_MARKS}]", re.IGNORECASE)


def _canonical(word: str | None) -> str:
    if word is None:
        return "done"
    word = word.lower()
    return word if word in STATUS_WORDS else "done"


def lead_status(text: str) -> str | None:
    """The status *text* starts with (``done`` for every word or mark that ends), or None."""
    match = _LEAD_RE.match(text)
    if match is None:
        return None
    return _canonical(match.group("word"))


def first_lead_status(parts: Iterable[str]) -> str | None:
    """The status of the first of *parts* that starts with one."""
    for part in parts:
        status = lead_status(part)
        if status is not None:
            return status
    return None


def field_status(text: str) -> str | None:
    """The status a Status field or column says: its first status word or mark.

    A word after a negation or a count (``not done``, ``3/7 done``) is no status.
    """
    for match in _ANY_RE.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if match.group("word") and _NOT_BEFORE_RE.search(before):
            continue
        return _canonical(match.group("word"))
    return None


def checked(text: str) -> bool:
    """True when *text* holds a ✅, which ends an entry wherever it stands."""
    return CHECK_MARK in text
