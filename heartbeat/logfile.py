"""The rotating debug log of the state folder (``heartbeat.log``).

Off the quiet path: ``heartbeat.cli.setup_logging`` imports it once logging is
loaded; ``heartbeat.debuglog`` (the lazy loggers) must not, so the two stay apart.
"""

from __future__ import annotations

import logging
import typing as t

if t.TYPE_CHECKING:
    import pathlib


class DebugLog(logging.Handler):
    """The rotating debug log (``heartbeat.log``, 1 MiB × 3), opened at its first record.

    A check that logs nothing (the quiet one) neither opens the file nor
    imports ``logging.handlers``; a folder that cannot be written only loses
    the records.
    """

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__(logging.DEBUG)
        self.path = path
        self.target: logging.Handler | None = None
        self.failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.target is None:
            if self.failed:
                return
            # off the quiet path: a dry-run check imports this module, and logs nothing
            import logging.handlers

            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                target = logging.handlers.RotatingFileHandler(
                    self.path, maxBytes=1 << 20, backupCount=3, encoding="utf-8"
                )
            except OSError:
                self.failed = True
                return
            target.setLevel(logging.DEBUG)
            target.setFormatter(self.formatter)
            self.target = target
        self.target.handle(record)

    def close(self) -> None:
        if self.target is not None:
            self.target.close()
        super().close()
