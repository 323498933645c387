// The platform views against a real dcsim serve with every adapter installed: the 9 seed
// nodes in the topology, a power change seen live in tile, graph and feed, the UCS
// explorer, a CI's detail (also reloaded as a deep link), a viewer seeing no action
// button on any view, an axe scan of these views, and screenshots of each.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { type APIRequestContext, type Page, expect, test } from "@playwright/test";

const token = () => readFileSync(join(process.env.UI_E2E_DATA_DIR ?? "", "admin-token"), "utf8").trim();
const auth = () => ({ Authorization: `Bearer ${token()}` });

interface Named {
  id: string;
  name: string;
}

async function getJson<T>(request: APIRequestContext, url: string): Promise<T> {
  const answer = await request.get(url, { headers: auth() });
  expect(answer.ok(), url).toBeTruthy();
  return (await answer.json()) as T;
}

async function signIn(page: Page, secret = token()) {
  await page.goto("/");
  await page.getByLabel("dc-sim token").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

async function open(page: Page, view: string) {
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: view, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
}

const node = (page: Page, name: string) => page.locator(`[data-testid=topo-node][data-name="${name}"]`);

test("the overview draws the 9 seed nodes and its tiles match the API", async ({ page, request }) => {
  await signIn(page);
  const vms = await getJson<{ items: Named[]; total: number }>(request, "/sim/vms?limit=1000");
  const blades = await getJson<{ items: Named[] }>(request, "/ucs/api/v1/blades");
  // The default seed: 3 VMware VMs, 3 OpenStack instances, 3 UCS blades.
  expect(vms.total + blades.items.length).toBe(9);
  await expect(page.getByTestId("vm-total")).toHaveText(String(vms.total));
  const hosts = await getJson<{ total: number }>(request, "/sim/hosts?limit=1");
  await expect(page.getByTestId("host-total")).toHaveText(String(hosts.total));
  const leaves = page.locator("[data-testid=topo-node][data-kind=vm], [data-testid=topo-node][data-kind=blade]");
  await expect(leaves).toHaveCount(9);
  const drawn = await leaves.evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.name).sort());
  expect(drawn).toEqual([...vms.items, ...blades.items].map((n) => n.name).sort());
  for (const kind of ["datacenter", "cluster", "host", "chassis", "domain"]) {
    await expect(page.locator(`[data-testid=topo-node][data-kind=${kind}]`).first()).toBeVisible();
  }
});

test("power a VM off: its tile, its topology node and the feed change live", async ({ page, request }) => {
  await signIn(page);
  const running = await getJson<{ items: Named[] }>(request, "/sim/vms?limit=1&power_state=on&platform=openstack");
  const vm = running.items[0];
  expect(vm).toBeDefined();
  const on = (await getJson<{ total: number }>(request, "/sim/vms?limit=1&power_state=on")).total;
  await expect(node(page, vm?.name ?? "")).toHaveAttribute("data-state", "on");
  const green = await node(page, vm?.name ?? "").locator("circle").evaluate((c) => getComputedStyle(c).fill);
  const off = await request.post(`/sim/vms/${vm?.id}/power`, { headers: auth(), data: { action: "off" } });
  expect(off.ok()).toBeTruthy();
  // No reload, no navigation: the page follows /ws.
  await expect(page.getByRole("region", { name: "Latest events" })).toContainText("vm.power_changed", { timeout: 15_000 });
  await expect(node(page, vm?.name ?? "")).toHaveAttribute("data-state", "off", { timeout: 15_000 });
  const grey = await node(page, vm?.name ?? "").locator("circle").evaluate((c) => getComputedStyle(c).fill);
  expect(grey).not.toBe(green);
  await expect(page.getByLabel("VMs")).toContainText(`${on - 1} powered on`, { timeout: 15_000 });
  await request.post(`/sim/vms/${vm?.id}/power`, { headers: auth(), data: { action: "on" } });
});

test("the UCS explorer: a blade's detail, powered down and up through its profile, a fault injected", async ({ page, request }) => {
  await signIn(page);
  const blades = await getJson<{ items: (Named & { service_profile: string | null })[] }>(request, "/ucs/api/v1/blades");
  const blade = blades.items.find((b) => b.service_profile);
  expect(blade).toBeDefined();
  await open(page, "UCS");
  await page.getByRole("button", { name: blade?.name, exact: true }).click();
  await expect(page.getByTestId("blade-power")).toHaveText("on");
  await page.getByRole("button", { name: "Power down" }).click();
  await expect(page.getByTestId("blade-power")).toHaveText("off");
  expect((await getJson<{ power_state: string }>(request, `/ucs/api/v1/blades/${blade?.name}`)).power_state).toBe("off");
  await page.getByRole("button", { name: "Power up" }).click();
  await expect(page.getByTestId("blade-power")).toHaveText("on");

  await page.getByLabel("Fault to inject").selectOption("firmware-mismatch");
  await page.getByRole("button", { name: "Inject fault" }).click();
  await expect(page.getByTestId("active-fault")).toContainText("firmware-mismatch");
  const faults = await getJson<{ items: { id: string; kind: string; params: Record<string, unknown> }[] }>(request, "/sim/inject");
  const fault = faults.items.find((f) => f.kind === "firmware-mismatch" && f.params.blade === blade?.name);
  expect(fault).toBeDefined();
  // The admin may clear it.
  await page.getByRole("button", { name: "Clear firmware-mismatch" }).click();
  await expect(page.getByTestId("no-faults")).toBeVisible();
});

test("find a CI, open its detail, reload it as a deep link, export the CMDB as CSV", async ({ page, request }) => {
  await signIn(page);
  await open(page, "CMDB");
  await page.getByLabel("Name contains").fill("vm-002");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "vm-002", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "vm-002" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Fields" })).toContainText("esxi-");
  await expect(page.getByRole("group", { name: /vm-002: \d+ CIs depend on it, it depends on \d+/ })).toBeVisible();
  await expect(page.locator("[data-testid=relationship-node]").first()).toBeVisible();
  const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop() ?? "");
  const ci = await getJson<{ name: string }>(request, `/cmdb/cis/${id}`);
  expect(ci.name).toBe("vm-002");
  // A reload is a browser navigation to an API path: the app answers it, not the API.
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "vm-002" })).toBeVisible();
  await page.screenshot({ path: "test-results/screenshots/ci-detail-light.png", fullPage: true });
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await page.screenshot({ path: "test-results/screenshots/ci-detail-dark.png", fullPage: true });
  await page.getByRole("button", { name: "Switch to light theme" }).click();
  // The same path asked by an API client is the API's.
  expect((await request.get(`/cmdb/cis/${id}`, { headers: { ...auth(), Accept: "application/json" } })).headers()["content-type"]).toContain(
    "application/json",
  );

  await page.getByRole("link", { name: "Back to the CMDB" }).click();
  await page.getByLabel("Name contains").fill("vm-002");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("cell", { name: "vm-002", exact: true })).toBeVisible();
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const csv = readFileSync(await (await downloading).path(), "utf8");
  const api = await request.get("/cmdb/cis?q=vm-002&status=active&format=csv", { headers: auth() });
  expect(csv).toBe(await api.text());
});

// Buttons that change something; a viewer must see none of them.
const ACTION = /^(start|stop|reset|power|inject|clear|create|new|acknowledge|suppress|remediate|run|trigger|cancel|approve|reject|submit|save|resolve|close|reopen|assign|move|scan|delete|decommission|add|revoke|sync|reconcile|take|put|start work|hold|resume)\b/i;

async function actionButtons(page: Page): Promise<string[]> {
  const names = await page.locator("main button:visible").evaluateAll((buttons) =>
    buttons.map((b) => (b.getAttribute("aria-label") ?? b.textContent ?? "").trim()),
  );
  return names.filter((name) => ACTION.test(name));
}

test("a viewer token sees no action button on any view", async ({ page, request }) => {
  const created = await request.post("/tokens", { headers: auth(), data: { name: "e2e-viewer-all", role: "viewer" } });
  expect(created.ok()).toBeTruthy();
  await signIn(page, ((await created.json()) as { secret: string }).secret);
  await expect(page.getByTestId("whoami")).toHaveText("e2e-viewer-all (viewer)");
  const views = ["Overview", "VMware", "OpenStack", "UCS", "CMDB", "Incidents", "Changes", "Problems", "Drift", "Patch", "Automation", "Metrics"];
  const seen: Record<string, string[]> = {};
  for (const view of views) {
    await open(page, view);
    await page.waitForLoadState("networkidle");
    if (view === "VMware" || view === "OpenStack") {
      await page.locator("nav.tree details details details summary").first().click();
      // The opened host's own detail first (its fault injection is an operator's), then a VM's.
      await page.locator("nav.tree button.link", { hasText: "host detail" }).first().click();
      await expect(page.getByTestId("host-status")).toBeVisible();
      await page.waitForLoadState("networkidle");
      expect(await actionButtons(page), `${view} host detail`).toEqual([]);
      await page.locator("nav.tree li button.link").first().click();
      await expect(page.getByTestId("vm-power")).toBeVisible();
    }
    if (view === "UCS") {
      await page.locator("nav.tree button.link").first().click();
      await expect(page.getByTestId("blade-power")).toBeVisible();
    }
    // Some lists open a record's detail from a row: open the first, if any.
    const firstRow = page.locator("main table tbody tr button.link, main table tbody tr a").first();
    if (view !== "CMDB" && (await firstRow.count()) > 0) await firstRow.click();
    await page.waitForLoadState("networkidle");
    seen[view] = await actionButtons(page);
  }
  await open(page, "CMDB");
  await page.locator("main table tbody a").first().click();
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  seen["CI detail"] = await actionButtons(page);
  expect(seen).toEqual(Object.fromEntries([...views, "CI detail"].map((v) => [v, []])));
});

test("axe finds no serious or critical violation in the platform views and a CI detail, light and dark", async ({ page }) => {
  // Twelve scans: a minute on a quiet machine, more on a busy CI runner.
  test.setTimeout(180_000);
  await signIn(page);
  const views = ["Overview", "VMware", "OpenStack", "UCS", "CMDB"];
  for (const theme of ["light", "dark"] as const) {
    const current = await page.evaluate(() => document.documentElement.dataset.theme);
    if (current !== theme) await page.getByRole("button", { name: `Switch to ${theme} theme` }).click();
    for (const view of views) {
      await open(page, view);
      await page.waitForLoadState("networkidle");
      if (view === "VMware") {
        await page.locator("nav.tree details details details summary").first().click();
        // A VM's detail (a host's: explorer.spec.ts).
        await page.locator("nav.tree li button.link").first().click();
      }
      if (view === "UCS") await page.locator("nav.tree button.link").first().click();
      const scan = await new AxeBuilder({ page }).analyze();
      const bad = scan.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      expect(bad.map((v) => `${view} (${theme}): ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`)).toEqual([]);
    }
    await open(page, "CMDB");
    await page.locator("main table tbody a").first().click();
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await page.waitForLoadState("networkidle");
    const detail = await new AxeBuilder({ page }).analyze();
    expect(detail.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  }
});
