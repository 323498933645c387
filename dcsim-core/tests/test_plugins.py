"""Plugin loading from entry points: failures are listed, strict mode is fatal, disabling."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from dcsim.cli import main
from dcsim.errors import PluginLoadError
from dcsim.plugins import load_plugins


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution 'acme-plugins' on sys.path with a broken, a working and a misspelt plugin."""
    site = tmp_path / "site"
    dist = site / "acme_plugins-1.2.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 1.2\n")
    (dist / "entry_points.txt").write_text("[dcsim]\nbroken = acme_broken\ngood = acme_good\n")
    (site / "acme_broken.py").write_text("raise RuntimeError('kaboom: missing licence file')\n")
    (site / "acme_good.py").write_text(
        textwrap.dedent(
            """
            from dcsim import hookimpl

            @hookimpl
            def dcsim_register_event_types(registry):
                registry.add("acme.ready", description="acme is ready")
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    return site


def test_broken_plugin_is_listed_and_the_rest_loads(installed, dcsim_settings):
    host = load_plugins(dcsim_settings)
    infos = {info.name: info for info in host.infos}
    assert infos["broken"].status == "failed"
    assert infos["broken"].error == "RuntimeError: kaboom: missing licence file"
    assert infos["broken"].distribution == "acme-plugins" and infos["broken"].version == "1.2"
    assert infos["good"].status == "loaded"
    assert infos["good"].hooks == ("dcsim_register_event_types",)
    assert all(infos[name].status == "loaded" for name in ("sim", "cmdb", "itsm", "patch", "drift", "api"))


def test_broken_plugin_shows_in_api_and_readiness(installed, make_client):
    client = make_client()
    listed = {p["name"]: p for p in client.get("/plugins").json()["plugins"]}
    assert listed["broken"]["status"] == "failed"
    assert "kaboom" in listed["broken"]["error"]
    assert client.get("/healthz").status_code == 200
    checks = {c["name"]: c for c in client.get("/readyz").json()["checks"]}
    assert checks["plugin:broken"]["ok"] is False


def test_strict_mode_makes_a_broken_plugin_fatal(installed, dcsim_settings):
    with pytest.raises(PluginLoadError, match="kaboom"):
        load_plugins(attrs.evolve(dcsim_settings, strict_plugins=True))


def test_disabled_plugins_are_not_imported(installed, dcsim_settings):
    host = load_plugins(attrs.evolve(dcsim_settings, disable_plugins=("broken", "good")))
    infos = {info.name: info.status for info in host.infos}
    assert infos["broken"] == "disabled" and infos["good"] == "disabled"
    assert "acme_good" not in host.pm.list_name_plugin()


def test_misspelt_hook_is_reported(dcsim_settings, caplog):
    from dcsim import hookimpl

    class Typo:
        @hookimpl
        def dcsim_register_rutes(self, registry):
            pass

    load_plugins(dcsim_settings, [Typo()])  # logged, not fatal
    with pytest.raises(PluginLoadError, match="dcsim_register_rutes"):
        load_plugins(attrs.evolve(dcsim_settings, strict_plugins=True), [Typo()])


def test_cli_lists_plugins_and_drivers(installed, tmp_path, monkeypatch):
    monkeypatch.setenv("DCSIM_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    plugins = {p["name"]: p for p in report["plugins"]}
    assert plugins["sim"]["distribution"] == "dcsim-core"
    assert plugins["broken"]["status"] == "failed"
    drivers = {(d["namespace"], d["name"]): d for d in report["drivers"]}
    assert drivers[("dcsim.bus", "memory")]["selected"] is True
    assert drivers[("dcsim.bus", "redis")]["selected"] is False
    assert drivers[("dcsim.store", "sqlalchemy")]["selected"] is True

    text = CliRunner().invoke(main, ["plugins"]).output
    assert "broken" in text and "kaboom" in text

    monkeypatch.setenv("DCSIM_STRICT_PLUGINS", "true")
    strict = CliRunner().invoke(main, ["plugins"])
    assert strict.exit_code == 1 and "kaboom" in strict.output
