"""The Helm chart deploy/helm/dcsim: ``helm lint``, and what ``helm template`` renders.

The rendered manifests are read with PyYAML: two Deployments (app processes probed on
/readyz and /healthz, runner workers), the settings file in a ConfigMap and the
secrets in a Secret, both reaching every container, a Service on the app's port, and a
ServiceMonitor and a PrometheusRule (the shipped alert rules) only when asked for. The rendered settings file and environment are
loaded with dc-sim's own ``load_settings``, which refuses what dc-sim would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CHART, RELEASE, REPO, Manifest, one, run

from dcsim.settings import load_settings

FULLNAME = f"{RELEASE}-dcsim"
#: The alert rules as shipped for Prometheus itself (the chart carries a copy).
SHIPPED_RULES = REPO / "observability" / "prometheus" / "rules" / "dcsim-alerts.yml"


def container(deployment: Manifest) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def test_helm_lint_passes_strict(helm: str) -> None:
    result = run(helm, "lint", "--strict", str(CHART))
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("enabled", [False, True], ids=["servicemonitor-off", "servicemonitor-on"])
def test_template_renders_the_components(render: Callable[..., list[Manifest]], enabled: bool) -> None:
    manifests = render(f"serviceMonitor.enabled={str(enabled).lower()}")
    kinds = sorted(m["kind"] for m in manifests)
    expected = ["ConfigMap", "Deployment", "Deployment", "Secret", "Service", "ServiceAccount"]
    assert kinds == sorted(expected + (["ServiceMonitor"] if enabled else []))
    names = {m["metadata"]["name"] for m in manifests if m["kind"] == "Deployment"}
    assert names == {FULLNAME, f"{FULLNAME}-worker"}


def test_app_processes_are_probed_on_readyz_and_healthz(render: Callable[..., list[Manifest]]) -> None:
    app = container(one(render(), "Deployment", FULLNAME))
    assert app["args"][0] == "serve"
    (port,) = app["ports"]
    assert port == {"name": "http", "containerPort": 8000, "protocol": "TCP"}
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["resources"]["requests"] and app["resources"]["limits"]


def test_runner_workers_are_a_deployment_of_their_own(render: Callable[..., list[Manifest]]) -> None:
    manifests = render("worker.replicas=3")
    worker = one(manifests, "Deployment", f"{FULLNAME}-worker")
    assert worker["spec"]["replicas"] == 3
    spec = container(worker)
    assert spec["args"][:2] == ["ansible", "worker"]
    assert "readinessProbe" not in spec and "ports" not in spec
    # The Service sends requests to app pods only.
    service_selector = one(manifests, "Service")["spec"]["selector"]
    worker_labels = worker["spec"]["template"]["metadata"]["labels"]
    assert not service_selector.items() <= worker_labels.items()
    assert [m["metadata"]["name"] for m in render("worker.enabled=false") if m["kind"] == "Deployment"] == [FULLNAME]


@pytest.mark.parametrize("name", [FULLNAME, f"{FULLNAME}-worker"])
def test_config_map_and_secret_reach_every_container(render: Callable[..., list[Manifest]], name: str) -> None:
    manifests = render()
    config_map, secret = one(manifests, "ConfigMap"), one(manifests, "Secret")
    pod = one(manifests, "Deployment", name)["spec"]["template"]["spec"]
    # Kubernetes' service links would add DCSIM_PORT=tcp://... which dc-sim refuses.
    assert pod["enableServiceLinks"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    for spec in pod["containers"] + pod.get("initContainers", []):
        assert {"secretRef": {"name": secret["metadata"]["name"]}} in spec["envFrom"]
        mounts = {m["mountPath"]: m["name"] for m in spec["volumeMounts"]}
        env = {e["name"]: e.get("value") for e in spec["env"]}
        config_path = Path(env["DCSIM_CONFIG"])
        volume = volumes[mounts[str(config_path.parent)]]
        assert volume["configMap"]["name"] == config_map["metadata"]["name"]
        assert config_path.name in config_map["data"]
        assert mounts[env["DCSIM_DATA_DIR"]] == "data"


def test_the_rendered_settings_load_in_dcsim(render: Callable[..., list[Manifest]], tmp_path: Path) -> None:
    manifests = render("settings.log_level=DEBUG")
    config_map, secret = one(manifests, "ConfigMap"), one(manifests, "Secret")
    app = container(one(manifests, "Deployment", FULLNAME))
    settings_file = tmp_path / "dcsim.toml"
    settings_file.write_text(config_map["data"]["dcsim.toml"])
    environment = {e["name"]: e["value"] for e in app["env"] if "value" in e} | secret["stringData"]
    environment["DCSIM_CONFIG"] = str(settings_file)
    environment["DCSIM_DATA_DIR"] = str(tmp_path / "data")
    settings = load_settings(environ=environment)
    assert settings.bus_driver == "redis" and settings.log_level == "DEBUG"
    assert settings.database_url == secret["stringData"]["DCSIM_DATABASE_URL"]
    assert settings.redis_url == secret["stringData"]["DCSIM_REDIS_URL"]
    assert settings.create_admin_token is False
    assert settings.plugin("ansible") == {"worker": False}


def test_an_existing_secret_replaces_the_charts(render: Callable[..., list[Manifest]]) -> None:
    manifests = render("secret.existingSecret=dcsim-credentials")
    assert not [m for m in manifests if m["kind"] == "Secret"]
    app = container(one(manifests, "Deployment", FULLNAME))
    assert app["envFrom"] == [{"secretRef": {"name": "dcsim-credentials"}}]


def test_service_and_service_monitor_point_at_the_app_port(render: Callable[..., list[Manifest]]) -> None:
    manifests = render("serviceMonitor.enabled=true", "serviceMonitor.labels.release=prometheus")
    service = one(manifests, "Service")
    (port,) = service["spec"]["ports"]
    assert port["port"] == 8000 and port["targetPort"] == "http"
    app = one(manifests, "Deployment", FULLNAME)
    assert service["spec"]["selector"].items() <= app["spec"]["template"]["metadata"]["labels"].items()
    monitor = one(manifests, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == port["name"] and endpoint["path"] == "/metrics"


def test_the_charts_alert_rules_are_the_shipped_file() -> None:
    """The chart can read only its own files: its copy must not drift from the original."""
    assert (CHART / "files" / "dcsim-alerts.yml").read_bytes() == SHIPPED_RULES.read_bytes(), (
        f"run: cp {SHIPPED_RULES.relative_to(REPO)} {(CHART / 'files').relative_to(REPO)}/"
    )


def test_prometheus_rule_is_off_by_default(render: Callable[..., list[Manifest]]) -> None:
    assert not [m for m in render() if m["kind"] == "PrometheusRule"]


def test_prometheus_rule_carries_every_shipped_alert_rule(render: Callable[..., list[Manifest]]) -> None:
    manifests = render("prometheusRule.enabled=true", "prometheusRule.labels.release=prometheus")
    rule = one(manifests, "PrometheusRule", FULLNAME)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    shipped = yaml.safe_load(SHIPPED_RULES.read_text())["groups"]
    # Expressions, durations, labels and annotations (their {{ $labels.x }} templates
    # included) arrive as written; helm only re-serialises the YAML.
    assert rule["spec"]["groups"] == shipped
    alerts = [r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]]
    assert len(alerts) == 11 and len(set(alerts)) == 11, alerts


def test_service_monitor_names_the_job_the_rules_select(render: Callable[..., list[Manifest]]) -> None:
    monitor = one(render("serviceMonitor.enabled=true"), "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert {"action": "replace", "targetLabel": "job", "replacement": "dcsim"} in endpoint["relabelings"]
    rules = [r for group in yaml.safe_load(SHIPPED_RULES.read_text())["groups"] for r in group["rules"]]
    assert 'up{job="dcsim"}' in next(r["expr"] for r in rules if r["alert"] == "DcsimDown")


def test_every_top_level_value_is_documented() -> None:
    """values.yaml is the chart's documentation: a comment stands above each top-level key."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = [
        line.split(":", 1)[0]
        for index, line in enumerate(lines)
        if line[:1].isalpha() and not (index and lines[index - 1].startswith("#"))
    ]
    assert not undocumented, f"values.yaml keys without a comment above: {undocumented}"
    assert set(yaml.safe_load("\n".join(lines))) >= {
        "app",
        "worker",
        "settings",
        "secret",
        "serviceMonitor",
        "prometheusRule",
    }
