import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setToken } from "../api/token";
import { renderAs } from "../test/session";
import { Observability } from "./Observability";
import { HISTORY_LENGTH, byLabel, parseExposition, record, top } from "./ObservabilityMetrics";

const exposition = `# HELP dcsim_vm_cpu_usage CPU in use, a fraction of the VM's vCPUs.
# TYPE dcsim_vm_cpu_usage gauge
dcsim_vm_cpu_usage{cluster="cluster-01",host="esxi-01",platform="vmware",vm="vm-001"} 0.25
dcsim_vm_cpu_usage{cluster="nova",host="compute-01",platform="openstack",vm="instance-001"} 0.5
dcsim_vm_memory_usage{vm="vm-001"} 0.75
dcsim_vm_memory_usage{vm="odd \\"name\\""} 1e-1 1700000000000
dcsim_cluster_capacity_used{cluster="cluster-01"} 0.125
dcsim_up 1
`;

afterEach(() => vi.unstubAllGlobals());

describe("Observability", () => {
  it("parses the exposition text: labels, escapes, exponents, timestamps", () => {
    const samples = parseExposition(exposition);
    expect(samples).toHaveLength(6);
    expect(samples[0]).toEqual({
      name: "dcsim_vm_cpu_usage",
      labels: { cluster: "cluster-01", host: "esxi-01", platform: "vmware", vm: "vm-001" },
      value: 0.25,
    });
    expect(byLabel(samples, "dcsim_vm_memory_usage", "vm")).toEqual({ "vm-001": 0.75, 'odd "name"': 0.1 });
    expect(samples.at(-1)).toEqual({ name: "dcsim_up", labels: {}, value: 1 });
  });

  it("keeps a bounded history per series and ranks the busiest", () => {
    let history = {};
    for (let i = 0; i < HISTORY_LENGTH + 5; i++) history = record(history, { a: i, b: 1 });
    expect((history as Record<string, number[]>).a).toHaveLength(HISTORY_LENGTH);
    expect(top(history, 1).map(([name]) => name)).toEqual(["a"]);
    expect(record(history, { b: 2 })).toEqual({ b: [...(history as Record<string, number[]>).b!.slice(1), 2] });
  });

  it("charts cluster capacity, VM CPU and memory from /metrics", async () => {
    setToken("tok");
    // /metrics answers text, not JSON: the shared stub's table holds JSON bodies.
    const fetch = vi.fn(async () => new Response(exposition, { headers: { "content-type": "text/plain; version=1.0.0" } }));
    vi.stubGlobal("fetch", fetch);
    renderAs("viewer", <Observability />);
    expect(await screen.findByTestId("dcsim_vm_cpu_usage-instance-001")).toHaveTextContent("50.0%");
    expect(screen.getByTestId("dcsim_cluster_capacity_used-cluster-01")).toHaveTextContent("12.5%");
    expect(screen.getByTestId("dcsim_vm_memory_usage-vm-001")).toHaveTextContent("75.0%");
    expect(screen.getByRole("img", { name: /VM CPU/ })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("1 scrape(s)");
    expect(fetch).toHaveBeenCalledWith("/metrics", expect.objectContaining({ method: "GET" }));
  });
});
