"""The shape of the code: layers import inward only, nothing imports in a circle, the domain
knows nothing of persistence, and no module outgrows what a reader can hold.

Read from the source files themselves (nothing is imported), so it holds for every module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
# Inner to outer: a layer may import its own modules and those of the layers before it.
LAYERS = ("domain", "store", "projections", "webhooks", "transparency", "runtime", "api", "cli")
PERSISTENCE = ("asyncpg", "psycopg", "psycopg_pool", "eventsourcing.postgres", "os")
MAX_LINES = 350


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package, by its dotted name."""
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield "claimledger." + ".".join(parts), path


def imports(path: Path) -> Iterator[str]:
    """The modules a file imports (absolute names)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


MODULES = dict(modules())


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "claimledger" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_inward(name: str) -> None:
    own = LAYERS.index(layer_of(name) or "")
    for imported in imports(MODULES[name]):
        assert imported.split(".")[0] not in LAYERS, f"{name} imports {imported} by a bare name"
        target = layer_of(imported)
        if target is not None:
            assert LAYERS.index(target) <= own, f"{name} (inner) imports {imported} (outer)"


@pytest.mark.parametrize("name", [n for n in sorted(MODULES) if layer_of(n) == "domain"])
def test_the_domain_imports_no_persistence_and_reads_no_environment(name: str) -> None:
    path = MODULES[name]
    for imported in imports(path):
        assert not imported.startswith(PERSISTENCE), f"{name} imports {imported}"
    text = path.read_text()
    assert "os.environ" not in text, f"{name} reads the environment"
    assert "getenv" not in text, f"{name} reads the environment"


def test_nothing_imports_in_a_circle() -> None:
    edges = {
        name: {i for i in imports(path) if i in MODULES and i != name}
        for name, path in MODULES.items()
    }
    # A package's __init__ importing its own modules is not a cycle of the design.
    for name in edges:
        edges[name] = {i for i in edges[name] if not name.startswith(i + ".")}
    cycle = _a_cycle(edges)
    assert cycle is None, " -> ".join(cycle or [])


def _a_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_350_lines(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_the_package_is_the_layers() -> None:
    links = {p.name for p in (ROOT / "claimledger").iterdir() if p.is_symlink()}
    assert links == set(LAYERS)
