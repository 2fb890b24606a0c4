"""The one way heartbeat writes a length of time for people: ``45 s``, ``12 min``, ``3.5 h``."""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """Seconds under 90 s, whole minutes (rounded down) under 90 min, hours with one
    decimal under 48 h, else days with one decimal. Negative lengths read as 0 s."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
