"""The shape issues 10 and 20 promised, checked on every run: layers, who imports whom.

Modules go by concept, not by a count (STYLE 6c): no line cap.
"""

from __future__ import annotations

import ast
import functools
import pathlib
import re
import subprocess
import sys

import heartbeat

REPO = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = [REPO / "heartbeat", REPO / "memory_schema"]
#: What the pure stages may import (standard library values and our own pure modules).
PURE = {
    "heartbeat.check.decide",
    "heartbeat.check.rules",
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
    "heartbeat.check.rules",
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


def test_decide_touches_nothing_of_the_system() -> None:
    for path in modules():
        if module_name(path) in PURE:
            assert imports(path) <= PURE_IMPORTS, (path, imports(path) - PURE_IMPORTS)


def test_memory_schema_stands_alone() -> None:
    for path in (REPO / "memory_schema").rglob("*.py"):
        assert not any(i.split(".")[0] == "heartbeat" for i in imports(path, runtime_only=False))


def top_level_imports(path: pathlib.Path) -> frozenset[str]:
    """What *path* imports when it is imported: module-level statements only.

    A function's own import (``files.read_note`` loading the parser at its
    first use) runs later and may go the other way; type-only imports never run.
    """
    found: set[str] = set()
    package = module_name(path).split(".")[0]
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == package:  # `from memory_schema import shell`
                found.update(f"{package}.{alias.name}" for alias in node.names)
    return frozenset(found)


def test_memory_schema_imports_no_cycle() -> None:
    """memory_schema's modules import one another in layers: each only those below it."""
    graph = {
        module_name(p): {
            i
            for i in top_level_imports(p)
            if i.startswith("memory_schema.") and i != "memory_schema"
        }
        for p in (REPO / "memory_schema").glob("*.py")
    }
    graph = {name: {i for i in found if i in graph} for name, found in graph.items()}
    done: list[str] = []
    while graph:
        ready = sorted(name for name, found in graph.items() if found <= set(done))
        assert ready, f"an import cycle among {sorted(graph)}"
        done.extend(ready)
        for name in ready:
            del graph[name]


def test_memory_schema_configures_neither_logging_nor_the_collector() -> None:
    """A library only logs (``logging.getLogger(__name__)``); the host configures (STYLE 12)."""
    for path in (REPO / "memory_schema").rglob("*.py"):
        tree = ast.parse(path.read_text())
        assert "gc" not in imports(path, runtime_only=False), path
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
                continue
            if node.value.id == "logging":
                assert node.attr == "getLogger", (path, node.lineno, node.attr)


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


def test_the_lazy_loggers_never_import_logging() -> None:
    """Why ``heartbeat.debuglog`` and ``heartbeat.logfile`` are two modules: the lazy
    loggers exist so that a quiet check never imports logging, and the debug log is a
    ``logging.Handler``. Folding them would load logging with every lazy logger (which
    imports it inside ``LazyLogger.logger``, at its first record)."""
    lazy = REPO / "heartbeat" / "debuglog.py"
    assert not {i for i in top_level_imports(lazy) if i.split(".")[0] == "logging"}
    assert "logging" in top_level_imports(REPO / "heartbeat" / "logfile.py")


#: What a function-level import outside the quiet path says on the line above it.
WHY_HERE = re.compile(r"#\s*(a cycle|off the .+ path)\b")


def function_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements inside a function (or a method), anywhere in *tree*."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if inside and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return found


def test_outside_the_quiet_path_imports_are_at_the_top() -> None:
    """STYLE 12b: the speed idioms stay in the box, ``heartbeat.QUIET_PATH`` plus the CLI's
    command modules (``heartbeat.cli.*``, whose commands import their core when they run).

    Anywhere else an import inside a function is there for a reason, said in a comment
    on the line above it (or above the imports it is grouped with): ``# a cycle: …`` when
    the module it names imports this one, ``# off the … path: …`` when at the top it
    would load on the quiet path, the ``--help`` path, or another path that must not
    pay for it.
    """
    unexplained = []
    for path in modules():
        name = module_name(path)
        if name in heartbeat.QUIET_PATH or name.startswith("heartbeat.cli."):
            continue
        lines = path.read_text().splitlines()
        imports = function_imports(ast.parse("\n".join(lines)))
        covered = {n for node in imports for n in range(node.lineno, (node.end_lineno or 0) + 1)}
        for node in imports:
            above = node.lineno - 1  # 1-based number of the line above
            while above in covered or (above > 0 and not lines[above - 1].strip()):
                above -= 1
            if above < 1 or not WHY_HERE.match(lines[above - 1].strip()):
                where = f"{path.relative_to(REPO)}:{node.lineno}"
                unexplained.append(f"{where}: {ast.unparse(node)}")
    assert unexplained == [], "move these to the top, or say why not (a cycle, off a path)"
