"""The assistant's own scheduler: an OpenClaw automation that runs the check (DESIGN §7).

``openclaw automations create --name heartbeat --every 5m --command "…"`` stores
a deterministic job in the gateway: no model turn, the command's output is
delivered to the user unless it is only ``NO_REPLY``. The command sets
``HEARTBEAT_NO_REPLY=1``, under which ``heartbeat check --quiet`` prints
``NO_REPLY`` when there is no news, and exits 0 when it printed news (OpenClaw
backs off and at last disables a job whose runs keep exiting non-zero). Older
OpenClaw names the group ``cron``; it is used when ``automations`` is unknown.

OpenClaw gives each job an id; the one created here is kept in the state folder
(``openclaw-automation.json``), so ``remove`` takes out exactly that job.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import shlex
import typing as t

from heartbeat import proc
from heartbeat.errors import ConfigError
from heartbeat.schedule import Change, ScheduleResult
from heartbeat.schedule.job import (
    build_job,
    ensure_log_folder,
    every_of,
    log_folder,
    next_runs,
    validate_schedule,
)
from heartbeat.schedule.watch import Installed, self_watch

if t.TYPE_CHECKING:
    import datetime
    import pathlib
    from collections.abc import Mapping, Sequence

    from heartbeat.config import Settings

log = logging.getLogger(__name__)

NAME = "heartbeat"
RECORD = "openclaw-automation.json"
NO_REPLY_ENV = "HEARTBEAT_NO_REPLY"
GROUPS = ("automations", "cron")
TIMEOUT = 60.0
_UNKNOWN = re.compile(r"unknown command", re.IGNORECASE)
_ID = re.compile(r"\b(?:id|jobId|job id)\b[\"']?\s*[:=]\s*[\"']?([\w:.-]+)", re.IGNORECASE)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


class OpenclawError(ConfigError):
    """openclaw refused or failed; the message carries its words and what to do."""


def record_path(settings: Settings) -> pathlib.Path:
    return log_folder(settings) / RECORD


def command_line(
    settings: Settings, env: Mapping[str, str] | None = None, command: Sequence[str] | None = None
) -> str:
    """The shell command the automation runs (OpenClaw runs it with ``sh -lc``)."""
    job = build_job(settings, env, command)
    assignments = [*job.environment, (NO_REPLY_ENV, "1")]
    words = ["env", *(f"{name}={shlex.quote(value)}" for name, value in assignments)]
    return " ".join([*words, *(shlex.quote(word) for word in job.argv)])


def _openclaw(group: str, *args: str) -> proc.Result:
    result = proc.run(["openclaw", group, *args], timeout=TIMEOUT)
    if result.missing:
        raise OpenclawError(
            "'openclaw' is not on PATH: install OpenClaw, or use another scheduler (--via)"
        )
    return result


def _fail(what: str, result: proc.Result) -> OpenclawError:
    return OpenclawError(
        f"`openclaw {what}` failed: {result.reason()}; is the gateway running "
        "(`openclaw gateway status`)?"
    )


def _jobs() -> tuple[str, list[dict[str, t.Any]]]:
    """(the command group this OpenClaw has, its jobs). Raises OpenclawError."""
    for group in GROUPS:
        result = _openclaw(group, "list", "--json")
        if not result.ok and _UNKNOWN.search(result.output):
            continue
        if not result.ok:
            raise _fail(f"{group} list --json", result)
        try:
            data = json.loads(result.stdout or "{}")
        except ValueError:
            raise OpenclawError(
                f"`openclaw {group} list --json` printed no JSON: {result.output[:200]}"
            ) from None
        jobs = data.get("jobs", []) if isinstance(data, dict) else data
        return group, [job for job in jobs if isinstance(job, dict)]
    raise OpenclawError(
        "this openclaw knows neither `automations` nor `cron`: update OpenClaw, "
        "or use another scheduler (--via)"
    )


def created_id(output: str) -> str | None:
    """The id of the job ``create`` printed: JSON ``id``/``jobId``, else an ``id:`` or a UUID."""
    try:
        data = json.loads(output)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for holder in (data, data.get("job"), data.get("result")):
            if isinstance(holder, dict):
                for key in ("id", "jobId"):
                    if isinstance(holder.get(key), str) and holder[key]:
                        return str(holder[key])
    match = _ID.search(output) or _UUID.search(output)
    return match.group(match.lastindex or 0) if match else None


def _load(settings: Settings) -> dict[str, t.Any] | None:
    path = record_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise OpenclawError(
            f"{path} cannot be read ({error}); delete it and install again"
        ) from None
    return data if isinstance(data, dict) else None


def _save(settings: Settings, record: dict[str, t.Any]) -> None:
    path = record_path(settings)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    temp.replace(path)


def _find(jobs: list[dict[str, t.Any]], record: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
    if not record or not record.get("id"):
        return None
    return next((job for job in jobs if job.get("id") == record["id"]), None)


def install(
    settings: Settings,
    schedule: str,
    now: datetime.datetime,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> ScheduleResult:
    """Create the automation (replacing the one created before if it differs); idempotent.

    Raises UsageError for a bad schedule, OpenclawError when openclaw fails.
    """
    schedule = validate_schedule(schedule)
    line = command_line(settings, env, command)
    group, jobs = _jobs()
    record = _load(settings)
    current = _find(jobs, record)
    runs = next_runs(schedule, now)
    wanted = {"schedule": schedule, "command": line}
    if current is not None and record and all(record.get(k) == v for k, v in wanted.items()):
        message = "the OpenClaw automation is already installed as asked; nothing changed"
        return _result(settings, Change.UNCHANGED, message, record, runs, running=True)
    ensure_log_folder(settings, OpenclawError, "OpenClaw's record of the automation")
    if current is not None and record:
        _remove_job(group, str(record["id"]))
    every = every_of(schedule)
    when = ["--every", every] if every else ["--cron", schedule]
    result = _openclaw(group, "create", "--name", NAME, *when, "--command", line)
    if not result.ok:
        raise _fail(f"{group} create", result)
    job_id = created_id(result.stdout) or created_id(result.output)
    if job_id is None:
        raise OpenclawError(
            f"`openclaw {group} create` printed no job id ({result.output[:200]!r}); "
            f"find the job with `openclaw {group} list` and remove it by hand"
        )
    record = {"id": job_id, "group": group, "name": NAME, **wanted}
    _save(settings, record)
    change = Change.REPLACED if current is not None else Change.INSTALLED
    log.info("openclaw: %s %s as %s", change, schedule, job_id)
    words = "created" if change is Change.INSTALLED else "replaced"
    message = f"{words} the OpenClaw automation {job_id} ({group})"
    return _result(settings, change, message, record, runs, running=True)


def _remove_job(group: str, job_id: str) -> None:
    result = _openclaw(group, "remove", job_id)
    if not result.ok and not re.search(r"not found|no such|unknown job", result.output, re.I):
        raise _fail(f"{group} remove {job_id}", result)


def remove(settings: Settings) -> ScheduleResult:
    """Remove the automation this heartbeat created (by its recorded id); idempotent."""
    record = _load(settings)
    if record is None:
        message = "no heartbeat OpenClaw automation recorded; nothing to remove"
        return _result(settings, Change.ABSENT, message, None, [], running=None)
    if record.get("id"):
        _remove_job(str(record.get("group") or GROUPS[0]), str(record["id"]))
    record_path(settings).unlink(missing_ok=True)
    message = f"removed the OpenClaw automation {record.get('id')}"
    return _result(settings, Change.REMOVED, message, None, [], running=False)


def show(settings: Settings, now: datetime.datetime) -> ScheduleResult:
    """The recorded automation, whether the gateway still has it (and how its last run
    ended), the next runs and whether the checks keep up. Read-only."""
    record = _load(settings)
    if record is None:
        message = (
            "no heartbeat OpenClaw automation; "
            "add one with `heartbeat schedule install --via openclaw`"
        )
        return _result(settings, None, message, None, [], running=None)
    schedule = validate_schedule(str(record.get("schedule")), flag=str(record_path(settings)))
    try:
        _, jobs = _jobs()
    except OpenclawError as error:
        job, status = None, f"unknown: {error}"
    else:
        job = _find(jobs, record)
        status = _describe(job) if job else "gone: the gateway no longer has this job"
    running = job is not None and job.get("enabled", True) is not False
    message = f"the OpenClaw automation {record.get('id')}:"
    result = _result(settings, None, message, record, next_runs(schedule, now), running, status)
    return dataclasses.replace(result, watch=self_watch(settings, now, via="openclaw"))


def _describe(job: dict[str, t.Any]) -> str:
    raw = job.get("state")
    state: dict[str, t.Any] = raw if isinstance(raw, dict) else {}
    facts = {"enabled": job.get("enabled", True)}
    for key in ("lastStatus", "lastRunStatus", "consecutiveErrors", "lastError"):
        if state.get(key) not in (None, ""):
            facts[key] = state[key]
    return ", ".join(f"{key} = {value}" for key, value in facts.items())


def _result(
    settings: Settings,
    change: Change | None,
    message: str,
    record: dict[str, t.Any] | None,
    runs: list[t.Any],
    running: bool | None,
    status: str | None = None,
) -> ScheduleResult:
    return ScheduleResult(
        via="openclaw",
        change=change,
        message=message,
        installed=record is not None,
        schedule=None if record is None else str(record.get("schedule")),
        next_runs=runs,
        text=None if record is None else str(record.get("command")),
        files=[str(record_path(settings))] if record is not None else [],
        job_id=None if record is None else str(record.get("id")),
        running=running,
        status=status,
    )


def still_there(settings: Settings) -> bool:
    """Whether the gateway still has the recorded automation; raises OpenclawError when
    it cannot be asked."""
    _, jobs = _jobs()
    return _find(jobs, _load(settings)) is not None


def find_installed(settings: Settings) -> Installed | None:
    """The recorded automation's schedule (no openclaw call)."""
    record = _load(settings)
    if record is None:
        return None
    schedule = validate_schedule(str(record.get("schedule")), flag=str(record_path(settings)))
    return Installed("openclaw", schedule, f"automation {record.get('id')}")
