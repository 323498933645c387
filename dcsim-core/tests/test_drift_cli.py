"""``dcsim drill run`` and ``dcsim drift score`` against a real ``dcsim serve``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dcsim.cli import main


def test_dcsim_drill_run_and_drift_score_against_a_server(dcsim_server):
    server = dcsim_server
    options = ["--url", server.url, "--token", server.token]
    ran = CliRunner().invoke(main, ["--data-dir", str(server.data_dir), "drill", "run", "--size", "21", *options])
    assert ran.exit_code == 0, ran.output
    assert "precision 1.000  recall 1.000" in ran.output and "time to detect: mean" in ran.output
    print("\n" + ran.output)
    scored = CliRunner().invoke(main, ["--data-dir", str(server.data_dir), "drift", "score", "--json", *options])
    assert scored.exit_code == 0, scored.output
    score = json.loads(scored.output)
    assert score["injected"] >= 21 and score["recall"] == 1.0 and score["precision"] == 1.0
    # The default token is the data directory's admin token.
    again = CliRunner().invoke(main, ["--data-dir", str(server.data_dir), "drift", "score", "--url", server.url])
    assert again.exit_code == 0 and "recall 1.000" in again.output
    refused = CliRunner().invoke(main, ["drift", "score", "--url", server.url, "--token", "wrong"])
    assert refused.exit_code != 0 and "401" in refused.output
