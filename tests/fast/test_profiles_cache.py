"""The shipped profiles' data, kept as JSON in the state folder: the same data, or none."""

from __future__ import annotations

import json
import typing as t

from heartbeat import profiles

if t.TYPE_CHECKING:
    import pathlib

read = profiles.shipped_data.__wrapped__  # without the per-process memo


def test_the_kept_copy_is_the_toml_files_data(tmp_path: pathlib.Path) -> None:
    parsed = read(None)
    assert set(parsed) == {*profiles.SHIPPED, "common"}
    assert read(tmp_path) == parsed  # parsed, then kept
    kept = json.loads((tmp_path / profiles.CACHE_FILE).read_text())
    assert kept["data"] == parsed
    assert read(tmp_path) == parsed  # from the copy


def test_the_copy_is_what_a_check_reads_while_the_files_are_unchanged(
    tmp_path: pathlib.Path,
) -> None:
    read(tmp_path)
    path = tmp_path / profiles.CACHE_FILE
    kept = json.loads(path.read_text())
    kept["data"]["codex"]["login_hint"] = "from the copy"
    path.write_text(json.dumps(kept))
    assert read(tmp_path)["codex"]["login_hint"] == "from the copy"


def test_a_copy_of_other_files_or_no_copy_at_all_is_not_used(tmp_path: pathlib.Path) -> None:
    path = tmp_path / profiles.CACHE_FILE
    path.write_text(json.dumps({"key": [["codex", 1, 1]], "data": {"codex": {"name": "x"}}}))
    assert read(tmp_path) == read(None)
    path.write_text("{not json")
    assert read(tmp_path) == read(None)
    assert json.loads(path.read_text())["data"] == read(None)  # rewritten


def test_profiles_loaded_through_the_copy_match_everywhere_alike(tmp_path: pathlib.Path) -> None:
    plain = profiles.load()
    kept = profiles.load(cache_dir=tmp_path)
    again = profiles.load(cache_dir=tmp_path)
    assert plain.agents == kept.agents == again.agents
    assert plain.signatures(None) == kept.signatures(None) == again.signatures(None)


def test_a_copy_from_another_release_with_the_same_mtimes_is_not_used(
    tmp_path: pathlib.Path,
) -> None:
    """Package managers that normalise mtimes (Nix) must not keep an old release's data:
    the key is the version and the files' content, so a copy kept for another version,
    or for files whose content differs at the same size, is read again."""
    read(tmp_path)
    path = tmp_path / profiles.CACHE_FILE
    kept = json.loads(path.read_text())
    kept["data"]["codex"]["login_hint"] = "from an older release"
    older = dict(kept, key=["0.0.1", kept["key"][1]])
    path.write_text(json.dumps(older))
    assert read(tmp_path)["codex"]["login_hint"] != "from an older release"
    changed = [[stem, size, crc ^ 1] for stem, size, crc in kept["key"][1]]
    path.write_text(json.dumps(dict(kept, key=[kept["key"][0], changed])))
    assert read(tmp_path)["codex"]["login_hint"] != "from an older release"
