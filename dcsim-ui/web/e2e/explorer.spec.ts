// The explorers' detail panels against a real dcsim serve: a host's detail (sizes, state,
// its VMs, sparklines) and a VM's, whose sparklines show the figures of the recent-metrics
// API (the current bucket is /metrics's); an axe scan of both panels in either theme, and
// screenshots of them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { type APIRequestContext, type Page, expect, test } from "@playwright/test";

const token = () => readFileSync(join(process.env.UI_E2E_DATA_DIR ?? "", "admin-token"), "utf8").trim();
const auth = () => ({ Authorization: `Bearer ${token()}` });

interface Host {
  id: string;
  name: string;
  cpu_cores: number;
  memory_mb: number;
  vm_count: number;
  cluster_id: string;
}
interface Point {
  cpu_usage: number;
  memory_usage: number;
  temperature?: number;
}

async function getJson<T>(request: APIRequestContext, url: string): Promise<T> {
  const answer = await request.get(url, { headers: auth() });
  expect(answer.ok(), url).toBeTruthy();
  return (await answer.json()) as T;
}

async function signIn(page: Page) {
  await page.goto("/");
  await page.getByLabel("dc-sim token").fill(token());
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

async function open(page: Page, view: string) {
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: view, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
}

/** The latest point of the object's recent metrics, as the API answers now. */
async function latest(request: APIRequestContext, path: string): Promise<Point> {
  const answer = await getJson<{ points: Point[] }>(request, `${path}/metrics?buckets=1`);
  return answer.points[0] as Point;
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** A host of `platform` that runs VMs, with its cluster's name. */
async function busyHost(request: APIRequestContext, platform: string): Promise<{ host: Host; cluster: string }> {
  const vm = (await getJson<{ items: { host_id: string }[] }>(request, `/sim/vms?limit=1&platform=${platform}`)).items[0];
  const hosts = await getJson<{ items: Host[] }>(request, "/sim/hosts?limit=1000");
  const host = hosts.items.find((h) => h.id === vm?.host_id) as Host;
  const clusters = await getJson<{ items: { id: string; name: string }[] }>(request, "/sim/clusters?limit=1000");
  return { host, cluster: clusters.items.find((c) => c.id === host.cluster_id)?.name ?? "" };
}

async function serious(page: Page, where: string): Promise<string[]> {
  const scan = await new AxeBuilder({ page }).include(".explorer").analyze();
  return scan.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${where}: ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`);
}

test("a host's and a VM's detail show their sparklines with the API's figures", async ({ page, request }) => {
  await signIn(page);
  const { host, cluster } = await busyHost(request, "vmware");
  await open(page, "VMware");
  await page.getByText(host.name, { exact: true }).click();
  await page.getByRole("button", { name: `${host.name}: host detail` }).click();

  const panel = page.getByRole("region", { name: `Host ${host.name}` });
  await expect(panel).toContainText(`${host.cpu_cores} cores`);
  await expect(panel).toContainText(`${host.memory_mb} MB`);
  await expect(panel).toContainText(cluster);
  await expect(panel.getByTestId("host-status")).toHaveText("ok");
  await expect(panel.getByRole("img", { name: /^CPU over the last 10 min, now \d+\.\d%$/ })).toBeVisible();
  await expect(panel.getByRole("img", { name: /^Temperature over the last 10 min, now \d+\.\d °C$/ })).toBeVisible();
  // The figures are the API's current bucket (read again when a bucket edge fell between).
  await expect(async () => {
    const now = await latest(request, `/sim/hosts/${host.id}`);
    await expect(panel.getByTestId("spark-temperature")).toHaveText(`${now.temperature?.toFixed(1)} °C`, { timeout: 1_000 });
    await expect(panel.getByTestId("spark-cpu")).toHaveText(percent(now.cpu_usage), { timeout: 1_000 });
  }).toPass({ timeout: 40_000 });

  const vms = page.getByRole("region", { name: `VMs on ${host.name}` });
  await expect(vms.getByTestId("host-vms-range")).toHaveText(`1–${Math.min(10, host.vm_count)} of ${host.vm_count}`);
  const first = (await getJson<{ items: { id: string; name: string }[] }>(request, `/sim/vms?host=${host.id}&limit=1`)).items[0];
  await vms.getByRole("button", { name: first?.name, exact: true }).click();
  const vmPanel = page.getByRole("region", { name: `VM ${first?.name}` });
  await expect(vmPanel.getByRole("img", { name: /^Memory over the last 10 min, now \d+\.\d%$/ })).toBeVisible();
  await expect(async () => {
    const now = await latest(request, `/sim/vms/${first?.id}`);
    await expect(vmPanel.getByTestId("spark-cpu")).toHaveText(percent(now.cpu_usage), { timeout: 1_000 });
    await expect(vmPanel.getByTestId("spark-memory")).toHaveText(percent(now.memory_usage), { timeout: 1_000 });
  }).toPass({ timeout: 40_000 });
});

test("axe finds no serious violation in a host's and a VM's detail, light and dark; screenshots", async ({ page, request }) => {
  test.setTimeout(120_000);
  await signIn(page);
  const found: string[] = [];
  for (const theme of ["light", "dark"] as const) {
    const current = await page.evaluate(() => document.documentElement.dataset.theme);
    if (current !== theme) await page.getByRole("button", { name: `Switch to ${theme} theme` }).click();
    for (const [view, platform] of [
      ["VMware", "vmware"],
      ["OpenStack", "openstack"],
    ] as const) {
      const { host } = await busyHost(request, platform);
      await open(page, view);
      await page.getByText(host.name, { exact: true }).click();
      await page.getByRole("button", { name: `${host.name}: host detail` }).click();
      await expect(page.getByTestId("spark-temperature")).not.toHaveText("–");
      await page.waitForLoadState("networkidle");
      found.push(...(await serious(page, `${view} host (${theme})`)));
      await page.screenshot({ path: `test-results/screenshots/${platform}-host-${theme}.png`, fullPage: true });

      const vms = page.getByRole("region", { name: `VMs on ${host.name}` });
      await vms.getByRole("button").first().click();
      await expect(page.getByTestId("spark-cpu")).not.toHaveText("–");
      await page.waitForLoadState("networkidle");
      found.push(...(await serious(page, `${view} VM (${theme})`)));
      await page.screenshot({ path: `test-results/screenshots/${platform}-vm-${theme}.png`, fullPage: true });
    }
  }
  expect(found).toEqual([]);
});
