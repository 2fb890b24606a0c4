"""`heartbeat demo`: a real check over stand-in agents, on a private socket, in seconds.

Everything lives in one temporary folder: the tmux socket, the notes, the state,
CODEX_HOME, HOME for the demo's processes, a git repository, and the stand-ins
(``heartbeat.demo.standin``, a codex that replays a few codex 0.169.0 runs, plus an
``openclaw`` that writes its notifications to a file and a ``devserver``). Sessions are
started with ``heartbeat launch``'s own function, one is only listed in the note (it
"died"), and the check is ``run_check`` itself. Afterwards the demo's tmux server and
every process it started are stopped and the folder removed, also on Ctrl-C or an error.
The user's socket, notes, state and crontab are never read or written: the settings are
built here, not loaded.

``stage`` sets the scene, ``run`` plays it, ``cleanup`` takes it down.
"""

from __future__ import annotations

from heartbeat.demo.run import DemoResult, run_demo
from heartbeat.demo.stage import DEMO_SESSIONS, DemoError, DemoSession

__all__ = ["DEMO_SESSIONS", "DemoError", "DemoResult", "DemoSession", "run_demo"]
