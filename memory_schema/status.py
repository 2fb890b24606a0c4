"""Status words and marks, and the only places where they count.

A status ends or pauses an entry only where a person writes a status: in a
Status (or State) field or column; as the first word after the name, after
the command, or of a Notes cell (``- api — done``, ``… `codex exec x` —
paused``, ``finished 11:40, PR #42 merged``); as a mark before the name or
in those places (``- ⏸️ api: …``, ``… `codex exec x` 🔴``); as a ✅ anywhere
in the entry's own text; as a strike (``~~api~~``) or a ticked task box
(``- api: …``), handled by the readers. Progress prose anywhere else —
``3/7 tasks done so far``, ``not yet done``, ``purge completed orders``,
``fixing the paused-subscription bug`` — never does.

What each mark says is the table ``MARKS``. Two of its choices are
decisions, not conventions: 🔴 says *failed* and keeps the entry watched
(a traffic light: the check goes on diagnosing the session), while ❌ says
*failed* and ends the entry, as *killed* does — a session crossed out is
one a person gave up on, and the heartbeat never brings it back.
"""

from __future__ import annotations

import re
import typing as t

from memory_schema.model import INACTIVE_STATUSES, STATUS_WORDS

if t.TYPE_CHECKING:
    from collections.abc import Iterable


class Said(t.NamedTuple):
    """What a status word or mark says: the status word, and whether it ends the entry."""

    status: str
    #: The entry is no longer watched (done, killed, crossed out).
    ends: bool


#: Words that end an entry: it is no longer watched.
DONE_WORDS = r"done|finished|completed?|killed|removed|stopped|cancell?ed|aborted"

#: Marks a person writes for a status (an emoji may carry the variation selector U+FE0F,
#: ``⏸️``; it is ignored). See the module's docstring for 🔴 and ❌.
MARKS: dict[str, Said] = {
    "✅": Said("done", ends=True),
    "✔": Said("done", ends=True),
    "☑": Said("done", ends=True),
    "✓": Said("done", ends=True),
    "❌": Said("failed", ends=True),
    "🔴": Said("failed", ends=False),
    "🟢": Said("running", ends=False),
    "⏸": Said("paused", ends=False),
}
#: Every mark, as a regex character class body.
MARK_CHARS = "".join(MARKS)
#: The mark that ends an entry wherever it stands in the entry's own text.
CHECK_MARK = "✅"
_VS = "\ufe0f"

_WORD = rf"(?:{DONE_WORDS}|{'|'.join(STATUS_WORDS)})"
#: Punctuation and emphasis that may come before a leading status.
_LEAD = r"[\s().,;:!·—–\-→>*_~\[\]]*"
#: A whole word: "paused-subscription" and "done_at" are not status words.
_END = r"(?![\w-])"
_START = r"(?<![\w-])"

_LEAD_RE = re.compile(
    rf"^{_LEAD}(?:(?P<mark>[{MARK_CHARS}]){_VS}?(?:{_LEAD}(?P<after>{_WORD}){_END})?"
    rf"|(?P<word>{_WORD}){_END})",
    re.IGNORECASE,
)
#: Text that starts with a status (or a mark), so it is a status mention, never a command.
STATUS_LEAD_RE = re.compile(
    rf"^{_LEAD}(?:[{MARK_CHARS}]|{_WORD}{_END})",
    re.IGNORECASE,
)
_ANY_RE = re.compile(rf"{_START}(?P<word>{_WORD}){_END}|(?P<mark>[{MARK_CHARS}])", re.IGNORECASE)
#: What before a status word makes it no status: a negation or a count ("not", "3/7 tasks").
_NOT_BEFORE_RE = re.compile(
    r"(?:\bnot|n't|\byet to be|\bnever|\d+\s*(?:/\s*\d+|%)?\s*(?:of\s+\d+\s+)?(?:[a-z]+\s+)?)\s*$",
    re.IGNORECASE,
)
#: Any mention at all: used only to tell a status tail from the command it follows.
MENTION_RE = re.compile(rf"{_START}{_WORD}{_END}|[{MARK_CHARS}]", re.IGNORECASE)


def word_said(word: str) -> Said:
    """What a status word says: a word of the canonical form as itself, every ending word done."""
    word = word.lower()
    status = word if word in STATUS_WORDS else "done"
    return Said(status, status in INACTIVE_STATUSES)


def mark_said(char: str) -> Said | None:
    """What a mark says (None: the character is no status mark)."""
    return MARKS.get(char)


def _said(match: re.Match[str]) -> Said:
    mark = match.group("mark")
    said = MARKS[mark] if mark else word_said(match.group("word"))
    after = match.groupdict().get("after")
    if after and not said.ends:
        # "🟢 restarted", "🔴 died": the word is more precise than a mark that keeps it watched
        return word_said(after)
    return said


def lead(text: str) -> Said | None:
    """What the status *text* starts with says (a mark, then perhaps a word), or None."""
    match = _LEAD_RE.match(text)
    return None if match is None else _said(match)


def lead_status(text: str) -> str | None:
    """The status *text* starts with (``done`` for every word or mark that ends), or None."""
    said = lead(text)
    return None if said is None else said.status


def first_lead(parts: Iterable[str]) -> Said | None:
    """What the first of *parts* that starts with a status says."""
    for part in parts:
        said = lead(part)
        if said is not None:
            return said
    return None


def first_lead_status(parts: Iterable[str]) -> str | None:
    """The status of the first of *parts* that starts with one."""
    said = first_lead(parts)
    return None if said is None else said.status


def field(text: str) -> Said | None:
    """What a Status field or column says: its first status word or mark.

    A word after a negation or a count (``not done``, ``3/7 done``) is no status.
    """
    said = lead(text)
    if said is not None:
        return said
    for match in _ANY_RE.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if match.group("word") and _NOT_BEFORE_RE.search(before):
            continue
        return _said(match)
    return None


def field_status(text: str) -> str | None:
    """The status a Status field or column says, or None."""
    said = field(text)
    return None if said is None else said.status


def checked(text: str) -> bool:
    """True when *text* holds a ✅, which ends an entry wherever it stands."""
    return CHECK_MARK in text
