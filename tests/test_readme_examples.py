"""The README's Python examples keep working.

Every ```python block is checked: its imports run, every attribute it reads from what it
imported exists (``googlenet.load_model``, ``Predictor.from_file``), and every keyword it
passes to such a function is one the function takes (``create_model(..., weights=)``).
A block that needs no file, no network and trains nothing (no path or weights release in a
string, no ``pretrained=True``, no ``fit`` or ``finetune``) is run whole.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from googlenet.weights.catalogue import find_release

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
TRAINERS = {"fit", "finetune"}
PATHLIKE = re.compile(r"/|\.(safetensors|caffemodel|pth|h5|jpg|png|json)$")


def _imports(tree: ast.Module) -> dict[str, Any]:
    """Run the block's import statements; the names they bind."""
    namespace: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            exec(compile(ast.Module([node], []), "README.md", "exec"), namespace)  # noqa: S102 - the README's own imports
    namespace.pop("__builtins__", None)
    return namespace


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> tuple[bool, Any]:
    """``(True, value)`` for a name or attribute chain rooted at an imported name."""
    if isinstance(node, ast.Name):
        return (True, namespace[node.id]) if node.id in namespace else (False, None)
    if isinstance(node, ast.Attribute):
        found, base = _resolve(node.value, namespace)
        if found:
            assert hasattr(base, node.attr), f"README: {ast.unparse(node)} does not exist"
            return True, getattr(base, node.attr)
    return False, None


def _needs_files(tree: ast.Module) -> bool:
    strings = [n.value for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    calls = {ast.unparse(n.func).rpartition(".")[2] for n in ast.walk(tree)
             if isinstance(n, ast.Call)}
    pretrained = any(kw.arg == "pretrained" for n in ast.walk(tree) if isinstance(n, ast.Call)
                     for kw in n.keywords)
    return (any(PATHLIKE.search(s) or find_release(s) is not None for s in strings)
            or pretrained or bool(calls & TRAINERS))


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_block(code: str) -> None:
    tree = ast.parse(code)
    namespace = _imports(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            _resolve(node, namespace)
        if isinstance(node, ast.Call):
            found, func = _resolve(node.func, namespace)
            if not found or not callable(func):
                continue
            try:
                params = inspect.signature(func).parameters
            except ValueError:  # a builtin without a signature (torch.randn)
                continue
            if any(p.kind is p.VAR_KEYWORD for p in params.values()):
                continue
            for kw in node.keywords:
                assert kw.arg is None or kw.arg in params, \
                    f"README: {ast.unparse(node.func)} takes no {kw.arg}="
    if not _needs_files(tree):
        exec(compile(tree, "README.md", "exec"), {})  # noqa: S102 - the README's example


def test_the_readme_has_blocks_of_both_kinds() -> None:
    kinds = {_needs_files(ast.parse(code)) for code in BLOCKS}
    assert kinds == {True, False}
