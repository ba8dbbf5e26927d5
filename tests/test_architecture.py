"""Imports flow one way: the packages and layers of docs/architecture.md, read from the code.

Every module's imports are read with `ast` (including imports inside functions: a lazy
import is still a dependency), so an upward import or a circle fails here, not in review.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"
_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|")


def layers() -> dict[str, int]:
    """package → layer, from the table in docs/architecture.md."""
    found = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            found[match.group(2)] = int(match.group(1))
    return found


def modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "fjord").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:`: annotations only, never imported at run time."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(inner) for inner in ast.walk(child))
    return skipped


def imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module → the fjord modules it imports at run time (a `from pkg import name` of a
    submodule counts; imports inside functions count too, `if TYPE_CHECKING:` ones do not)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = _type_only(tree)
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target in mods and target != name:
                    graph[name].add(target)
    return graph


def package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] != "__main__") else None


def test_every_package_is_on_the_page() -> None:
    documented = layers()
    assert len(documented) >= 10, "the package table of docs/architecture.md was not found"
    top = (SRC / "fjord").iterdir()
    present = {p.stem for p in top if (p / "__init__.py").exists()
               or (p.suffix == ".py" and not p.stem.startswith("__"))}
    missing = sorted(present - set(documented))
    assert not missing, f"packages missing from docs/architecture.md: {missing}"


def test_no_upward_or_sideways_import() -> None:
    documented = layers()
    mods = modules()
    bad = []
    for module, targets in imports(mods).items():
        source = package(module)
        for target in targets:
            dest = package(target)
            if source is None or dest is None or source == dest:
                continue
            if source in documented and dest in documented and \
                    documented[dest] >= documented[source]:
                bad.append(f"{module} (layer {documented[source]}) imports {target} "
                           f"(layer {documented[dest]})")
    assert not bad, "imports against the layers of docs/architecture.md:\n" + "\n".join(sorted(bad))


def test_no_import_circle() -> None:
    graph = imports(modules())
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert not circles, "import circles: " + "; ".join(" ⇄ ".join(c) for c in circles)
