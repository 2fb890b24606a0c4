"""What the doctor's checks share: a finding, the report, and the context they read."""

from __future__ import annotations

import dataclasses
import enum
import os
import pathlib
import shlex
import shutil
import sys
import typing as t

import memory_schema as ms
from heartbeat import proc
from heartbeat.errors import ExitCode

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    import pendulum

    from heartbeat.config import Settings
    from heartbeat.schedule.watch import Installed

#: Seconds any probe (tmux -V, codex login status, crontab -l, launchctl) may take.
PROBE_TIMEOUT = 15.0


class Level(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: which check, how bad, what, how to fix."""

    check: str
    level: Level
    what: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.level:<4}  {self.what}"
        return f"{text}  — {self.fix}" if self.fix else text

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "level": str(self.level), "what": self.what, "fix": self.fix}


@dataclasses.dataclass
class DoctorResult:
    findings: list[Finding]

    @property
    def exit_code(self) -> int:
        failed = any(f.level is Level.FAIL for f in self.findings)
        return int(ExitCode.ATTENTION if failed else ExitCode.OK)

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def counts(self) -> dict[str, int]:
        counts = {str(level): 0 for level in Level}
        for finding in self.findings:
            counts[str(finding.level)] += 1
        return counts

    def to_json(self) -> dict[str, object]:
        return {
            "findings": [f.to_json() for f in self.findings],
            "counts": self.counts(),
            "exit_code": self.exit_code,
        }


@dataclasses.dataclass
class Context:
    """What every check reads: the settings, the clock, the environment, PATHs, crontab,
    and the platform (``sys.platform``; injected so the macOS checks run anywhere)."""

    settings: Settings
    now: pendulum.DateTime
    env: Mapping[str, str]
    #: The PATH a check started from this shell uses (the prefix first, as check does).
    path: str
    #: The crontab's text, or None until read (``crontab_text``).
    table: str | None = None
    table_error: str | None = None
    config_finding: Finding | None = None
    platform: str = sys.platform
    home: pathlib.Path = dataclasses.field(default_factory=pathlib.Path.home)
    #: The schedulers that run the heartbeat, or None until found (``schedulers``).
    schedulers: list[Installed] | None = None
    #: Where processes' cgroups are read (``/proc``; a test's own folder).
    proc_root: pathlib.Path = pathlib.Path("/proc")

    def which(self, program: str, path: str | None = None) -> str | None:
        return shutil.which(program, path=self.path if path is None else path)


def with_prefix(prefix: str, path: str) -> str:
    """*path* with the folders of *prefix* that it lacks put first (``fix_process_path``)."""
    current = path.split(os.pathsep)
    missing = [p for p in prefix.split(os.pathsep) if p and p not in current]
    return os.pathsep.join([*missing, *current])


def run(argv: list[str], env: Mapping[str, str]) -> tuple[int | None, str]:
    """(exit status, stdout+stderr) of a short probe; None status when it could not run."""
    result = proc.run(argv, timeout=PROBE_TIMEOUT, env=env)
    if result.error is not None:
        return None, result.error
    return result.returncode, result.output


def first_line(text: str) -> str:
    """The first line that says something (codex's own ``WARNING:`` preamble skipped)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith("WARNING:")]
    return (said or lines or [""])[0]


def quoted(path: os.PathLike[str] | str) -> str:
    return shlex.quote(os.fspath(path))


def loose(path: pathlib.Path) -> str | None:
    """memory_schema's reason why *path* is writable by others, without its fix clause."""
    reason = ms.loose_permissions(path)
    return None if reason is None else reason.split("; fix it")[0]


def source(ctx: Context, key: str) -> str:
    return ctx.settings.sources.get(key, "default")
