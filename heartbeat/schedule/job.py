"""What every scheduler runs: this heartbeat's absolute path, the PATH and the variables.

A scheduler gives a job almost nothing of the user's shell: cron ``/usr/bin:/bin``,
launchd ``/usr/bin:/bin:/usr/sbin:/sbin``, a systemd user unit the manager's
environment, OpenClaw its gateway's. So the job names absolute paths and carries
a PATH (the configured prefix, the folders of the tools a check runs as found
now, then ``/usr/bin:/bin``) and the heartbeat's own variables as set at install.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import sys
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from heartbeat.config import Settings

#: What cron itself puts on PATH; always last in a job's PATH.
BASE_PATH = ("/usr/bin", "/bin")
#: Programs a check may run (or hand to tmux): their folders go on the job's PATH.
TOOLS = ("tmux", "git", "codex", "ralphy", "claude", "gemini", "openclaw")
#: Variables copied into the job when set at install time: schedulers pass none of the
#: user's environment, and a careful user expects the scheduled check to see what theirs
#: sees. HOME is not among them: every scheduler sets it from the password database.
BAKED_ENV = (
    "HEARTBEAT_NOTES_DIR",
    "HEARTBEAT_SOCKET",
    "HEARTBEAT_STATE_DIR",
    "HEARTBEAT_CONFIG",
    "HEARTBEAT_NOTIFY",
    "HEARTBEAT_PING_URL",
    "HEARTBEAT_TZ",
    "CODEX_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
)
#: Baked as absolute paths: a scheduler's cwd is HOME (or /), not the folder install ran in.
PATH_VARS = frozenset(
    {
        "HEARTBEAT_NOTES_DIR",
        "HEARTBEAT_SOCKET",
        "HEARTBEAT_STATE_DIR",
        "HEARTBEAT_CONFIG",
        "CODEX_HOME",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
    }
)
#: Set even when empty (an empty HEARTBEAT_NOTIFY turns notification off).
KEEP_EMPTY = frozenset({"HEARTBEAT_NOTIFY"})
#: The arguments after the heartbeat command: quiet, so logs hold only news and problems.
CHECK_ARGS = ("check", "--quiet")


@dataclasses.dataclass(frozen=True)
class Job:
    """One scheduled check: the program and its arguments, PATH, and the variables."""

    command: tuple[str, ...]
    path: str
    variables: tuple[tuple[str, str], ...]

    @property
    def argv(self) -> list[str]:
        return [*self.command, *CHECK_ARGS]

    @property
    def environment(self) -> list[tuple[str, str]]:
        """PATH first, then the variables: what the job's environment must hold."""
        return [("PATH", self.path), *self.variables]


def heartbeat_command() -> list[str]:
    """The absolute command that runs this very installation of heartbeat.

    The console script beside the running interpreter (a venv's or pipx's
    ``bin/heartbeat``) when there is one, else ``python -m heartbeat`` with that
    interpreter. Not ``sys.argv[0]`` (it is ``__main__.py`` under ``python -m``
    and pytest under tests) and not ``shutil.which`` (it may find another
    installation). ``sys.executable`` is not resolved: a venv's ``python`` is a
    symlink, and resolving it would lose the venv.
    """
    python = pathlib.Path(sys.executable).absolute()
    script = python.parent / "heartbeat"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(python), "-m", "heartbeat"]


def job_path(settings: Settings, env: Mapping[str, str], command: Sequence[str]) -> str:
    """PATH for the job: the configured prefix (the seed's fix), the folders of
    heartbeat and of the tools a check runs (as found now), then ``/usr/bin:/bin``
    (always last)."""
    prefix = settings.path_prefix.split(os.pathsep)
    folders = [os.path.expanduser(folder) for folder in prefix if folder]
    folders.append(str(pathlib.Path(command[0]).parent))
    for tool in TOOLS:
        found = shutil.which(tool, path=env.get("PATH", os.defpath))
        if found:
            folders.append(str(pathlib.Path(found).absolute().parent))
    # the base comes last even when a tool lives there, so the order never depends on it
    folders = [folder for folder in folders if folder not in BASE_PATH]
    return os.pathsep.join(dict.fromkeys([*folders, *BASE_PATH]))


def baked_env(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The ``BAKED_ENV`` variables set in ``env``, in that order, paths made absolute."""
    from heartbeat.config import expand

    baked = []
    for name in BAKED_ENV:
        value = env.get(name)
        if value is None or (not value and name not in KEEP_EMPTY):
            continue
        if name in PATH_VARS:
            value = str(expand(value).absolute())
        baked.append((name, value))
    return baked


def build_job(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> Job:
    """The job for this installation, settings and environment.

    Pins what depends on the installing shell: the ``BAKED_ENV`` variables set
    now, the folders given as flags, and the notes folder when it is the
    ``./memory`` default (a scheduler's cwd is elsewhere: there it would be
    another folder).
    """
    env = os.environ if env is None else env
    command = heartbeat_command() if command is None else list(command)
    variables = dict(baked_env(env))
    for key, var in (
        ("notes_dir", "HEARTBEAT_NOTES_DIR"),
        ("socket", "HEARTBEAT_SOCKET"),
        ("state_dir", "HEARTBEAT_STATE_DIR"),
    ):
        if settings.sources.get(key) == "flag":
            variables[var] = str(pathlib.Path(getattr(settings, key)).absolute())
    relative_default = pathlib.Path.cwd() / "memory"
    if "notes_dir" not in settings.sources and settings.notes_dir == relative_default:
        variables["HEARTBEAT_NOTES_DIR"] = str(settings.notes_dir)
    path = job_path(settings, env, command)
    return Job(tuple(command), path, tuple(variables.items()))


def log_folder(settings: Settings) -> pathlib.Path:
    """The state folder, absolute: where every scheduler's log goes."""
    return settings.state_dir.absolute()


def ensure_log_folder(settings: Settings, error: type[Exception], what: str) -> None:
    """Create the state folder (the scheduler appends its log there), or raise ``error``."""
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as failure:
        raise error(
            f"cannot create the state folder {settings.state_dir} ({failure.strerror}), where "
            f"{what} would write its log; fix its parent's permissions or set HEARTBEAT_STATE_DIR"
        ) from None
