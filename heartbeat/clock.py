"""The clock of a check: the current time, aware, without a date library.

``now`` is a plain ``datetime.datetime`` in a ``zoneinfo`` zone: the configured
one (``HEARTBEAT_TZ``), else the machine's, found the way pendulum finds it so
that a check reads the same wall clock as every other command. A quiet check
then never imports pendulum; what needs it (parsing a note's start time) turns
this time into a pendulum one with ``as_pendulum``.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import sys
import typing as t
import zoneinfo

from heartbeat.errors import ConfigError

if t.TYPE_CHECKING:
    import pendulum

#: Files where some distributions keep the zone's name, which pendulum also reads.
_CLOCK_FILES = ("/etc/sysconfig/clock", "/etc/conf.d/clock")


def now(timezone: str | None = None) -> datetime.datetime:
    """The current time in *timezone* (an IANA name), else in the machine's zone.

    Raises ConfigError for a name that is not a time zone.
    """
    return datetime.datetime.now(zone(timezone) if timezone else local_zone())


def zone(name: str) -> datetime.tzinfo:
    """The zone called *name* (``utc`` in any case is UTC, as pendulum has it)."""
    try:
        return zoneinfo.ZoneInfo("UTC" if name.lower() == "utc" else name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"the time zone {name!r} (HEARTBEAT_TZ or timezone in the configuration) is not "
            "known; use an IANA name such as Europe/Berlin, or leave it unset for the "
            "machine's zone"
        ) from None


_local: datetime.tzinfo | None = None


def local_zone() -> datetime.tzinfo:
    """The machine's zone, by pendulum's rules (TZ, /etc/timezone, /etc/localtime).

    The common cases are read here; any other setup is asked of pendulum itself.
    """
    global _local
    if _local is None:
        _local = _system_zone() or _pendulum_local()
    return _local


def _system_zone() -> datetime.tzinfo | None:
    localtime = pathlib.Path("/etc/localtime")
    if sys.platform == "darwin":
        try:
            link = str(localtime.readlink())
        except OSError:
            return None
        return _named(link[link.rfind("zoneinfo/") + 9 :])
    if sys.platform == "win32":
        return None
    tz = os.environ.get("TZ")
    if tz:
        tz = tz.removeprefix(":")
        found = _from_file(pathlib.Path(tz)) if pathlib.Path(tz).is_file() else _named(tz)
        if found is not None:
            return found
    etc = pathlib.Path("/etc/timezone")
    if etc.is_file():
        try:
            data = etc.read_bytes()
            if not data.startswith(b"TZif2"):
                name = data.strip().decode().partition(" ")[0].partition("#")[0]
                return _named(name.replace(" ", "_"))
        except (OSError, UnicodeDecodeError):
            return None  # pendulum says what is wrong
    if any(pathlib.Path(path).is_file() for path in _CLOCK_FILES):
        return None
    if localtime.is_file() and localtime.is_symlink():
        parts = str(localtime.resolve()).replace(" ", "_").split(os.path.sep)
        for count in range(1, len(parts) + 1):
            found = _named(os.path.sep.join(parts[-count:]))
            if found is not None:
                return found
    return _from_file(localtime) if localtime.is_file() else None


def _named(key: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _from_file(path: pathlib.Path) -> zoneinfo.ZoneInfo | None:
    try:
        with path.open("rb") as handle:
            return zoneinfo.ZoneInfo.from_file(handle)
    except (OSError, ValueError):
        return None


def _pendulum_local() -> datetime.tzinfo:
    from pendulum.tz.local_timezone import get_local_timezone

    return get_local_timezone()


def as_pendulum(moment: datetime.datetime) -> pendulum.DateTime:
    """*moment* as a pendulum DateTime in the same zone (for what parses dates)."""
    import pendulum

    if isinstance(moment, pendulum.DateTime):
        return moment
    key = getattr(moment.tzinfo, "key", "")
    if key is None:  # the machine's zone, read from a file: pendulum reads the same one
        from pendulum.tz.local_timezone import get_local_timezone

        local = get_local_timezone()
        return pendulum.instance(datetime.datetime.fromtimestamp(moment.timestamp(), local))
    return pendulum.instance(moment)


def pendulum_now(timezone: str | None = None) -> pendulum.DateTime:
    """``now`` as a pendulum DateTime, for the commands whose core does calendar
    arithmetic on it (a note's ``started``, a pause's end)."""
    return as_pendulum(now(timezone))
