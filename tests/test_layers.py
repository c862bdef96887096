"""The package's layers: imports point one way (no cycles between the top-level parts, nor between modules
at import time), the grader's contract is a leaf, and the pure layers import without torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "reasonlab"


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _imports(tree: ast.AST, *, top_level_only: bool) -> set[str]:
    """Absolute reasonlab imports of a module: every one, or only those run when it is imported (not inside
    functions, not under ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    nodes = ast.walk(tree) if not top_level_only else _import_time_nodes(tree.body)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("reasonlab.") or name == "reasonlab"}


def _import_time_nodes(body):
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if isinstance(node, ast.ClassDef):
                yield from _import_time_nodes(node.body)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            yield from _import_time_nodes(getattr(node, field, []) or [])


MODULES = {_module_name(path): ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycles_between_layers():
    graph: dict[str, set[str]] = {}
    for module, tree in MODULES.items():
        for target in _imports(tree, top_level_only=False):
            if _unit(target) != _unit(module) and target.split(".")[1:2]:
                graph.setdefault(_unit(module), set()).add(_unit(target))
    assert _cycles(graph) == []


def test_no_import_time_cycles_between_modules():
    graph: dict[str, set[str]] = {}
    for module, tree in MODULES.items():
        for target in _imports(tree, top_level_only=True):
            while target not in MODULES and "." in target:  # `from pkg.mod import name` -> pkg.mod
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module:
                graph.setdefault(module, set()).add(target)
    assert _cycles(graph) == []


def test_the_graders_contract_is_a_leaf():
    assert _imports(MODULES["reasonlab.grader"], top_level_only=False) == set()


@pytest.mark.parametrize("layer", ["reasonlab.grader", "reasonlab.puzzles", "reasonlab.scoring"])
def test_pure_layers_import_without_torch(layer):
    code = f"import sys, {layer}; from reasonlab.puzzles.families import all_families; all_families(); "
    code += "sys.exit('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{layer} imported torch\\n{result.stderr[-2000:]}"
