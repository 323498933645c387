"""Benchmark the Glass Pane on a large estate: how long the overview and the CMDB table
take to render after navigation, against the 2 s goal of issue #16 (acceptance 4).

Seeds a generated estate (``dcsim seed --vms 10000``) into a throw-away data directory,
serves it with ``dcsim serve`` (dcsim-ui must be installed with its app built), and drives
Debian's Chromium with Playwright from ``dcsim-ui/web`` (``npm ci`` there first). Each
figure is the time from the start of a navigation until the view shows the API's data:

- overview, page load: ``page.goto("/")`` until the VMs tile shows the total and the
  topology graph is drawn;
- overview, in the app: a click on "Overview" until the same;
- CMDB table, in the app: a click on "CMDB" until the first page and its total show.

Prints one table (median and worst of ``--rounds``) to stdout; progress goes to stderr.
The server is stopped by its PID at the end. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import bench_env, finish, progress, seed, serve

WEB = Path(__file__).resolve().parents[1] / "dcsim-ui" / "web"
GOAL_MS = 2000.0

# Run by node from dcsim-ui/web, where @playwright/test is installed.
TIMING_SCRIPT = r"""
import { chromium } from "@playwright/test";
const { url, token, rounds, chromiumPath } = JSON.parse(process.argv[1]);
const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"], headless: true });
const page = await browser.newPage({ baseURL: url, viewport: { width: 1400, height: 900 } });
await page.goto("/");
await page.evaluate((secret) => sessionStorage.setItem("dcsim.token", secret), token);
const overviewDrawn = async () => {
  await page.getByTestId("vm-total").waitFor();
  await page.locator("[data-testid=topo-node]").first().waitFor();
};
const times = { "overview, page load": [], "overview, in the app": [], "CMDB table, in the app": [] };
// Where the first page load's time went: the document, the script, and the API answers
// that ended last (start and end, ms from the navigation's start), from the browser's own timing.
const loadBreakdown = (since = 0) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const entries = performance.getEntriesByType("resource").filter((e) => e.startTime >= since).map((e) => ({
    name: e.name.replace(location.origin, ""), start: Math.round(e.startTime - since), end: Math.round(e.responseEnd - since),
  }));
  const script = entries.find((e) => e.name.endsWith(".js"));
  const apis = entries.filter((e) => !e.name.startsWith("/assets/")).sort((a, b) => b.end - a.end);
  return { document: Math.round(nav.responseEnd), domContentLoaded: Math.round(nav.domContentLoadedEventEnd), script, requests: entries.length, slowest: apis.slice(0, 4) };
};
let firstLoad = null;
let lastInApp = null;
for (let round = 0; round < rounds; round++) {
  let started = Date.now();
  await page.goto("/");
  await overviewDrawn();
  times["overview, page load"].push(Date.now() - started);
  if (round === 0) firstLoad = await page.evaluate(loadBreakdown);

  started = Date.now();
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: "CMDB", exact: true }).click();
  await page.locator("caption", { hasText: /Configuration items 1.\d+ of \d+/ }).waitFor();
  await page.locator("main table tbody tr").first().waitFor();
  times["CMDB table, in the app"].push(Date.now() - started);

  started = Date.now();
  const clicked = await page.evaluate(() => performance.now());
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: "Overview", exact: true }).click();
  await overviewDrawn();
  times["overview, in the app"].push(Date.now() - started);
  lastInApp = await page.evaluate(loadBreakdown, clicked);
}
const nodes = await page.locator("[data-testid=topo-node]").count();
const vms = await page.getByTestId("vm-total").textContent();
await browser.close();
console.log(JSON.stringify({ times, nodes, vms, firstLoad, lastInApp }));
"""


def main() -> int:
    args = _parse_args()
    dcsim = args.dcsim or str(Path(sys.executable).with_name("dcsim"))
    if not (WEB / "node_modules" / "@playwright" / "test").is_dir():
        raise SystemExit(f"run `npm ci` in {WEB} first (Playwright comes from there)")
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-bench-ui-"))
    env = bench_env()
    server = None
    try:
        progress(f"seeding {args.vms} VMs into {data_dir}")
        seconds = seed(dcsim, data_dir, env, "--vms", str(args.vms), "--datacenters", str(args.datacenters),
                       "--clusters", str(args.clusters), "--hosts", str(args.hosts))  # fmt: skip
        progress(f"seeded in {seconds:.1f} s")
        server, port, _ = serve(dcsim, data_dir, env, args.start_timeout)
        token = (data_dir / "admin-token").read_text().strip()
        progress(f"timing {args.rounds} rounds in Chromium (the first just after start-up)")
        load_before = os.getloadavg()
        options = {
            "url": f"http://127.0.0.1:{port}",
            "token": token,
            "rounds": args.rounds,
            "chromiumPath": args.chromium,
        }
        node_env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
        result = subprocess.run(
            ["node", "--input-type=module", "-e", TIMING_SCRIPT, json.dumps(options)],
            cwd=WEB, env=node_env, capture_output=True, text=True, timeout=1800, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"the browser run failed:\n{result.stderr[-3000:]}")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        figures["load"] = (load_before, os.getloadavg())
    finally:
        finish(server, data_dir, args.keep)
    _print_table(args, figures)
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--datacenters", type=int, default=2)
    parser.add_argument("--clusters", type=int, default=4, help="clusters per datacenter")
    parser.add_argument("--hosts", type=int, default=16, help="hosts per cluster")
    parser.add_argument("--rounds", type=int, default=5, help="navigations timed per view")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium Playwright drives")
    parser.add_argument("--dcsim", help="the dcsim command (default: the one next to this Python)")
    parser.add_argument("--start-timeout", type=float, default=1800.0, help="seconds to wait for /healthz")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    return parser.parse_args()


def _print_table(args: argparse.Namespace, figures: dict[str, object]) -> None:
    times: dict[str, list[int]] = figures["times"]  # type: ignore[assignment]
    print(f"Glass Pane render times: {args.vms} VMs ({figures['vms']} shown), {args.datacenters} datacenters x "
          f"{args.clusters} clusters x {args.hosts} hosts; topology drew {figures['nodes']} nodes; "
          f"{args.rounds} rounds; goal {GOAL_MS / 1000:.0f} s")  # fmt: skip
    before, after = figures["load"]  # type: ignore[misc]
    print(f"load average (1, 5, 15 min) {_load(before)} before the rounds, {_load(after)} after; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print()
    print("| view | median | worst | round 1 (first after start-up) | every round | within 2 s |")
    print("|---|---|---|---|---|---|")
    for label, values in times.items():
        ordered = sorted(values)
        median = ordered[len(ordered) // 2]
        worst = ordered[-1]
        rounds = ", ".join(str(v) for v in values)
        print(
            f"| {label} | {median} ms | {worst} ms | {values[0]} ms | {rounds} | {'yes' if worst <= GOAL_MS else 'NO'} |"
        )
    first = figures.get("firstLoad")
    if isinstance(first, dict):
        print()
        script = first["script"] or {}
        print(f"Round 1's page load in the browser: document {first['document']} ms, script {script.get('start')}-"
              f"{script.get('end')} ms, DOMContentLoaded {first['domContentLoaded']} ms, {first['requests']} requests; "
              "last answers: " + ", ".join(f"{e['name']} {e['start']}-{e['end']} ms" for e in first["slowest"]))  # fmt: skip
    last = figures.get("lastInApp")
    if isinstance(last, dict):
        print(f"The last round's overview in the app: {last['requests']} requests (timed from the click); last "
              "answers: " + ", ".join(f"{e['name']} {e['start']}-{e['end']} ms" for e in last["slowest"]))  # fmt: skip


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    raise SystemExit(main())
