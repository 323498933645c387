"""The drift drill against a real ``dcsim serve``: inject a mixed series of faults and
out-of-band changes, then print the scorecard (issue #15, acceptance 3).

Serves a throw-away data directory on a free 127.0.0.1 port with the installed plugins,
runs ``dcsim drill run`` against it (the same command a user runs against their own
server), and stops the server by its PID. Exit status 1 when recall or precision is below
1.0. sshd_config drift is auto-remediated (``--auto-remediate policy-sshd``) and
``--settle`` waits for the runner's remediations (when dcsim-ansible is installed), so the
time to remediate is measured too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from common import bench_env, finish, progress, serve


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=30, help="faults and changes to inject (default 30)")
    parser.add_argument("--dcsim", default=str(Path(sys.executable).with_name("dcsim")), help="the dcsim command")
    parser.add_argument("--start-timeout", type=float, default=300.0)
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to wait for remediations (default 120)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (and serve.log)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-drift-drill-"))
    env = bench_env()
    server = None
    try:
        server, port, took = serve(args.dcsim, data_dir, env, args.start_timeout)
        progress(f"up in {took:.1f} s; running the drill ({args.size} injections)")
        drill = subprocess.run(
            [args.dcsim, "--data-dir", str(data_dir), "drill", "run", "--size", str(args.size), "--settle", str(args.settle), "--auto-remediate", "policy-sshd",
             "--url", f"http://127.0.0.1:{port}"],
            env=env, check=False,
        )  # fmt: skip
        return drill.returncode
    finally:
        finish(server, data_dir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
