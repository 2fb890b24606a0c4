"""heartbeat: keeps long-running AI coding agents in tmux alive and honest, from cron.

The quiet path (STYLE 12b, DESIGN §6). ``QUIET_PATH`` lists the modules a
quiet check — no note changed, nothing to restart — imports; a test runs one
and compares. A scheduler runs that check every few minutes, so inside these
modules, and only there, three speed idioms are allowed:

- an import inside the function that needs it, for what a quiet check never
  reaches (the parser, the notifier, git, pendulum);
- ``NamedTuple`` or a plain class for a record, where a frozen dataclass
  would cost its class build at every start (about 1–3 ms each on 3.11);
- ``heartbeat.debuglog.LazyLogger``, which imports ``logging`` at the first
  record only.

Everywhere else the code is ordinary Python: imports at the top,
``logging.getLogger(__name__)``, frozen values as frozen dataclasses. The
CLI's command modules (``heartbeat.cli.*``) import their core when a command
runs, so that ``--help`` does not pay for every command: that is the one
other place a function-level import is the rule.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: The modules a quiet check imports (``heartbeat.ping`` only with a ping URL).
QUIET_PATH = frozenset(
    {
        "heartbeat",
        "heartbeat.check",
        "heartbeat.check.act",
        "heartbeat.check.decide",
        "heartbeat.check.identity",
        "heartbeat.check.journal",
        "heartbeat.check.observe",
        "heartbeat.check.result",
        "heartbeat.check.rules",
        "heartbeat.cli",
        "heartbeat.cli.check",
        "heartbeat.clock",
        "heartbeat.config",
        "heartbeat.debuglog",
        "heartbeat.digest",
        "heartbeat.errors",
        "heartbeat.history",
        "heartbeat.logscan",
        "heartbeat.notes",
        "heartbeat.ping",
        "heartbeat.proc",
        "heartbeat.profiles",
        "heartbeat.scope",
        "heartbeat.session",
        "heartbeat.signatures",
        "heartbeat.state",
        "heartbeat.tmux",
        "heartbeat.words",
        "memory_schema",
        "memory_schema.cache",
        "memory_schema.files",
        "memory_schema.model",
        "memory_schema.shell",
    }
)
