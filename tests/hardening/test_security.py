"""Security: loose notes run nothing, secrets never leave redacted, text never becomes a shell.

The agents here print real-looking secrets and shell text (`$(touch FILE)`,
`'; rm -rf FILE`) into the pane and the codex log; after the checks that
restart and notify, every file that could have been touched is looked at.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import typing as t

import pytest

from heartbeat.tmux import FORMAT, Tmux
from tests import helpers
from tests.hardening import support

SECRETS = {
    "sk": "sk-proj-" + "Zq3RkV9mX2bT7nW4pL8cY1dF6gH0jK5s",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbg",
    "ghp": "ghp_" + "Q7w8E9r0T1y2U3i4O5p6A7s8D9f0G1h2J3k4",
    "xoxb": "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
}


def leaky_agent(folder: pathlib.Path, canaries: pathlib.Path, kind: str) -> str:
    """A stand-in agent script printing secrets and shell text, then failing (exit 1).

    *kind* "auth" fails on a 401 (blocked, never restarted); "fail" on an
    ordinary error (restarted and notified).
    """
    folder.mkdir(exist_ok=True)
    script = folder / f"leaky-{kind}"
    victim = canaries / "victim"
    why = "unexpected status 401 Unauthorized" if kind == "auth" else "stream disconnected"
    script.write_text(
        "#!/bin/sh\n"
        f"echo 'export OPENAI_API_KEY={SECRETS['sk']}'\n"
        f"echo 'curl -H \"Authorization: Bearer {SECRETS['bearer']}\" https://api'\n"
        f"echo 'git push https://x-access-token:{SECRETS['ghp']}@github.com/a/b.git'\n"
        f"echo 'SLACK_TOKEN={SECRETS['xoxb']}'\n"
        f"echo 'run $(touch {canaries}/dollar) and `touch {canaries}/backtick`'\n"
        f"echo \"'; rm -rf {victim}; echo '\"\n"
        f"echo 'ERROR: {why}: key {SECRETS['sk']} token {SECRETS['xoxb']} "
        f"Bearer {SECRETS['bearer']} $(touch {canaries}/error-line)'\n"
        "exit 1\n"
    )
    script.chmod(0o755)
    return str(script)


def everything_written(*roots: pathlib.Path) -> str:
    """The text of every file under *roots* (notes, state, logs, notifier output)."""
    parts = []
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and not path.is_symlink():
                parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


class Leak(t.NamedTuple):
    id: str
    kind: str
    diagnosis: str
    action: str


LEAKS = [
    Leak("auth-blocked", "auth", "auth_expired", "reported"),
    Leak("failed-restarted", "fail", "failed", "restarted"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", LEAKS, ids=[c.id for c in LEAKS])
def test_secrets_are_redacted_and_shell_text_runs_nothing(
    case: Leak,
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    notify_log: pathlib.Path,
) -> None:
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    (canaries / "victim").write_text("still here\n")
    command = leaky_agent(tmp_path / "bin", canaries, case.kind)
    note = helpers.write_note(notes_dir, helpers.canonical("job", command))
    log = tmp_path / "codex" / "log" / "codex-tui.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "2026-01-01T00:00:00.000000Z ERROR codex_core::auth: Failed to refresh token: "
        f"Bearer {SECRETS['bearer']} sk {SECRETS['sk']}\n"
    )
    helpers.start(agents, "job", command, None)
    helpers.wait_exited(agents, "job")
    assert "Bearer" in helpers.pane_text(agents, "job")  # the secrets are really there
    run = support.run_cli("check", "--json")
    job = next(s for s in run.json["sessions"] if s["name"] == "job")
    assert (job["diagnosis"], job["action"]) == (case.diagnosis, case.action)
    assert job["evidence"] or case.kind == "fail"
    assert any("[REDACTED" in line for line in job["last_lines"] + job["evidence"])
    helpers.wait_exited(agents, "job")
    status = support.run_cli("status", "--json")
    files = everything_written(notes_dir, tmp_path / "state", notify_log)
    written = "\n".join([run.stdout, run.stderr, status.stdout, status.stderr, files])
    assert notify_log.read_text().strip()
    for name, secret in SECRETS.items():
        assert secret not in written, name
        assert secret[8:24] not in written, name  # not even a piece of it
    assert "job" in note.read_text()
    assert sorted(p.name for p in canaries.iterdir()) == ["victim"]
    assert (canaries / "victim").read_text() == "still here\n"


def test_echo_secrets_stand_in_runs_nothing(
    agents: pathlib.Path, notes_dir: pathlib.Path, notify_log: pathlib.Path
) -> None:
    """The stand-in codex's own echo-secrets scenario: `$(touch /tmp/pwned)` in an ERROR line."""
    pwned = pathlib.Path("/tmp/pwned")
    if pwned.exists():
        pytest.skip("/tmp/pwned exists already; cannot tell who made it")
    command = "codex exec -s workspace-write 'scenario:echo-secrets push'"
    helpers.write_note(notes_dir, helpers.canonical("job", command))
    helpers.start(agents, "job", command, None)
    helpers.wait_exited(agents, "job")
    result = support.check_at()
    job = support.session(result, "job")
    assert job.diagnosis == "auth_expired"
    for line in job.evidence + job.last_lines:
        assert "ghp_A1b2" not in line and "sk-abc123" not in line
    assert not pwned.exists()


class Loose(t.NamedTuple):
    id: str
    apply: t.Callable[[pathlib.Path, pathlib.Path], None]
    refused: str


def chown_note(folder: pathlib.Path, note: pathlib.Path) -> None:
    os.chown(note, 65534, 65534)


def link_to_loose(folder: pathlib.Path, note: pathlib.Path) -> None:
    real = folder / "real-note.txt"
    note.rename(real)
    real.chmod(0o666)
    note.symlink_to(real.name)


LOOSE = [
    Loose("folder-writable-by-others", lambda d, n: d.chmod(0o777), "folder"),
    Loose("folder-writable-by-group", lambda d, n: d.chmod(0o775), "folder"),
    Loose("note-writable-by-others", lambda d, n: n.chmod(0o646), "note"),
    Loose("note-writable-by-group", lambda d, n: n.chmod(0o664), "note"),
    Loose("note-owned-by-another-user", chown_note, "note"),
    Loose("note-linked-to-a-loose-file", link_to_loose, "note"),
]


@pytest.mark.parametrize("case", LOOSE, ids=[c.id for c in LOOSE])
def test_loose_notes_are_refused_and_nothing_runs(
    case: Loose, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    canary = tmp_path / "ran"
    note = helpers.write_note(notes_dir, helpers.canonical("job", f"touch {canary}"))
    case.apply(notes_dir, note)
    try:
        run = support.run_cli("check", "--json")
    finally:
        notes_dir.chmod(0o755)
    assert run.code == 1
    report = run.json
    assert report["sessions"] == []
    assert any(
        f"the {case.refused} is" in p["message"]
        and ("chmod" in p["message"] or "chown" in p["message"])
        for p in report["problems"]
    ), report["problems"]
    assert not os.path.lexists(os.environ["HEARTBEAT_SOCKET"])
    assert not canary.exists()


def test_a_loose_older_note_is_refused_alone(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """Yesterday's note is writable by others: its session is neither run nor carried."""
    import pendulum

    yesterday = pendulum.now().subtract(days=1).format("YYYY-MM-DD")
    canary = tmp_path / "ran"
    old = helpers.write_note(
        notes_dir, helpers.canonical("old", f"touch {canary}; sleep 600"), day=yesterday
    )
    old.chmod(0o666)
    work = helpers.work_dir(notes_dir)
    today = helpers.write_note(notes_dir, helpers.canonical("new", "sleep 600", work))
    result = support.check_at()
    assert [s.name for s in result.sessions] == ["new"]
    assert support.session(result, "new").action == "restarted"
    assert "`old`" not in today.read_text()
    assert not canary.exists()


NAMES = ["#{pane_id}", "=x", "x:1", "a.b", "#(touch CANARY)", "a b", "}", "$(id)", "x;y"]


def test_names_never_reach_tmux(
    agents: pathlib.Path,
    notes_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every tmux call goes through a logging wrapper: no name that tmux would rewrite or
    expand is ever an argument, and `#(…)` (tmux's own shell format) never runs."""
    canary = tmp_path / "canary"
    names = [n.replace("CANARY", str(canary)) for n in NAMES]
    lines = [f"- `{n}`: `sleep 600`\n" for n in names]
    lines.append(f"- `tmux -S ~/.tmux/sock new -d -s '{names[0]}' 'sleep 600'`\n")
    lines.append("| Session | Command |\n|---|---|\n| x:1 | `sleep 600` |\n")
    lines.append(helpers.canonical("fine", "sleep 600", helpers.work_dir(notes_dir)))
    note = helpers.write_note(notes_dir, "".join(lines))
    real = subprocess.run(["which", "tmux"], capture_output=True, text=True).stdout.strip()
    calls = tmp_path / "tmux-calls"
    wrapper = tmp_path / "wrap"
    wrapper.mkdir()
    (wrapper / "tmux").write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> {calls}\nexec {real} "$@"\n'
    )
    (wrapper / "tmux").chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper}:{os.environ['PATH']}")
    run = support.run_cli("check", "--json")
    report = run.json
    assert [s["name"] for s in report["sessions"]] == ["fine"]
    assert len(report["problems"]) >= len(names)
    arguments = [a for a in calls.read_text().splitlines() if a != FORMAT]  # our own format
    for name in names:
        assert name not in arguments and f"={name}" not in arguments, name
        assert not any(name in a for a in arguments), name
    assert not canary.exists()
    assert "fine" in note.read_text()
    listed = Tmux(agents).run("list-sessions", "-F", "#{session_name}").stdout.split()
    assert listed == ["fine"]


def test_a_dir_from_the_notes_is_quoted_not_run(
    agents: pathlib.Path, notes_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    canary = tmp_path / "from-dir"
    entry = f"- `job` — running · dir `/tmp/x$(touch {canary})`\n  - command: `sleep 600`\n"
    helpers.write_note(notes_dir, entry)
    result = support.check_at()
    assert support.session(result, "job").action == "restarted"
    helpers.wait_for_text(agents, "job", "EXITED:")
    assert not canary.exists()
