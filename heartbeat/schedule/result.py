"""What `schedule install|remove|show` did and found, for every scheduler alike."""

from __future__ import annotations

import dataclasses
import enum
import typing as t

if t.TYPE_CHECKING:
    import pathlib

    import pendulum

    from heartbeat.schedule.watch import SelfWatch


class Change(enum.StrEnum):
    INSTALLED = "installed"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    ABSENT = "absent"


@dataclasses.dataclass(frozen=True)
class ScheduleResult:
    """One scheduler's answer: what changed, what is installed, when it runs next.

    ``text`` is what was installed as the user would read it (the crontab block,
    the plist, the unit files, the automation's command); ``running`` is whether
    the scheduler has it loaded or active (None: not asked or not knowable);
    ``why`` says why this scheduler was chosen when none was named.
    """

    via: str
    change: Change | None
    message: str
    installed: bool
    schedule: str | None = None
    next_runs: list[pendulum.DateTime] = dataclasses.field(default_factory=list)
    log_file: pathlib.Path | None = None
    text: str | None = None
    files: list[str] = dataclasses.field(default_factory=list)
    job_id: str | None = None
    running: bool | None = None
    status: str | None = None
    watch: SelfWatch | None = None
    why: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, t.Any]:
        return {
            "via": self.via,
            "why": self.why,
            "change": None if self.change is None else str(self.change),
            "installed": self.installed,
            "schedule": self.schedule,
            "next_runs": [run.isoformat() for run in self.next_runs],
            "log_file": None if self.log_file is None else str(self.log_file),
            "files": self.files,
            "job_id": self.job_id,
            "running": self.running,
            "status": self.status,
            "text": self.text,
            "notes": self.notes,
            "self_watch": None if self.watch is None else self.watch.to_json(),
            **self.extra,
        }
