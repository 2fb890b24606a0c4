"""The names ``heartbeat.cron`` had before the split, for code that imports them.

The crontab, its managed block and the entry reader live in
``heartbeat.schedule.crontab``; schedules in ``heartbeat.schedule.expr``; the
job every scheduler runs in ``heartbeat.schedule.job``; the cron scheduler in
``heartbeat.schedule.cron``; the self-watch in ``heartbeat.schedule.watch``.
"""

from __future__ import annotations

from heartbeat.schedule.cron import (
    LOG_NAME,
    NOTE,
    CronResult,
    build_entry,
    escape_percent,
    install,
    remove,
    render_block,
    render_entry,
    show,
)
from heartbeat.schedule.crontab import (
    BEGIN,
    END,
    Block,
    CronEntry,
    CrontabError,
    Table,
    check_writable,
    find_blocks,
    find_entry,
    installed_schedule,
    read_table,
    schedule_of,
    splice,
    write_table,
)
from heartbeat.schedule.expr import (
    DEFAULT_EVERY,
    NICKNAMES,
    describe_schedule,
    every_to_schedule,
    local_zone,
    next_runs,
    resolve_schedule,
    validate_schedule,
)
from heartbeat.schedule.job import BAKED_ENV, TOOLS, heartbeat_command
from heartbeat.schedule.result import Change
from heartbeat.schedule.watch import SelfWatch, WatchStatus, judge, self_watch

__all__ = [
    "BAKED_ENV",
    "BEGIN",
    "DEFAULT_EVERY",
    "END",
    "LOG_NAME",
    "NICKNAMES",
    "NOTE",
    "TOOLS",
    "Block",
    "Change",
    "CronEntry",
    "CronResult",
    "CrontabError",
    "SelfWatch",
    "Table",
    "WatchStatus",
    "build_entry",
    "check_writable",
    "describe_schedule",
    "escape_percent",
    "every_to_schedule",
    "find_blocks",
    "find_entry",
    "heartbeat_command",
    "install",
    "installed_schedule",
    "judge",
    "local_zone",
    "next_runs",
    "read_table",
    "remove",
    "render_block",
    "render_entry",
    "resolve_schedule",
    "schedule_of",
    "self_watch",
    "show",
    "splice",
    "validate_schedule",
    "write_table",
]
