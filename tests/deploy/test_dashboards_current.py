"""The committed dashboard JSON is what deploy/grafana/build_dashboards.py builds
(grafana-foundation-sdk), and the check says so when it is not."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import DEPLOY

GRAFANA = DEPLOY / "grafana"


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(folder / "build_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_committed_dashboards_are_current() -> None:
    result = check(GRAFANA)
    assert result.returncode == 0, result.stderr


def test_a_stale_or_stray_dashboard_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "grafana"
    shutil.copytree(GRAFANA, copy, ignore=shutil.ignore_patterns("__pycache__"))
    stale = copy / "dashboards" / "drift-tracker.json"
    dashboard = json.loads(stale.read_text())
    dashboard["title"] = "Edited by hand"
    stale.write_text(json.dumps(dashboard, indent=2, sort_keys=True) + "\n")
    (copy / "dashboards" / "stray.json").write_text("{}\n")
    result = check(copy)
    assert result.returncode == 1
    assert "drift-tracker.json" in result.stderr and "stray.json" in result.stderr


def test_every_dashboard_uses_the_datasource_variable() -> None:
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        names = [v["name"] for v in dashboard["templating"]["list"]]
        assert names[0] == "datasource", path.name
        assert dashboard["uid"].startswith("dcsim-"), path.name
        targets = [t for p in dashboard["panels"] for t in p.get("targets", [])]
        assert targets and all(t["datasource"]["uid"] == "${datasource}" for t in targets), path.name
