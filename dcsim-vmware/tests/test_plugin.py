"""The `vmware` plugin is registered under the `dcsim` entry-point group and core loads it."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sysconfig
from importlib.metadata import EntryPoint, entry_points, version
from pathlib import Path

import dcsim_vmware

NAME = "vmware"
MODULE = "dcsim_vmware.plugin"
DISTRIBUTION = "dcsim-vmware"


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-")


def _entry_point() -> EntryPoint:
    found = [ep for ep in entry_points(group="dcsim") if ep.name == NAME]
    assert len(found) == 1, f"expected one 'dcsim' entry point named {NAME!r}, found {found}"
    return found[0]


def test_entry_point_is_registered_and_imports() -> None:
    ep = _entry_point()
    assert ep.value == MODULE
    assert ep.dist is not None
    assert _normalise(ep.dist.name) == DISTRIBUTION
    module = ep.load()
    assert module is importlib.import_module(MODULE)
    assert module.__doc__


def test_version_is_the_distribution_version() -> None:
    assert dcsim_vmware.__version__ == version(DISTRIBUTION)


def test_dcsim_plugins_lists_it_as_loaded(tmp_path: Path) -> None:
    dcsim = Path(sysconfig.get_path("scripts")) / "dcsim"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
    env["DCSIM_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [str(dcsim), "plugins", "--json"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert NAME in plugins, sorted(plugins)
    assert plugins[NAME]["status"] == "loaded", plugins[NAME]
    assert plugins[NAME]["module"] == MODULE
    assert _normalise(plugins[NAME]["distribution"]) == DISTRIBUTION
    assert plugins[NAME]["version"] == dcsim_vmware.__version__
