"""`heartbeat config show`: the effective settings and where each came from.

Precedence is flag > environment > config file > default (DESIGN §5); a config
file that cannot be used is exit 2 with a message naming the file and the key.
"""

from __future__ import annotations

import json
import os
import pathlib
import typing as t

import pytest

from tests import helpers

FLAGS = {"notes_dir": "--notes-dir", "socket": "--socket", "state_dir": "--state-dir"}
ENV = {
    "notes_dir": "HEARTBEAT_NOTES_DIR",
    "socket": "HEARTBEAT_SOCKET",
    "state_dir": "HEARTBEAT_STATE_DIR",
    "notify": "HEARTBEAT_NOTIFY",
}


def show(*args: str) -> dict[str, t.Any]:
    code, out, err = helpers.cli("config", "show", "--json", *args)
    assert code == 0, err
    data: dict[str, t.Any] = json.loads(out)
    return data


class Layer(t.NamedTuple):
    key: str
    flag: str | None
    env: str | None
    file: str | None
    value: str
    source: str


LAYERS = [
    Layer("notes_dir", None, None, None, "<cwd>/memory", "default"),
    Layer("notes_dir", None, None, "/from/file", "/from/file", "config"),
    Layer("notes_dir", None, "/from/env", "/from/file", "/from/env", "env HEARTBEAT_NOTES_DIR"),
    Layer("notes_dir", "/from/flag", "/from/env", "/from/file", "/from/flag", "flag"),
    Layer("socket", None, None, "~/run/sock", "<home>/run/sock", "config"),
    Layer("socket", "/f/sock", None, "/c/sock", "/f/sock", "flag"),
    Layer("state_dir", None, "/e/state", "/c/state", "/e/state", "env HEARTBEAT_STATE_DIR"),
    Layer("state_dir", None, None, None, "<xdg-state>/heartbeat", "default"),
    Layer("notify", None, "", "openclaw message send", "None", "env HEARTBEAT_NOTIFY"),
    Layer("notify", None, None, "my-notifier --now", "['my-notifier', '--now']", "config"),
]


@pytest.mark.parametrize(
    "layer",
    LAYERS,
    ids=[
        "notes-default",
        "notes-file",
        "notes-env-over-file",
        "notes-flag-over-all",
        "socket-file-tilde",
        "socket-flag-over-file",
        "state-env-over-file",
        "state-default-xdg",
        "notify-empty-env-off",
        "notify-file",
    ],
)
def test_precedence(layer: Layer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"  # a fresh HOME: no ~/.openclaw/workspace/memory to prefer
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ENV.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.toml"
    if layer.file is not None:
        helpers.write_config(config, **{layer.key: layer.file})
    if layer.env is not None:
        monkeypatch.setenv(ENV[layer.key], layer.env)
    args = [FLAGS[layer.key], layer.flag] if layer.flag else []

    data = show(*args)

    setting = data["settings"][layer.key]
    expected = (
        layer.value.replace("<cwd>", str(tmp_path))
        .replace("<home>", str(home))
        .replace("<xdg-state>", os.environ["XDG_STATE_HOME"])
    )
    assert str(setting["value"]) == expected
    source = f"config {config}" if layer.source == "config" else layer.source
    assert setting["source"] == source
    assert data["config_path"] == str(config)
    assert data["config_file"] == (str(config) if layer.file is not None else None)


class Number(t.NamedTuple):
    file: dict[str, object]
    key: str
    value: object
    source: str


NUMBERS = [
    Number({}, "stall_minutes", 20.0, "default"),
    Number({"stall_minutes": 45}, "stall_minutes", 45.0, "config"),
    Number({"max_restarts_per_hour": 5}, "max_restarts_per_hour", 5, "config"),
    Number({"auto_ralph": True}, "auto_ralph", True, "config"),
    Number({"path_prefix": "/opt/x/bin"}, "path_prefix", "/opt/x/bin", "config"),
]


@pytest.mark.parametrize("case", NUMBERS, ids=["default", "float", "int", "bool", "string"])
def test_file_over_default_keeps_the_type(case: Number, tmp_path: pathlib.Path) -> None:
    config = tmp_path / "config.toml"
    helpers.write_config(config, **case.file)
    setting = show()["settings"][case.key]
    assert setting["value"] == case.value
    assert type(setting["value"]) is type(case.value)
    assert setting["source"] == (f"config {config}" if case.source == "config" else "default")


def test_the_heartbeat_table_form(tmp_path: pathlib.Path) -> None:
    (tmp_path / "config.toml").write_text("[heartbeat]\nstall_minutes = 7\n")
    assert show()["settings"]["stall_minutes"]["value"] == 7.0


def test_text_lists_every_setting_with_its_source(tmp_path: pathlib.Path) -> None:
    config = tmp_path / "config.toml"
    helpers.write_config(config, days=4)
    code, out, err = helpers.cli("config", "show", "--socket", "/x/sock")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"config file: {config} (found)"
    assert lines[1].split() == ["SETTING", "VALUE", "SOURCE"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert rows["days"].split()[1:] == ["4", "config", str(config)]
    assert rows["socket"].split()[1:] == ["/x/sock", "flag"]
    assert rows["notes_dir"].endswith("env HEARTBEAT_NOTES_DIR")
    assert rows["notify"].split()[1:] == ["off", "env", "HEARTBEAT_NOTIFY"]
    assert {"stall_minutes", "path_prefix", "signatures", "max_restarts_per_hour"} <= set(rows)


class BadConfig(t.NamedTuple):
    text: str
    says: tuple[str, ...]


BAD_CONFIGS = [
    BadConfig("stall_minutes = \n", ("not valid TOML",)),
    BadConfig("[heartbeat\n", ("not valid TOML",)),
    BadConfig("stal_minutes = 5\n", ("stal_minutes", "unknown setting", "stall_minutes")),
    BadConfig("stall_minutes = 'soon'\n", ("stall_minutes", "must be a number", "soon")),
    BadConfig("auto_ralph = 'yes'\n", ("auto_ralph", "true or false")),
    BadConfig("socket = 3\n", ("socket", "path")),
    BadConfig("notify = 'openclaw \"unclosed'\n", ("notify", "quotes")),
    BadConfig("max_restarts_per_hour = -1\n", ("max_restarts_per_hour", "negative")),
    BadConfig("[heartbeat]\nsignatures = 'x'\n", ("signatures", "[[signatures]]")),
]


@pytest.mark.parametrize(
    "case",
    BAD_CONFIGS,
    ids=[
        "toml-value",
        "toml-table",
        "unknown-key",
        "number",
        "bool",
        "path",
        "notify-quotes",
        "negative",
        "signatures",
    ],
)
@pytest.mark.parametrize("command", [["config", "show"], ["check"]], ids=["show", "check"])
def test_a_bad_config_file_is_exit_2_naming_file_and_key(
    case: BadConfig, command: list[str], tmp_path: pathlib.Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(case.text)
    code, out, err = helpers.cli(*command)
    assert code == 2, out
    assert out == ""
    assert err.startswith("heartbeat: ")
    assert str(config) in err
    for word in case.says:
        assert word in err
    assert len(err.strip().splitlines()) == 1
