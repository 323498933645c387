import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { TopologyGraph } from "../components/Topology";
import { stubFetch } from "../test/fetchStub";
import { COLUMN, ROW, layout } from "./layout";
import { MAX_HOSTS_DRAWN, MAX_VMS_DRAWN, type TopoNode, loadTopology } from "./loadTopology";

const page = (items: unknown[], total = items.length) => ({ body: { items, total, limit: 1000, offset: 0 } });
const host = (id: string, cluster_id: string, vm_count: number, status = "ok") => ({
  id, name: id, cluster_id, status, vm_count, cpu_cores: 1, memory_mb: 1, blade_id: null, booted_at: "", power_state: "on",
});
const vm = (id: string, host_id: string, power_state = "on") => ({ id, name: id, host_id, power_state });
const sim = (hosts: unknown[], vmTotal: number) => ({
  "/sim/datacenters": page([{ id: "dc1", name: "dc-west", platform: "vmware" }]),
  "/sim/clusters": page([{ id: "c1", name: "cluster-01", platform: "vmware", datacenter_id: "dc1" }]),
  "/sim/hosts": page(hosts),
  "/sim/vms?limit=1": page([], vmTotal),
});
const noUcs = Object.fromEntries(
  ["chassis", "blades", "service-profiles"].map((name) => [`/ucs/api/v1/${name}`, { status: 404, body: {} }]),
);
const ucs = {
  "/ucs/api/v1/chassis": page([{ id: "ch1", name: "chassis-01", domain: "ucs-domain-01", blades: ["c01s01", "c01s02"] }]),
  "/ucs/api/v1/blades": page([
    { id: "b2", name: "c01s02", domain: "ucs-domain-01", chassis: "chassis-01", slot: 2, power_state: "off", status: "ok" },
    { id: "b1", name: "c01s01", domain: "ucs-domain-01", chassis: "chassis-01", slot: 1, power_state: "on", status: "degraded" },
  ]),
  "/ucs/api/v1/service-profiles": page([]),
};

function find(roots: TopoNode[], label: string): TopoNode | undefined {
  for (const node of roots) {
    if (node.label === label) return node;
    const inner = find(node.children, label);
    if (inner) return inner;
  }
  return undefined;
}

describe("topology", () => {
  it("draws datacenters > clusters > hosts > VMs and UCS domain > chassis > blades, coloured by state", async () => {
    const calls = stubFetch({
      ...sim([host("esxi-01", "c1", 2), host("esxi-02", "c1", 0, "failed")], 2),
      [`/sim/vms?limit=${MAX_VMS_DRAWN}`]: page([vm("vm-002", "esxi-01", "off"), vm("vm-001", "esxi-01")]),
      ...ucs,
    });
    const roots = await loadTopology();
    // The graph draws hardware only: no service profiles are asked for.
    expect(calls.map((call) => call.url).filter((url) => url.startsWith("/ucs/"))).toEqual([
      "/ucs/api/v1/chassis?limit=1000&offset=0",
      "/ucs/api/v1/blades?limit=1000&offset=0",
    ]);
    expect(roots.map((r) => r.label)).toEqual(["dc-west", "ucs-domain-01"]);
    expect(find(roots, "esxi-01")?.children.map((c) => [c.label, c.state])).toEqual([["vm-001", "on"], ["vm-002", "off"]]);
    expect(find(roots, "cluster-01")?.state).toBe("failed");
    expect(find(roots, "chassis-01")?.children.map((c) => [c.label, c.state])).toEqual([["c01s01", "degraded"], ["c01s02", "off"]]);

    render(<TopologyGraph roots={roots} />);
    const drawn = screen.getAllByTestId("topo-node");
    expect(drawn.map((n) => n.dataset.name)).toEqual(
      ["dc-west", "cluster-01", "esxi-01", "vm-001", "vm-002", "esxi-02", "ucs-domain-01", "chassis-01", "c01s01", "c01s02"],
    );
    expect(drawn.find((n) => n.dataset.name === "vm-002")?.dataset.state).toBe("off");
    expect(screen.getByRole("img", { name: /10 nodes drawn/ })).toBeInTheDocument();
  });

  it("groups a large estate: one node per host's VMs, one node for a cluster's many hosts", async () => {
    const many = Array.from({ length: MAX_HOSTS_DRAWN + 1 }, (_, i) => host(`h${i}`, "c1", 400, i === 0 ? "degraded" : "ok"));
    const calls = stubFetch({ ...sim(many, 10_000), ...noUcs });
    const roots = await loadTopology();
    expect(roots).toHaveLength(1);
    const cluster = find(roots, "cluster-01");
    expect(cluster?.children).toHaveLength(1);
    expect(cluster?.children[0]?.label).toBe(`${MAX_HOSTS_DRAWN + 1} hosts, 10000 VMs (1 degraded, 0 failed)`);
    expect(cluster?.children[0]?.state).toBe("degraded");
    // No VM listing was asked for.
    expect(calls.some((c) => c.url.startsWith(`/sim/vms?limit=${MAX_VMS_DRAWN}`))).toBe(false);

    stubFetch({ ...sim([host("esxi-01", "c1", 5000), host("esxi-02", "c1", 5000)], 10_000), ...noUcs });
    const hosts = find(await loadTopology(), "cluster-01")?.children ?? [];
    expect(hosts.map((h) => h.children.map((c) => [c.label, c.kind]))).toEqual([[["5000 VMs", "group"]], [["5000 VMs", "group"]]]);
  });

  it("lays leaves out one per row and each parent level with the middle of its children", () => {
    const leaf = (id: string): TopoNode => ({ id, label: id, kind: "vm", state: "on", children: [] });
    const { placed, rows, depth } = layout([{ id: "h", label: "h", kind: "host", state: "ok", children: [leaf("a"), leaf("b"), leaf("c")] }]);
    expect(rows).toBe(3);
    expect(depth).toBe(1);
    expect(placed.map((p) => [p.node.id, p.x, p.y])).toEqual([
      ["h", 0, ROW],
      ["a", COLUMN, 0],
      ["b", COLUMN, ROW],
      ["c", COLUMN, 2 * ROW],
    ]);
  });
});
