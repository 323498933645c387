"""deploy/compose.yaml, validated by ``docker-compose config`` (no daemon, no registry)
and read back: the services of a shared installation, dc-sim's environment accepted by
dc-sim's own settings loader, and the Prometheus and Alertmanager configs it mounts
kept in step with the shipped ones (observability/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEPLOY, REPO, run

from dcsim.settings import load_settings

COMPOSE = DEPLOY / "compose.yaml"


@pytest.fixture(scope="module")
def compose(docker_compose: str) -> dict[str, Any]:
    """The compose file as ``docker-compose config`` resolves it (anchors, defaults)."""
    output = run(docker_compose, "--file", str(COMPOSE), "config").stdout
    return dict(yaml.safe_load(output))


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path (or volume name) of a service's volumes."""
    out = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        out[target] = source
    return out


def test_compose_config_validates(docker_compose: str) -> None:
    run(docker_compose, "--file", str(COMPOSE), "config", "--quiet")


def test_the_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "dcsim",
        "dcsim-worker",
        "dcsim-alertmanager-token",
        "postgres",
        "redis",
        "netbox",
        "prometheus",
        "alertmanager",
        "grafana",
    }
    app, worker = compose["services"]["dcsim"], compose["services"]["dcsim-worker"]
    assert app["build"]["dockerfile"] == "deploy/Dockerfile"
    assert Path(app["build"]["context"]).resolve() == REPO
    assert app["command"][0] == "serve" and worker["command"][:2] == ["ansible", "worker"]
    # Published on loopback only.
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host_ip = port["host_ip"] if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port}"


@pytest.mark.parametrize("name", ["dcsim", "dcsim-worker"])
def test_dcsim_environment_loads(compose: dict[str, Any], name: str, tmp_path: Path) -> None:
    environment = dict(compose["services"][name]["environment"]) | {"DCSIM_DATA_DIR": str(tmp_path)}
    settings = load_settings(environ=environment)
    assert settings.bus_driver == "redis" and settings.cmdb_backend == "netbox"
    assert settings.database_url is not None and "@postgres:5432/" in settings.database_url
    assert settings.plugin("ansible") == {"worker": "false"}
    assert mounts(compose["services"][name])["/var/lib/dcsim"] == "dcsim-data"


def test_prometheus_scrapes_dcsim_with_the_shipped_rules(compose: dict[str, Any]) -> None:
    service = compose["services"]["prometheus"]
    volumes = mounts(service)
    config = yaml.safe_load(Path(volumes["/etc/prometheus/prometheus.yml"]).read_text())
    rules = Path(volumes["/etc/prometheus/rules"])
    assert rules.resolve() == REPO / "observability" / "prometheus" / "rules"
    assert list(rules.glob("*.yml")), "no rule file to mount"
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    (job,) = config["scrape_configs"]
    # The rules' DcsimDown alert selects up{job="dcsim"}.
    assert job["job_name"] == "dcsim" and 'up{job="dcsim"}' in "".join(p.read_text() for p in rules.glob("*.yml"))
    assert job["static_configs"][0]["targets"] == ["dcsim:8000"]
    (alerting,) = config["alerting"]["alertmanagers"]
    assert alerting["static_configs"][0]["targets"] == ["alertmanager:9093"]


def test_alertmanager_config_is_the_shipped_one_pointed_at_compose(compose: dict[str, Any]) -> None:
    service = compose["services"]["alertmanager"]
    volumes = mounts(service)
    ours = yaml.safe_load(Path(volumes["/etc/alertmanager/alertmanager.yml"]).read_text())
    shipped = yaml.safe_load((REPO / "observability" / "alertmanager" / "alertmanager.yml").read_text())
    urls = []
    for config in (ours, shipped):
        for receiver in config["receivers"]:
            for webhook in receiver.get("webhook_configs", []):
                urls.append(webhook.pop("url"))
    assert ours == shipped, "deploy/compose/alertmanager.yml differs from the shipped one beyond the URL"
    assert urls[0] == "http://dcsim:8000/itsm/alerts/alertmanager"
    # The token file the dcsim-alertmanager-token service writes is where the config reads it.
    (credentials,) = {
        w["http_config"]["authorization"]["credentials_file"]
        for r in ours["receivers"]
        for w in r.get("webhook_configs", [])
    }
    token_dir = {path for path, source in volumes.items() if source == "alertmanager-token"}
    assert str(Path(credentials).parent) in token_dir
    maker = compose["services"]["dcsim-alertmanager-token"]
    assert Path(credentials).name in maker["command"][0]


def test_grafana_gets_the_dashboards_and_the_datasource(compose: dict[str, Any]) -> None:
    volumes = mounts(compose["services"]["grafana"])
    provisioning = Path(volumes["/etc/grafana/provisioning"])
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "dcsim.yaml").read_text())["providers"]
    dashboards = Path(volumes[provider["options"]["path"]])
    assert dashboards.resolve() == DEPLOY / "grafana" / "dashboards"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert source["uid"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert '"uid": "${datasource}"' in (dashboards / "datacenter-overview.json").read_text()
