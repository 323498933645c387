"""The package is written only against what core documents: the hooks of
docs/plugin-hooks.md and the modules of docs/internals-for-plugins.md.

Both pages sit next to this example in the repository (docs/), which is where these
tests run from.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
DOCS = PACKAGE.parents[1]


def _core_imports() -> list[tuple[Path, str]]:
    """Every ``dcsim`` name imported by the package's source and tests, as ``module.name``."""
    found = []
    for path in sorted([*PACKAGE.glob("src/**/*.py"), *PACKAGE.glob("tests/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dcsim":
                found += [(path, f"{node.module}.{alias.name}") for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names if alias.name.split(".")[0] == "dcsim"]
    return found


def test_imports_only_modules_the_internals_page_lists() -> None:
    page = (DOCS / "internals-for-plugins.md").read_text()
    imports = _core_imports()
    assert imports, "no import of dcsim found: the test reads the wrong files"
    unlisted = []
    for path, name in imports:
        module = name.rsplit(".", 1)[0]
        if f"`{name}`" not in page and f"`{module}`" not in page:
            unlisted.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert not unlisted, f"imports of core that docs/internals-for-plugins.md does not list: {unlisted}"


def test_implements_only_documented_hooks() -> None:
    page = (DOCS / "plugin-hooks.md").read_text()
    plugin = ast.parse((PACKAGE / "src" / "dcsim_pdu" / "plugin.py").read_text())
    hooks = [node.name for node in plugin.body if isinstance(node, ast.FunctionDef)]
    assert len(hooks) == 9
    assert all(f"### `{hook}`" in page for hook in hooks), hooks
