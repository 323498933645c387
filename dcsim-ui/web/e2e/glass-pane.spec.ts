import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type APIRequestContext, type Page, expect, test } from "@playwright/test";

const token = () => readFileSync(join(process.env.UI_E2E_DATA_DIR ?? "", "admin-token"), "utf8").trim();
const auth = () => ({ Authorization: `Bearer ${token()}` });

async function total(request: APIRequestContext, url: string): Promise<number> {
  const answer = await request.get(url, { headers: auth() });
  expect(answer.ok()).toBeTruthy();
  return ((await answer.json()) as { total: number }).total;
}

async function signIn(page: Page, secret = token()) {
  await page.goto("/");
  await page.getByLabel("dc-sim token").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

test("sign in; the overview's tiles match the API and follow a power change live", async ({ page, request }) => {
  await signIn(page);
  const vms = await total(request, "/sim/vms?limit=1");
  const on = await total(request, "/sim/vms?limit=1&power_state=on");
  expect(vms).toBeGreaterThan(0);
  await expect(page.getByTestId("vm-total")).toHaveText(String(vms));
  await expect(page.getByLabel("VMs")).toContainText(`${on} powered on`);
  await expect(page.getByTestId("host-total")).toHaveText(String(await total(request, "/sim/hosts?limit=1")));
  await expect(page.getByTestId("health-score")).toHaveText(/^\d+$/);
  await expect(page.locator(".feed-status")).toHaveText("live");

  const running = await request.get("/sim/vms?limit=1&power_state=on", { headers: auth() });
  const vm = ((await running.json()) as { items: { id: string; name: string }[] }).items[0];
  expect(vm).toBeDefined();
  const off = await request.post(`/sim/vms/${vm?.id}/power`, { headers: auth(), data: { action: "off" } });
  expect(off.ok()).toBeTruthy();
  // The event arrives over /ws, and the tile is reloaded after it.
  await expect(page.getByRole("region", { name: "Latest events" })).toContainText("vm.", { timeout: 15_000 });
  await expect(page.getByLabel("VMs")).toContainText(`${on - 1} powered on`, { timeout: 15_000 });
});

test("power a VM off in the explorer; the overview counts it", async ({ page, request }) => {
  await signIn(page);
  const running = await request.get("/sim/vms?limit=1&power_state=on&platform=vmware", { headers: auth() });
  const vm = ((await running.json()) as { items: { id: string; name: string; host_id: string }[] }).items[0];
  expect(vm).toBeDefined();
  const host = (await (await request.get(`/sim/hosts/${vm?.host_id}`, { headers: auth() })).json()) as { name: string };
  const on = await total(request, "/sim/vms?limit=1&power_state=on");
  await page.getByRole("link", { name: "VMware" }).click();
  await page.getByText(host.name, { exact: true }).click();
  await page.getByRole("button", { name: vm?.name, exact: true }).click();
  await expect(page.getByTestId("vm-power")).toHaveText("on");
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("vm-power")).toHaveText("off");
  expect(await total(request, "/sim/vms?limit=1&power_state=on")).toBe(on - 1);
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page.getByLabel("VMs")).toContainText(`${on - 1} powered on`);
  await expect(page.getByRole("region", { name: "Latest events" })).toContainText("vm.power_changed");
});

test("a viewer sees a VM's detail and no power actions", async ({ page, request }) => {
  const created = await request.post("/tokens", { headers: auth(), data: { name: "e2e-viewer", role: "viewer" } });
  expect(created.ok()).toBeTruthy();
  await signIn(page, ((await created.json()) as { secret: string }).secret);
  await page.getByRole("link", { name: "OpenStack" }).click();
  const running = await request.get("/sim/vms?limit=1&power_state=on&platform=openstack", { headers: auth() });
  const vm = ((await running.json()) as { items: { name: string; host_id: string }[] }).items[0];
  const host = (await (await request.get(`/sim/hosts/${vm?.host_id}`, { headers: auth() })).json()) as { name: string };
  await page.getByText(host.name, { exact: true }).click();
  await page.getByRole("button", { name: vm?.name, exact: true }).click();
  await expect(page.getByTestId("vm-power")).toHaveText("on");
  await expect(page.getByTestId("whoami")).toHaveText("e2e-viewer (viewer)");
  await expect(page.getByRole("button", { name: "Stop" })).toHaveCount(0);
});

test("find a CI and export the CMDB as CSV", async ({ page, request }) => {
  await signIn(page);
  await page.getByRole("link", { name: "CMDB" }).click();
  await page.getByLabel("Name contains").fill("vm-001");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("cell", { name: "vm-001", exact: true })).toBeVisible();
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const file = await (await downloading).path();
  const csv = readFileSync(file, "utf8");
  const api = await request.get("/cmdb/cis?q=vm-001&status=active&format=csv", { headers: auth() });
  expect(csv).toBe(await api.text());
  expect(csv).toContain("vm-001");
});

test("a refused token is explained; the session survives a reload of a client route", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("dc-sim token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("did not accept the token");
  await signIn(page);
  await page.getByRole("link", { name: "Drift" }).click();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Drift" })).toBeVisible();
  await expect(page.locator("caption", { hasText: "Drift events" })).toBeVisible();
  expect(page.url()).not.toContain(token());
});

test("the CMDB table pages from the server; every view in light and dark", async ({ page, request }) => {
  await signIn(page);
  const cis = await total(request, "/cmdb/cis?limit=1");
  const views = ["Overview", "VMware", "OpenStack", "UCS", "CMDB", "Incidents", "Changes", "Problems", "Drift", "Patch", "Automation", "Metrics"];
  for (const theme of ["light", "dark"] as const) {
    const current = await page.evaluate(() => document.documentElement.dataset.theme);
    if (current !== theme) await page.getByRole("button", { name: `Switch to ${theme} theme` }).click();
    for (const view of views) {
      await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: view, exact: true }).click();
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      if (view === "CMDB") await expect(page.locator("caption")).toContainText(`of ${cis}`);
      await page.screenshot({ path: `test-results/screenshots/${view.toLowerCase()}-${theme}.png`, fullPage: true });
    }
  }
});
