"""The report of one check: DESIGN §5's JSON (``sessions``, ``problems``, ``exit_code`` …)."""

from __future__ import annotations

import dataclasses
import typing as t

from heartbeat.errors import ExitCode
from heartbeat.words import FINE

if t.TYPE_CHECKING:
    import memory_schema as ms
    from heartbeat.check.act import Outcome
    from heartbeat.tmux import Pane


class SessionReport(t.NamedTuple):
    """One session's line in the report (DESIGN §5's JSON `sessions`)."""

    name: str
    state: str
    exit_code: int | None
    diagnosis: str
    action: str
    restarts: int
    detail: str
    evidence: list[str]
    source: str
    hint: str = ""
    last_lines: list[str] = []  # noqa: RUF012 - a NamedTuple: never changed in place
    running_for: float | None = None
    idle: float | None = None
    verification: dict[str, object] | None = None
    agent: str | None = None
    #: The agent's own session id (what a restart resumes).
    agent_session: str | None = None

    @classmethod
    def of(cls, outcome: Outcome, ts: float) -> SessionReport:
        obs, decision = outcome.obs, outcome.decision
        from heartbeat.signatures import redact

        return cls(
            name=outcome.name,
            state=str(obs.state),
            exit_code=obs.exit_code,
            diagnosis=str(decision.diagnosis),
            action=str(outcome.action),
            restarts=len([r for r in outcome.memory.restarts if ts - r < 3600]),
            detail=outcome.detail,
            evidence=[redact(line) for line in decision.evidence],
            source=obs.entry.source,
            hint=decision.hint,
            last_lines=[redact(line) for line in obs.last_lines],
            running_for=obs.age if obs.exists else None,
            idle=obs.idle,
            verification=outcome.verification.to_json() if outcome.verification else None,
            agent=obs.profile,
            agent_session=outcome.memory.agent_session or obs.agent_session,
        )

    @classmethod
    def unlogged(cls, socket: str, pane: Pane, agent: str, new: bool, ts: float) -> SessionReport:
        """An agent session no note lists: reported (once), never acted on."""
        from heartbeat.check.rules import HINTS

        return cls(
            name=pane.session,
            state="running",
            exit_code=None,
            diagnosis="unlogged",
            action="reported" if new else "none",
            restarts=0,
            detail=f"{agent} runs in {pane.pane_id} on {socket}, and no note lists the session",
            evidence=[],
            source="",
            hint=HINTS["unlogged"].format(name=pane.session),
            running_for=max(0.0, ts - pane.created) if pane.created else None,
            agent=agent,
        )

    def to_json(self) -> dict[str, object]:
        return self._asdict()


@dataclasses.dataclass
class CheckResult:
    checked_at: str
    notes: list[str]
    sessions: list[SessionReport]
    problems: list[ms.Problem]
    dry_run: bool = False
    server: str = "running"
    server_message: str = ""
    tmux_calls: int = 0
    log_bytes_read: int = 0
    events: list[str] = dataclasses.field(default_factory=list)
    notifications: list[dict[str, object]] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    note_written: bool = False
    self_watch: str | None = None
    #: When this host's own check last ran (ISO 8601; this check, when it writes).
    last_check: str | None = None

    @property
    def exit_code(self) -> int:
        attention = self.problems or any(
            s.diagnosis not in FINE and not (s.diagnosis == "unlogged" and s.action == "none")
            for s in self.sessions
        )
        return int(ExitCode.ATTENTION if attention else ExitCode.OK)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "checked_at": self.checked_at,
            "notes": self.notes,
            "sessions": [s.to_json() for s in self.sessions],
            "problems": [p.to_json() for p in self.problems],
            "exit_code": self.exit_code,
        }
        for field in dataclasses.fields(self):
            data.setdefault(field.name, getattr(self, field.name))
        return data
