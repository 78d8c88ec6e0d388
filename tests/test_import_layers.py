"""The package's import graph keeps the layers ARCHITECTURE.md lists: every import points
down or across (never up), no two packages import each other (no cycle), and no function
imports the package's own modules (a lazy import is only for an optional dependency).

The layer list is read from ARCHITECTURE.md's ``layers`` block, so the map and the check
cannot drift apart. A *unit* is a subpackage (``googlenet.weights``) or a top-level
module (``googlenet.cost``); ``__init__`` is the package's own ``__init__.py`` (the public
API, which re-exports from below).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "googlenet"
LAYERS_BLOCK = re.compile(r"```layers\n(.*?)```", re.S)


def read_layers(text: str) -> dict[str, int]:
    """``{unit: rank}`` from the ``layers`` block (top line = highest rank): each line is
    ``name: unit unit ...``."""
    block = LAYERS_BLOCK.search(text)
    assert block, "ARCHITECTURE.md has no ```layers block"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    ranks: dict[str, int] = {}
    for rank, line in enumerate(reversed(lines)):
        _, _, units = line.partition(":")
        for unit in units.split():
            assert unit not in ranks, f"{unit} is in two layers"
            ranks[unit] = rank
    return ranks


LAYERS = read_layers((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """``googlenet.weights.loader`` -> ``weights``; ``googlenet`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for each import of the package's
    own modules in ``path`` (relative imports resolved)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    target = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                if target.split(".")[0] == "googlenet":
                    for alias in child.names:  # `from googlenet import weights` names a unit
                        candidate = f"{target}.{alias.name}"
                        yield (candidate if _is_module(candidate) else target,
                               child.lineno, in_function)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "googlenet":
                        yield alias.name, child.lineno, in_function
            yield from walk(child, inner)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), False)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


SOURCES = sorted(PACKAGE.rglob("*.py"))
EDGES = [(path, unit_of(module_name(path)), unit_of(target), line, lazy)
         for path in SOURCES for target, line, lazy in _imports(path)]


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(module_name(p)) for p in SOURCES}
    assert units - LAYERS.keys() == set(), "place these in ARCHITECTURE.md's layers block"
    assert LAYERS.keys() - units == set(), "these layers name units that do not exist"


def test_every_import_points_down_or_across() -> None:
    upward = [f"{p.relative_to(ROOT)}:{line}: {src} imports {dst}, a higher layer"
              for p, src, dst, line, _ in EDGES if LAYERS[dst] > LAYERS[src]]
    assert not upward, "\n".join(upward)


def test_no_cycle_between_units() -> None:
    graph: dict[str, set[str]] = {}
    for _, src, dst, _, _ in EDGES:
        if src != dst:
            graph.setdefault(src, set()).add(dst)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    cycles = sorted(f"{a} -> {b} -> ... -> {a}" for a, outs in graph.items() for b in outs
                    if reaches(b, a, set()))
    assert not cycles, "\n".join(cycles)


def test_no_function_imports_the_package() -> None:
    lazy = [f"{p.relative_to(ROOT)}:{line}: imports {dst} inside a function"
            for p, _, dst, line, is_lazy in EDGES if is_lazy]
    assert not lazy, "\n".join(lazy)


@pytest.mark.parametrize("text, problem", [
    ("no block here", "no ```layers block"),
    ("```layers\ntop: a b\nbottom: b\n```", "in two layers"),
])
def test_a_broken_layers_block_is_refused(text: str, problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        read_layers(text)


def test_the_layers_read_top_down() -> None:
    ranks = read_layers("```layers\ntop: cli\nmiddle: models cost\nbottom: errors\n```")
    assert ranks == {"cli": 2, "models": 1, "cost": 1, "errors": 0}
