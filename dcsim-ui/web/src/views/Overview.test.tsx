import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { stubFetch } from "../test/fetchStub";
import { loadOverview } from "../overview/loadOverview";
import { loadTopology } from "../topology/loadTopology";
import { OverviewTiles } from "./Overview";

const page = (total: number, items: unknown[] = []) => ({ body: { items, total, limit: 1, offset: 0 } });
const host = (status: string) => ({ id: status, name: status, status, cluster_id: "c", cpu_cores: 1, memory_mb: 1, vm_count: 0, blade_id: null, booted_at: "", power_state: "on" });

describe("Overview", () => {
  it("shows each tile as its answer comes, and the score only once every part answered", () => {
    render(<OverviewTiles data={{ vms: { ok: true, value: { total: 10000, on: 9000 } } }} />);
    expect(screen.getByTestId("vm-total")).toHaveTextContent("10000");
    expect(screen.getByLabelText("Patch compliance")).toHaveTextContent("Loading…");
    expect(screen.getByTestId("health-score")).toHaveTextContent("–");
  });

  it("leaves patch compliance out while no CI has been scanned", async () => {
    const empty = { total: 0, compliant: 0, non_compliant: 0, unknown: 0, pending_cves: 0, compliance_pct: 0 };
    stubFetch({ "/patch/compliance/summary": { body: { summary: empty, by_env: {}, by_os: {}, by_policy: {} } } });
    const data = await loadOverview();
    expect(data.patchCompliancePct).toEqual({ ok: false, reason: "no CI has been scanned yet" });
  });

  it("asks for patch compliance, the one heavy answer, only once the cheap counts have answered", async () => {
    const empty = { total: 0, compliant: 0, non_compliant: 0, unknown: 0, pending_cves: 0, compliance_pct: 0 };
    const calls = stubFetch({
      "/sim/vms": page(9),
      "/sim/hosts": page(1, [host("ok")]),
      "/itsm/incidents": page(0),
      "/drift/events": page(0),
      "/patch/compliance/summary": { body: { summary: empty, by_env: {}, by_os: {}, by_policy: {} } },
    });
    await loadOverview();
    const paths = calls.map((call) => call.url.split("?")[0]);
    expect(paths).toHaveLength(9);
    expect(paths.indexOf("/patch/compliance/summary")).toBe(8);
    expect(paths).not.toContain("/patch/compliance");
  });

  it("asks once for the hosts and the VM count that the tiles and the topology both need", async () => {
    const calls = stubFetch({
      "/sim/vms": page(300),
      "/sim/hosts": page(1, [host("ok")]),
      "/sim/datacenters": page(0),
      "/sim/clusters": page(0),
      "/itsm/incidents": page(0),
      "/drift/events": page(0),
      "/ucs/api/v1/chassis": { status: 404, body: {} },
      "/ucs/api/v1/blades": { status: 404, body: {} },
    });
    const [tiles] = await Promise.all([loadOverview(), loadTopology()]);
    expect(tiles.vms).toEqual({ ok: true, value: { total: 300, on: 300 } });
    expect(calls.filter((c) => c.url.startsWith("/sim/hosts"))).toHaveLength(1);
    expect(calls.filter((c) => c.url === "/sim/vms?limit=1")).toHaveLength(1);
  });

  it("shows the API's numbers, the health score with its formula, and says which APIs did not answer", async () => {
    stubFetch({
      "/sim/vms?limit=1": page(9),
      "/sim/vms?limit=1&power_state=on": page(7),
      "/sim/hosts": page(3, [host("ok"), host("ok"), host("degraded")]),
      "/itsm/incidents?state=new%2Cin_progress%2Con_hold&priority=P1&limit=1": page(1),
      "/itsm/incidents?state=new%2Cin_progress%2Con_hold&priority=P2&limit=1": page(0),
      "/itsm/incidents?state=new%2Cin_progress%2Con_hold&priority=P3&limit=1": page(2),
      "/itsm/incidents?state=new%2Cin_progress%2Con_hold&priority=P4&limit=1": page(0),
      "/patch/compliance/summary": { status: 404, body: { status: 404, detail: "no route", title: "Not Found", type: "x", code: "x" } },
      "/drift/events": page(2),
    });
    const data = await loadOverview();
    render(<OverviewTiles data={data} />);
    expect(screen.getByTestId("vm-total")).toHaveTextContent("9");
    expect(screen.getByLabelText("VMs")).toHaveTextContent("7 powered on");
    expect(screen.getByTestId("host-total")).toHaveTextContent("3");
    expect(screen.getByTestId("incidents-P1")).toHaveTextContent("1");
    expect(screen.getByTestId("incidents-P3")).toHaveTextContent("2");
    expect(within(screen.getByLabelText("Patch compliance")).getByText(/not available/)).toBeInTheDocument();
    expect(screen.getByLabelText("Open drift")).toHaveTextContent("2");
    // Hosts 40×2.5/3 = 33.3, incidents 30−14 = 16, drift 15−3 = 12: 61.3 of 85.
    expect(screen.getByTestId("health-score")).toHaveTextContent("72");
    const tile = screen.getByLabelText("Health score");
    expect(tile.getAttribute("title")).toContain("30 − (10 per P1 + 5 per P2 + 2 per P3 + ½ per P4)");
    expect(tile.getAttribute("title")).not.toContain("Patch compliance");
  });
});
