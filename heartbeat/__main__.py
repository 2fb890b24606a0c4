"""``python -m heartbeat``: the same entry point as the console script."""

from __future__ import annotations

from heartbeat.cli import script

if __name__ == "__main__":
    script()
