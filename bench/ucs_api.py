"""Benchmark UCS Manager's XML API on a generated UCS estate, with ucsmsdk as the client.

Seeds ``--chassis`` chassis (8 blades each, a profile on every other one) with the real
command line, serves it with dcsim-ucs installed, and times what ucsmsdk users do:
login, class and DN queries (flat and hierarchical), and committed changes (an org, a
profile from a template, associate and power, delete). Prints one table; progress goes
to stderr. The server is stopped by its PID at the end. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from common import bench_env, finish, latency, progress, rss_mb, seed, serve


def main() -> int:
    args = _parse_args()
    from ucsmsdk.mometa.ls.LsBinding import LsBinding
    from ucsmsdk.mometa.ls.LsServer import LsServer
    from ucsmsdk.mometa.org.OrgOrg import OrgOrg
    from ucsmsdk.ucshandle import UcsHandle

    dcsim = args.dcsim or str(Path(sys.executable).with_name("dcsim"))
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-bench-ucs-"))
    env = bench_env()
    os.environ["no_proxy"] = "127.0.0.1"
    rows: list[tuple[str, str]] = []
    server: subprocess.Popen[bytes] | None = None
    try:
        progress(f"seeding {args.chassis} chassis into {data_dir}")
        seed(dcsim, data_dir, env, "--hosts", "1", "--clusters", "1", "--vms", "0", "--chassis", str(args.chassis))
        server, port, seconds = serve(dcsim, data_dir, env, 600)
        rows.append(("start-up to /healthz 200", f"{seconds:.2f} s"))

        progress("measuring")
        n = args.requests
        rows.append(latency(f"login + logout (x{n})", n, lambda: _login(UcsHandle, port).logout()))
        ucs = _login(UcsHandle, port)
        blades = ucs.query_classid("computeBlade")
        rows.append(("blades served", str(len(blades))))
        rows.append(latency(f"query_classid computeBlade (x{n})", n, lambda: ucs.query_classid("computeBlade")))
        # The same request without ucsmsdk's parsing of 160 objects: what the server costs.
        raw = f'<configResolveClass cookie="{ucs.cookie}" classId="computeBlade" inHierarchical="false"/>'.encode()
        rows.append(latency(f"POST configResolveClass computeBlade, raw XML (x{n})", n, lambda: _post(port, raw)))
        rows.append(latency(
            f"query_classid computeBlade, serial filter (x{n})", n,
            lambda: ucs.query_classid("computeBlade", filter_str=f'(serial, "{blades[-1].serial}", type="eq")'),
        ))  # fmt: skip
        rows.append(latency(f"query_classid lsServer hierarchical (x{n})", n,
                            lambda: ucs.query_classid("lsServer", hierarchy=True)))  # fmt: skip
        rows.append(latency(f"query_dn sys/chassis-1/blade-1 (x{n})", n,
                            lambda: ucs.query_dn("sys/chassis-1/blade-1")))  # fmt: skip
        free = [b for b in blades if b.association == "none"]
        template = ucs.query_classid("lsServer", filter_str='(type, "updating-template", type="eq")')[0].name
        counter = iter(range(10**6))

        def org_create_delete() -> None:
            org = OrgOrg(parent_mo_or_dn="org-root", name=f"bench-{next(counter)}")
            ucs.add_mo(org)
            ucs.commit()
            ucs.remove_mo(org)
            ucs.commit()

        rows.append(latency(f"commit org create + delete (x{n})", n, org_create_delete))

        def profile_cycle() -> None:
            name = f"SP-bench-{next(counter)}"
            blade = free[0].dn
            ucs.add_mo(LsServer(parent_mo_or_dn="org-root", name=name, src_templ_name=template))
            ucs.commit()
            ucs.add_mo(LsBinding(parent_mo_or_dn=f"org-root/ls-{name}", pn_dn=blade))
            ucs.commit()
            ucs.remove_mo(ucs.query_dn(f"org-root/ls-{name}"))
            ucs.commit()

        cycles = max(1, n // 5)
        rows.append(latency(f"profile create, associate, delete: 3 commits (x{cycles})", cycles, profile_cycle))
        rows.append(("RSS at the end", f"{rss_mb(server.pid):.0f} MB"))
        ucs.logout()
    finally:
        finish(server, data_dir, args.keep)
    width = max(len(label) for label, _ in rows)
    print(f"dc-sim UCS XML API benchmark: {args.chassis} chassis, {args.chassis * 8} blades")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


def _post(port: int, body: bytes) -> bytes:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/nuova", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return bytes(response.read())


def _login(handle_class: type, port: int) -> object:
    ucs = handle_class("127.0.0.1", "admin", "password", port=port, secure=False)
    ucs.login()
    return ucs


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chassis", type=int, default=20, help="chassis of 8 blades (default 20: 160 blades)")
    parser.add_argument("--requests", type=int, default=30, help="requests per measurement")
    parser.add_argument("--dcsim", help="the dcsim command (default: the one next to this Python)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
