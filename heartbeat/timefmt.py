"""One duration formatter for every message and table."""

from __future__ import annotations


def format_duration(seconds: float | None, *, compact: bool = False) -> str:
    """``45 s``, ``12 min``, ``2.5 h``, ``3.0 d``; ``compact``: ``45s``, ``12m``, ``2.5h``.

    None is ``-`` (a table's empty cell).
    """
    if seconds is None:
        return "-"
    units = ("s", "m", "h", "d") if compact else (" s", " min", " h", " d")
    if seconds < 90:
        return f"{int(seconds)}{units[0]}"
    if seconds < 5400:
        return f"{int(seconds // 60)}{units[1]}"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}{units[2]}"
    return f"{seconds / 86400:.1f}{units[3]}"
