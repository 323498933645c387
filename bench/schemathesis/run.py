"""Schemathesis over dc-sim's whole OpenAPI document, against a real ``dcsim serve``.

Usage: ``python bench/schemathesis/run.py [--max-examples N] [--seed S] [--report-dir DIR]``

Starts ``dcsim serve`` on a free loopback port in a temporary data directory (every
installed plugin loaded), runs ``schemathesis run`` with the admin token and the checks
of acceptance 1 of issue #11 (no server error, no undocumented status code or content
type, every response matching its schema), and prints the counts. Exits non-zero when
any check failed. The CI test (``tests/schemathesis``) calls :func:`run` with few
examples per operation; the README has the figures of a longer run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from dcsim.testing import run_server

#: The checks acceptance 1 names; each failure of any of them fails the run.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


#: Revoking tokens would revoke the run's own admin token half-way (the stateful phase
#: finds its id in GET /tokens): it runs on its own, after everything else.
LAST = "DELETE /tokens/{token_id}"


def run(max_examples: int, seed: int, report_dir: Path, extra: list[str] | None = None) -> dict[str, Any]:
    """Run schemathesis against a fresh server: every operation but :data:`LAST`, then
    :data:`LAST`. The output of both runs, and the first non-zero exit code."""
    report_dir = report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    # Rate limits off: 429 is documented on every guarded operation, but a limited run
    # would test little else.
    env = {"DCSIM_RATE_LIMIT": "off"}
    outputs, codes = [], []
    with run_server(report_dir / "server", env=env, log_path=report_dir / "server.log") as server:
        for part, selection in (("main", ["--exclude-name", LAST]), ("last", ["--include-name", LAST])):
            code = _schemathesis(
                server.url, server.token, max_examples, seed, report_dir / part, selection + (extra or [])
            )
            outputs.append((report_dir / part / "schemathesis.txt").read_text())
            codes.append(code)
    return {"exit_code": next((c for c in codes if c), 0), "output": "\n".join(outputs)}


def _schemathesis(url: str, token: str, max_examples: int, seed: int, report_dir: Path, extra: list[str]) -> int:
    report_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/schema/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--continue-on-failure",
        "--request-timeout",
        "30",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(report_dir),
        "--no-color",
        # No example database left in the working directory: each run stands alone.
        "--generation-database",
        "none",
        *extra,
    ]
    with (report_dir / "schemathesis.txt").open("w") as out:
        # Run in the report directory: schemathesis keeps a cache in its working directory.
        run = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=report_dir, check=False, timeout=3600)
    return run.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report-dir", type=Path, default=None)
    args, extra = parser.parse_known_args()
    report_dir = args.report_dir or Path(tempfile.mkdtemp(prefix="dcsim-schemathesis-"))
    outcome = run(args.max_examples, args.seed, report_dir, extra)
    print(outcome["output"])
    print(json.dumps({"exit_code": outcome["exit_code"], "report_dir": str(report_dir)}))
    sys.exit(outcome["exit_code"])


if __name__ == "__main__":
    main()
