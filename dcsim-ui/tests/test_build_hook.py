"""The wheel build hook's two shortcuts (specs/016-ui.md, "Packaging"): no second
``npm ci`` when ``web/node_modules`` already holds what the lockfile pins, and no second
build when the app built earlier is newer than every source it is built from."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from types import ModuleType

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dcsim_ui_hatch_build", PACKAGE / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _hook()


def _lockfiles(web: Path, wanted: dict[str, dict[str, object]], installed: dict[str, dict[str, object]]) -> None:
    (web / "node_modules").mkdir(parents=True)
    (web / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": wanted}))
    (web / "node_modules" / ".package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": installed}))
    for name in installed:
        (web / name).mkdir(parents=True, exist_ok=True)


REACT = {
    "version": "19.2.7",
    "resolved": "https://registry.npmjs.org/react/-/react-19.2.7.tgz",
    "integrity": "sha512-a",
}
BINDING = {"version": "1.0.0", "optional": True, "integrity": "sha512-b"}


def test_this_checkouts_node_modules_match_its_lockfile() -> None:
    # The ui env's own npm ci wrote it; the wheel build then skips its npm ci.
    web = PACKAGE / "web"
    if not (web / "node_modules" / ".package-lock.json").is_file():
        pytest.skip("npm ci has not run in web/")
    assert hook.node_modules_match_lockfile(web)


def test_node_modules_match_when_every_required_package_is_pinned_and_present(tmp_path: Path) -> None:
    # Another platform's optional binary is in the lockfile and not installed: still a match.
    wanted = {"": {"name": "x"}, "node_modules/react": REACT, "node_modules/@rolldown/binding-darwin": BINDING}
    _lockfiles(tmp_path, wanted, {"node_modules/react": REACT})
    assert hook.node_modules_match_lockfile(tmp_path)


@pytest.mark.parametrize(
    ("wanted", "installed"),
    [
        ({"node_modules/react": {**REACT, "version": "19.3.0"}}, {"node_modules/react": REACT}),
        ({"node_modules/react": REACT, "node_modules/vite": REACT}, {"node_modules/react": REACT}),
        ({"node_modules/react": REACT}, {"node_modules/react": REACT, "node_modules/left-pad": REACT}),
        ({"node_modules/react": {**REACT, "integrity": "sha512-other"}}, {"node_modules/react": REACT}),
    ],
    ids=["other-version", "missing-package", "extra-package", "other-integrity"],
)
def test_node_modules_do_not_match_another_lockfile(
    tmp_path: Path, wanted: dict[str, dict[str, object]], installed: dict[str, dict[str, object]]
) -> None:
    _lockfiles(tmp_path, wanted, installed)
    assert not hook.node_modules_match_lockfile(tmp_path)


def test_no_node_modules_is_no_match(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text(json.dumps({"packages": {"node_modules/react": REACT}}))
    assert not hook.node_modules_match_lockfile(tmp_path)
    # Installed, but a package's directory is gone.
    _lockfiles(tmp_path / "w", {"node_modules/react": REACT}, {"node_modules/react": REACT})
    shutil.rmtree(tmp_path / "w" / "node_modules" / "react")
    assert not hook.node_modules_match_lockfile(tmp_path / "w")


def _built(tmp_path: Path) -> tuple[Path, Path]:
    web, static = tmp_path / "web", tmp_path / "static"
    (web / "src" / "views").mkdir(parents=True)
    (web / "src" / "views" / "View.tsx").write_text("export {};")
    (web / "package-lock.json").write_text("{}")
    (static / "assets").mkdir(parents=True)
    (static / "assets" / "index-abc.js").write_text("//")
    (static / "index.html").write_text('<script type="module" src="/assets/index-abc.js"></script>')
    # The sources were written long before the build.
    for path in (web / "src" / "views" / "View.tsx", web / "package-lock.json"):
        os.utime(path, (1_000_000, 1_000_000))
    return web, static


def test_a_build_newer_than_its_sources_is_current(tmp_path: Path) -> None:
    web, static = _built(tmp_path)
    assert hook.built_app_is_current(web, static)


def test_a_changed_source_makes_the_build_stale(tmp_path: Path) -> None:
    web, static = _built(tmp_path)
    source = web / "src" / "views" / "View.tsx"
    built_at = (static / "index.html").stat().st_mtime
    os.utime(source, (built_at + 1, built_at + 1))
    assert not hook.built_app_is_current(web, static)


def test_a_changed_lockfile_or_a_missing_asset_makes_the_build_stale(tmp_path: Path) -> None:
    web, static = _built(tmp_path)
    built_at = (static / "index.html").stat().st_mtime
    os.utime(web / "package-lock.json", (built_at + 1, built_at + 1))
    assert not hook.built_app_is_current(web, static)
    web, static = _built(tmp_path / "again")
    (static / "assets" / "index-abc.js").unlink()
    assert not hook.built_app_is_current(web, static)
    (static / "index.html").unlink()
    assert not hook.built_app_is_current(web, static)
