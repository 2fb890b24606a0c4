"""heartbeat's logging on the quiet path: loggers that cost nothing until they log.

``import logging`` costs several milliseconds (traceback, threading, string),
and a quiet `heartbeat check` makes no record at all. So the modules on its
path (``tests/test_perf_guards.py`` runs one and lists what it may not import:
``heartbeat.state``, ``heartbeat.check.journal``, ``heartbeat.cli``,
``heartbeat.ping``) log through ``LazyLogger(__name__)``, which imports
logging at its first record. Every other module, and the memory_schema
library, uses ``logging.getLogger(__name__)`` as usual.

The CLI configures logging once (``heartbeat.cli.setup_logging``: stderr,
and the debug log of ``heartbeat.logfile`` — a ``logging.Handler``, so a
module of its own, as this one must not import logging). When logging is not
loaded yet it leaves that configuration in ``LazyLogger.configure``, which
runs as soon as anything imports ``logging`` — a lazy logger's first record, a module off
the quiet path, memory_schema's record of a cache it cannot read, a library —
so every record reaches the same handlers. (A finder on ``sys.meta_path``,
put there while logging is not loaded, sees that import: the one hook Python
has for it.)
"""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:
    import logging
    import types
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec


class LazyLogger:
    """``logging.getLogger(name)``, looked up (and logging imported) at the first record."""

    #: The host's logging configuration, run once when logging is first imported (None: none).
    configure: t.ClassVar[Callable[[], None] | None] = None

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def logger(self) -> logging.Logger:
        import logging

        _configure()  # when logging was loaded before this module (no finder saw it)
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


def _configure() -> None:
    """Run the pending configuration, once."""
    configure, LazyLogger.configure = LazyLogger.configure, None
    if configure is not None:
        configure()


class _LoggingThenConfigure:
    """Loads ``logging`` with its own loader, then runs the pending configuration."""

    def __init__(self, loader: t.Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # type: ignore[union-attr]
        self.loader.exec_module(module)
        _configure()


class _WhenLoggingLoads:
    """On ``sys.meta_path`` until ``logging`` is imported; then out of the way."""

    @classmethod
    def find_spec(
        cls,
        name: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> ModuleSpec | None:
        if name != "logging":
            return None
        sys.meta_path.remove(cls)
        for finder in sys.meta_path:
            spec: ModuleSpec | None = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _LoggingThenConfigure(spec.loader)  # type: ignore[assignment]
                return spec
        return None


if "logging" not in sys.modules:
    sys.meta_path.insert(0, _WhenLoggingLoads)
