"""The plugin-author docs and the tests keep in step with the hookspecs."""

from __future__ import annotations

import ast
from pathlib import Path

from dcsim import docs

TESTS = Path(__file__).parent
DOCS_PAGE = TESTS.parent.parent / "docs" / "plugin-hooks.md"


def _test_names() -> set[str]:
    names = set()
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_every_hook_has_a_test_named_after_it():
    missing = [name for name in docs.hook_names() if f"test_{name}" not in _test_names()]
    assert not missing, f"hooks without a test named test_<hook>: {missing}"


def test_every_hook_is_documented_with_the_parts_authors_need():
    for area, spec in docs.iter_hooks():
        text = spec.__doc__ or ""
        for part in ("When:", "Returns:", "Calling rule:"):
            assert part in text, f"{spec.__name__} ({area}) lacks {part!r} in its docstring"


def test_docs_page_is_generated_from_the_hookspecs():
    assert DOCS_PAGE.read_text() == docs.render(), "regenerate it: python -m dcsim.docs > docs/plugin-hooks.md"
    for name in docs.hook_names():
        assert f"### `{name}`" in DOCS_PAGE.read_text()


def test_hook_names_carry_the_project_prefix():
    assert docs.hook_names(), "no hooks found"
    assert all(name.startswith("dcsim_") for name in docs.hook_names())
