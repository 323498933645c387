"""A patch cycle against a real ``dcsim serve``: scan, approve a change for the RHEL CIs,
run ``policy-rhel9-baseline`` through the runner, and scan again (issue #15, patch half).

Serves a throw-away data directory on a free 127.0.0.1 port with the installed plugins
(dcsim-ansible must be installed for the run to patch anything), drives it with the same
``dcsim patch`` commands a user runs, prints the compliance before and after and how long
each part took, and stops the server by its PID. Exit status 1 when a chosen CI is not
compliant afterwards.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from common import bench_env, finish, progress, serve

from dcsim.settings import load_settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dcsim", default=str(Path(sys.executable).with_name("dcsim")), help="the dcsim command")
    parser.add_argument("--start-timeout", type=float, default=300.0)
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait for the run (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (and serve.log)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-patch-cycle-"))
    env = bench_env()
    server = None
    try:
        server, port, took = serve(args.dcsim, data_dir, env, args.start_timeout)
        url = f"http://127.0.0.1:{port}"
        cli = [args.dcsim, "--data-dir", str(data_dir), "patch"]
        progress(f"up in {took:.1f} s")
        started = time.monotonic()
        subprocess.run([*cli, "compliance", "--scan", "--url", url], env=env, check=True)
        progress(f"scan: {time.monotonic() - started:.2f} s")
        token = load_settings(data_dir=data_dir).admin_token_path.read_text().strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            rhel = [ci["ci_id"] for ci in http.get("/patch/compliance?os=rhel9").json()["cis"]]
            now = datetime.now(UTC)
            window = {"start": (now - timedelta(minutes=1)).isoformat(), "end": (now + timedelta(hours=2)).isoformat()}
            http.post("/itsm/changes", json={"title": "bench patching", "type": "standard", "affected_cis": rhel,
                                             "window": window}).raise_for_status()  # fmt: skip
        started = time.monotonic()
        ran = subprocess.run([*cli, "run", "policy-rhel9-baseline", "--wait", str(args.wait), "--json", "--url", url],
                             env=env, check=True, capture_output=True, text=True)  # fmt: skip
        run = json.loads(ran.stdout)
        progress(f"run {run['state']} in {time.monotonic() - started:.1f} s: "
                 + ", ".join(f"{ci['ci_name']} {ci['state']}" for ci in run["cis"]))  # fmt: skip
        subprocess.run([*cli, "compliance", "--url", url], env=env, check=True)
        patched = {ci["ci_id"] for ci in run["cis"] if ci["state"] == "patched"}
        return 0 if patched == set(rhel) else 1
    finally:
        finish(server, data_dir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
