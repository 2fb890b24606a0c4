"""The one way heartbeat writes a length of time for people: ``45 s``, ``12 min``, ``3.5 h``."""

from __future__ import annotations


def format_duration(seconds: float | None, *, compact: bool = False) -> str:
    """Seconds under 90 s, whole minutes (rounded down) under 90 min, hours with one
    decimal under 48 h, else days with one decimal. Negative lengths read as 0 s.

    ``compact`` is the table's form (``45s``, ``12m``, ``3.5h``, ``2.0d``); None is
    ``-`` (a table's empty cell).
    """
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    units = ("s", "m", "h", "d") if compact else (" s", " min", " h", " days")
    if seconds < 90:
        return f"{int(seconds)}{units[0]}"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)}{units[1]}"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f}{units[2]}"
    return f"{seconds / 86400:.1f}{units[3]}"
