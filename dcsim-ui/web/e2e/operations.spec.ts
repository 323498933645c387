// The operations views against a real dcsim serve: an incident through its workflow,
// drift, patch, automation and metrics with the API's own data, and an axe scan of each
// view in both themes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { type APIRequestContext, type Page, expect, test } from "@playwright/test";

const token = () => readFileSync(join(process.env.UI_E2E_DATA_DIR ?? "", "admin-token"), "utf8").trim();
const auth = () => ({ Authorization: `Bearer ${token()}` });

async function signIn(page: Page) {
  await page.goto("/");
  await page.getByLabel("dc-sim token").fill(token());
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

async function open(page: Page, view: string) {
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: view, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: view })).toBeVisible();
}

async function getJson<T>(request: APIRequestContext, url: string): Promise<T> {
  const answer = await request.get(url, { headers: auth() });
  expect(answer.ok(), url).toBeTruthy();
  return (await answer.json()) as T;
}

test("open an incident and move it through its workflow", async ({ page, request }) => {
  await signIn(page);
  await open(page, "Incidents");
  await page.getByText("New incident").click();
  const form = page.getByRole("form", { name: "New incident" });
  const title = `e2e disk full ${Date.now()}`;
  await form.getByLabel("Title (required)").fill(title);
  await form.getByLabel("Impact").selectOption("1");
  await form.getByLabel("Urgency").selectOption("2");
  await form.getByRole("button", { name: "Create incident" }).click();

  const detail = page.getByRole("region", { name: /^INC\d{7} detail$/ });
  await expect(detail).toContainText(title);
  const number = ((await detail.getByRole("heading").textContent()) ?? "").split(":")[0] ?? "";
  expect(number).toMatch(/^INC\d{7}$/);
  await expect(page.getByRole("row", { name: new RegExp(number) }).getByTestId("sla")).toContainText("response due in");

  const step = async (from: string, action: string, to: string, fields: Record<string, string> = {}) => {
    const group = detail.getByRole("group", { name: `Actions allowed from ${from}` });
    await group.getByRole("button", { name: action, exact: true }).click();
    const actionForm = detail.getByRole("form", { name: `${action} ${number}` });
    for (const [label, value] of Object.entries(fields)) await actionForm.getByLabel(label).fill(value);
    await actionForm.getByRole("button", { name: `${action} → ${to}` }).click();
    await expect(detail.getByTestId("record-state")).toHaveText(to);
  };
  // The workflow's table from the API decides the buttons: new offers start, not close.
  const table = await getJson<{ incident: Record<string, Record<string, string>> }>(request, "/itsm/workflows");
  const newActions = detail.getByRole("group", { name: "Actions allowed from new" }).getByRole("button");
  await expect(newActions).toHaveCount(Object.keys(table.incident.new ?? {}).length);
  await step("new", "Start", "in_progress", { Assignee: "alice" });
  await step("in_progress", "Hold", "on_hold", { "Reason (required)": "waiting for the vendor" });
  await step("on_hold", "Resume", "in_progress");
  await step("in_progress", "Resolve", "resolved", { "Resolution notes (required)": "freed space on /var" });
  await step("resolved", "Close", "closed");
  await expect(detail).toContainText("closed is final");

  const saved = await getJson<{ state: string; assignee: string; resolution_notes: string }>(request, `/itsm/incidents/${number}`);
  expect(saved).toMatchObject({ state: "closed", assignee: "alice", resolution_notes: "freed space on /var" });
});

test("an incident opened and moved elsewhere shows in the open list without a reload", async ({ page, request }) => {
  type Listing = { items: { number: string; state: string }[]; total: number };
  await signIn(page);
  await open(page, "Incidents");
  const caption = page.getByRole("table").locator("caption");
  await expect(caption).toContainText("· live");
  const before = await getJson<Listing>(request, "/itsm/incidents?limit=25&offset=0");
  await expect(caption).toContainText(`of ${before.total}`);
  // A page reload would drop this mark.
  await page.evaluate(() => Object.assign(window, { e2eNoReload: true }));

  const created = await request.post("/itsm/incidents", {
    headers: auth(),
    data: { title: `e2e elsewhere ${Date.now()}`, impact: 3, urgency: 3 },
  });
  expect(created.status()).toBe(201);
  const { number } = (await created.json()) as { number: string };
  await expect(caption).toContainText(`of ${before.total + 1}`);
  const after = await getJson<Listing>(request, "/itsm/incidents?limit=25&offset=0");
  // The list is the API's first page (newest first): the new incident at its top.
  expect(after.items[0]?.number).toBe(number);
  await expect(page.getByRole("table").locator("tbody tr td:first-child")).toHaveText(after.items.map((r) => r.number));
  expect(await page.evaluate(() => (window as unknown as { e2eNoReload?: boolean }).e2eNoReload)).toBe(true);

  // Opened here, moved there: the detail follows.
  await page.getByRole("button", { name: number, exact: true }).click();
  const detail = page.getByRole("region", { name: `${number} detail` });
  await expect(detail.getByTestId("record-state")).toHaveText("new");
  const started = await request.post(`/itsm/incidents/${number}/start`, { headers: auth(), data: { assignee: "bob" } });
  expect(started.ok()).toBeTruthy();
  await expect(detail.getByTestId("record-state")).toHaveText("in_progress");
  await expect(page.getByRole("row", { name: new RegExp(number) }).getByTestId("state")).toHaveText("in progress");
});

test("drift, patch, automation and metrics show the API's data", async ({ page, request }) => {
  // A real drift: an out-of-band power change on a running VM's node.
  const vms = await getJson<{ items: { name: string; node: { name: string } | null }[] }>(
    request,
    "/sim/vms?limit=1&power_state=on&platform=openstack",
  );
  const vm = vms.items[0];
  expect(vm?.node).toBeTruthy();
  const injected = await request.post("/drift/truth/changes", {
    headers: auth(),
    data: { kind: "power", node: vm?.node?.name, state: "off" },
  });
  expect(injected.ok()).toBeTruthy();
  await expect
    .poll(async () => (await getJson<{ total: number }>(request, `/drift/events?ci=${vm?.name}&limit=1`)).total)
    .toBeGreaterThan(0);

  await signIn(page);
  await open(page, "Drift");
  const live = await getJson<{ total: number }>(request, "/drift/events?state=open,acknowledged,remediating,escalated&limit=1");
  await expect(page.locator("caption", { hasText: "Drift events" })).toContainText(`of ${live.total}`);
  const row = page.getByRole("row", { name: new RegExp(`${vm?.name} power_state`) });
  await expect(row).toContainText("on");
  await expect(row).toContainText("off");
  await expect(page.getByTestId(`heat-${vm?.name}-State`)).not.toHaveText("0");
  const score = await getJson<{ recall: number }>(request, "/drift/score");
  await expect(page.getByTestId("drift-recall")).toHaveText(`${Math.round(score.recall * 1000) / 10}%`);
  await row.getByRole("button", { name: "Acknowledge" }).click();
  await expect(row.getByTestId("drift-state")).toHaveText("acknowledged");

  await open(page, "Patch");
  const compliance = await getJson<{ summary: { total: number; compliant: number } }>(request, "/patch/compliance");
  await expect(page.getByRole("group", { name: "Scorecard estate" })).toContainText(
    `${compliance.summary.compliant} of ${compliance.summary.total} CIs compliant`,
  );
  // No change is approved: the run starts and patches nothing, and the view says why.
  await page.getByRole("form", { name: "Start a patch run" }).getByRole("button", { name: "Start run" }).click();
  await expect(page.getByTestId("patch-run-state")).toHaveText("completed", { timeout: 20_000 });
  await expect(page.getByTestId("patch-needs-change")).toContainText("no approved change covers them now");

  await open(page, "Automation");
  const form = page.getByRole("form", { name: "Run a playbook" });
  await form.getByLabel("Playbook").selectOption("hello-world");
  await form.getByLabel("Check mode (change nothing)").check();
  await form.getByRole("button", { name: "Run" }).click();
  await expect(page.getByTestId("ansible-log")).toContainText("PLAY [", { timeout: 30_000 });
  await expect(page.getByTestId("ansible-run-status")).toHaveText("successful", { timeout: 60_000 });
  const runs = await getJson<{ items: { playbook: string; status: string; check: boolean }[] }>(request, "/ansible/runs?limit=1");
  expect(runs.items[0]).toMatchObject({ playbook: "hello-world", status: "successful", check: true });

  await open(page, "Metrics");
  await expect(page.getByTestId("dcsim_vm_cpu_usage-vm-001")).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId("dcsim_cluster_capacity_used-cluster-01")).toHaveText(/^\d+\.\d%$/);
});

test("axe finds no serious or critical violation in the operations views, light and dark; screenshots", async ({ page }) => {
  // Fourteen scans and full-page captures: more than the default minute on a busy machine.
  test.setTimeout(180_000);
  await signIn(page);
  // Each view with its data in and a record open, so the scan sees tables, forms and details.
  const firstRecord = (page: Page, pattern: RegExp) => page.getByRole("button", { name: pattern }).first().click();
  const views: Record<string, (page: Page) => Promise<void>> = {
    Incidents: async (p) => {
      await firstRecord(p, /^INC\d{7}$/);
      await expect(p.getByTestId("record-state")).toBeVisible();
    },
    Changes: (p) => expect(p.getByRole("region", { name: "Change calendar" })).toBeVisible(),
    Problems: (p) => expect(p.locator("caption", { hasText: "Problems" })).toBeVisible(),
    Drift: (p) => expect(p.getByRole("row", { name: /power_state/ }).first()).toBeVisible(),
    Patch: async (p) => {
      await expect(p.locator("caption", { hasText: "Advisories" })).toBeVisible();
      await firstRecord(p, /RHEL 9 baseline$/);
      await expect(p.getByTestId("patch-run-state")).toBeVisible();
    },
    Automation: async (p) => {
      await firstRecord(p, /^hello-world$/);
      await expect(p.getByTestId("ansible-log")).toContainText("PLAY [");
    },
    Metrics: (p) => expect(p.getByTestId("dcsim_vm_cpu_usage-vm-001")).toBeVisible(),
  };
  const found: string[] = [];
  for (const theme of ["light", "dark"] as const) {
    const current = await page.evaluate(() => document.documentElement.dataset.theme);
    if (current !== theme) await page.getByRole("button", { name: `Switch to ${theme} theme` }).click();
    for (const [view, ready] of Object.entries(views)) {
      await open(page, view);
      await ready(page);
      // With the data the earlier cases made: these replace the empty views' captures.
      await page.screenshot({ path: `test-results/screenshots/${view.toLowerCase()}-${theme}.png`, fullPage: true });
      const { violations } = await new AxeBuilder({ page }).analyze();
      for (const v of violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
        found.push(`${view} (${theme}): ${v.id} ${v.impact}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      }
    }
  }
  expect(found).toEqual([]);
});
