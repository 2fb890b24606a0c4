"""heartbeat: keeps long-running AI coding agents in tmux alive and honest, from cron."""

from __future__ import annotations

__version__ = "0.1.0"
