"""Loggers that import ``logging`` at their first record.

``import logging`` costs several milliseconds (traceback, threading, string);
a quiet `heartbeat check` makes no record at all, so it should not pay them.
``LazyLogger(name)`` stands where ``logging.getLogger(name)`` stood. A host
that configures logging (handlers, levels) sets ``LazyLogger.configure``:
it runs once, before the first record of any lazy logger, so the library's
records reach the host's handlers as before.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable


class LazyLogger:
    """``logging.getLogger(name)``, looked up (and logging imported) at the first record."""

    #: Called once before the first record of any LazyLogger (None: nothing to do).
    configure: t.ClassVar[Callable[[], None] | None] = None

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def logger(self) -> logging.Logger:
        import logging

        configure, LazyLogger.configure = LazyLogger.configure, None
        if configure is not None:
            configure()
        return logging.getLogger(self.name)

    def debug(self, msg: object, *args: object, **kwargs: t.Any) -> None:
        self.logger().debug(msg, *args, **kwargs)

    def info(self, msg: object, *args: object, **kwargs: t.Any) -> None:
        self.logger().info(msg, *args, **kwargs)

    def warning(self, msg: object, *args: object, **kwargs: t.Any) -> None:
        self.logger().warning(msg, *args, **kwargs)

    def error(self, msg: object, *args: object, **kwargs: t.Any) -> None:
        self.logger().error(msg, *args, **kwargs)

    def exception(self, msg: object, *args: object, **kwargs: t.Any) -> None:
        self.logger().exception(msg, *args, **kwargs)
