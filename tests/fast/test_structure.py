"""The shape issue 10 promised, checked on every run: sizes, layers, who imports whom."""

from __future__ import annotations

import ast
import functools
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = [REPO / "heartbeat", REPO / "memory_schema"]
#: What the pure stages may import (standard library values and our own pure modules).
PURE = {
    "heartbeat.check.decide",
    "heartbeat.check.rules",
    "heartbeat.check.hints",
    "heartbeat.check.verdict",
    "heartbeat.check.restarts",
}
PURE_IMPORTS = {
    "__future__",
    "collections",
    "collections.abc",
    "dataclasses",
    "datetime",
    "typing",
    "zlib",
    "heartbeat.check",
    "heartbeat.check.hints",
    "heartbeat.check.restarts",
    "heartbeat.check.rules",
    "heartbeat.check.verdict",
    "heartbeat.timefmt",
    "heartbeat.words",
}


def modules() -> list[pathlib.Path]:
    return sorted(p for package in PACKAGES for p in package.rglob("*.py"))


def module_name(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


@functools.cache
def imports(path: pathlib.Path, *, runtime_only: bool = True) -> frozenset[str]:
    """Every module *path* imports, anywhere in it (type-checking-only imports left out)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for n in ast.walk(node) if n is not node)
    found: set[str] = set()
    for node in ast.walk(tree):
        if runtime_only and id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return frozenset(found)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_over_400_lines(path: pathlib.Path) -> None:
    assert len(path.read_text().splitlines()) <= 400


def test_decide_touches_nothing_of_the_system() -> None:
    for path in modules():
        if module_name(path) in PURE:
            assert imports(path) <= PURE_IMPORTS, (path, imports(path) - PURE_IMPORTS)


def test_memory_schema_stands_alone() -> None:
    for path in (REPO / "memory_schema").rglob("*.py"):
        assert not any(i.split(".")[0] == "heartbeat" for i in imports(path, runtime_only=False))


def test_nothing_imports_the_command_line() -> None:
    for path in modules():
        name = module_name(path)
        if name.startswith("heartbeat.cli") or name == "heartbeat.__main__":
            continue
        assert not any(i.startswith("heartbeat.cli") for i in imports(path, runtime_only=False))


def test_core_modules_never_import_typer() -> None:
    for path in modules():
        if not module_name(path).startswith("heartbeat.cli"):
            assert "typer" not in {i.split(".")[0] for i in imports(path, runtime_only=False)}


def test_memory_schema_names_are_what_they_name_whatever_loads_first() -> None:
    """``memory_schema`` loads a name's module at first use (PEP 562); a submodule
    named as a public name, imported before it, would take its place: none may be."""
    code = (
        "import importlib, pkgutil, types\n"
        "import memory_schema as ms\n"
        "for found in pkgutil.iter_modules(ms.__path__):\n"
        "    importlib.import_module(f'memory_schema.{found.name}')\n"
        "print([n for n in ms.__all__ if isinstance(getattr(ms, n), types.ModuleType)])\n"
        "print(sorted(set(ms.__all__) - set(dir(ms))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "[]"]
