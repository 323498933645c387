"""``dcsim patch compliance`` and ``dcsim patch run`` against a real ``dcsim serve``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dcsim.cli import main


def test_dcsim_patch_compliance_and_run_against_a_server(dcsim_server):
    server = dcsim_server
    options = ["--url", server.url, "--token", server.token]
    shown = CliRunner().invoke(main, ["--data-dir", str(server.data_dir), "patch", "compliance", "--scan", *options])
    assert shown.exit_code == 0, shown.output
    assert "compliant 0/9 (0.0%), 5 CVEs pending" in shown.output and "CVE-2024-6387" in shown.output
    ran = CliRunner().invoke(main, ["patch", "run", "policy-rhel9-baseline", "--wait", "30", "--json", *options])
    assert ran.exit_code == 0, ran.output
    run = json.loads(ran.output)
    assert run["state"] == "completed" and {ci["state"] for ci in run["cis"]} == {"skipped"}
    missing = CliRunner().invoke(main, ["patch", "run", "policy-none", *options])
    assert missing.exit_code != 0 and "404" in missing.output
