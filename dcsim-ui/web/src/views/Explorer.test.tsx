import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../api/token";
import { problem, stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { Explorer } from "./Explorer";

const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 1000, offset: 0 } });
const vm = (power_state: string) => ({
  id: "vm-1-id", name: "vm-001", cpu: 2, memory_mb: 4096, host_id: "h1", platform: "vmware", power_state,
  tags: { env: "prod" }, node: { name: "sim-vmw-vm-001", guest_os: "rhel9" },
});
const sizes = { cpu_cores: 32, memory_mb: 262144, power_state: "on", blade_id: null, booted_at: "2026-11-30T08:00:00Z" };
const at = (i: number) => new Date(Date.UTC(2026, 10, 30, 11, 0, 15 * i)).toISOString();
/** GET /sim/vms/{vm}/metrics's answer: CPU as given, memory 50%. */
const vmMetrics = (cpu: number[]) => ({
  body: {
    id: "vm-1-id", name: "vm-001", bucket_seconds: 15,
    points: cpu.map((c, i) => ({ at: at(i), cpu_usage: c, memory_usage: 0.5, disk_io: 1, net_io: 1 })),
  },
});
const hostMetrics = (temperature: number) => ({
  body: {
    id: "h1", name: "esxi-01", bucket_seconds: 15,
    points: [0, 1].map((i) => ({ at: at(i), power: 1, temperature, cpu_usage: 0.125, memory_usage: 0.4 })),
  },
});
const tree = {
  "/sim/datacenters": page([
    { id: "dc1", name: "dc-01", platform: "vmware" },
    { id: "dc2", name: "RegionOne", platform: "openstack" },
  ]),
  "/sim/clusters": page([
    { id: "c1", name: "cluster-01", platform: "vmware", datacenter_id: "dc1" },
    { id: "c2", name: "nova", platform: "openstack", datacenter_id: "dc2" },
  ]),
  "/sim/hosts": page([
    { id: "h1", name: "esxi-01", cluster_id: "c1", status: "ok", vm_count: 1, ...sizes },
    { id: "h2", name: "compute-01", cluster_id: "c2", status: "ok", vm_count: 0, ...sizes },
  ]),
  "/sim/vms?host=h1&limit=1000&offset=0": page([vm("on")]),
  "/sim/inject/kinds": { body: [] },
  "/sim/inject": page([]),
  "/sim/vms/vm-1-id/metrics": vmMetrics([0.1, 0.2, 0.25]),
  "/sim/hosts/h1/metrics": hostMetrics(45.5),
};

describe("Explorer", () => {
  it("shows the platform's tree, a VM's detail, and powers it off through the API", async () => {
    setToken("tok");
    const calls = stubFetch({
      ...tree,
      "/sim/vms/vm-1-id/power": { body: { status: "ok" } },
      "/sim/vms/vm-1-id": { body: vm("off") },
    });
    renderAs("operator", <Explorer platform="vmware" title="VMware" />);
    expect(await screen.findByText("cluster-01")).toBeInTheDocument();
    expect(screen.queryByText("nova")).not.toBeInTheDocument();
    await userEvent.click(screen.getByText("esxi-01"));
    await userEvent.click(await screen.findByRole("button", { name: "vm-001" }));
    expect(screen.getByTestId("vm-power")).toHaveTextContent("on");
    expect(screen.getByText("sim-vmw-vm-001")).toBeInTheDocument();
    expect(await screen.findByRole("img", { name: "CPU over the last 10 min, now 25.0%" })).toBeInTheDocument();
    expect(screen.getByTestId("spark-memory")).toHaveTextContent("50.0%");
    await userEvent.click(screen.getByRole("button", { name: "Stop" }));
    expect(await screen.findByText("off", { selector: "[data-testid=vm-power]" })).toBeInTheDocument();
    const post = calls.find((c) => c.init?.method === "POST");
    expect(post?.url).toBe("/sim/vms/vm-1-id/power");
    expect(JSON.parse(String(post?.init?.body))).toEqual({ action: "off" });
  });

  it("shows a viewer the VM's detail without power actions", async () => {
    setToken("viewer");
    stubFetch(tree);
    renderAs("viewer", <Explorer platform="vmware" title="VMware" />);
    await userEvent.click(await screen.findByText("esxi-01"));
    await userEvent.click(await screen.findByRole("button", { name: "vm-001" }));
    expect(screen.getByTestId("vm-power")).toHaveTextContent("on");
    expect(screen.queryByRole("group", { name: "Power actions" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Start" })).not.toBeInTheDocument();
  });

  it("explains a power action the API refuses", async () => {
    setToken("operator");
    stubFetch({ ...tree, "/sim/vms/vm-1-id/power": problem(403, "this action needs the operator role; the token has viewer") });
    renderAs("operator", <Explorer platform="vmware" title="VMware" />);
    await userEvent.click(await screen.findByText("esxi-01"));
    await userEvent.click(await screen.findByRole("button", { name: "vm-001" }));
    await userEvent.click(screen.getByRole("button", { name: "Start" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/role does not allow this.*operator role/);
  });

  it("shows a host's detail: sizes, state, cluster, sparklines, its VMs paged, and its faults", async () => {
    setToken("op");
    const vms = Array.from({ length: 25 }, (_, i) => ({ ...vm("on"), id: `v${i}`, name: `vm-${String(i).padStart(3, "0")}` }));
    const pageOf = (offset: number) => ({ body: { items: vms.slice(offset, offset + 10), total: 25, limit: 10, offset } });
    let status = "ok";
    const calls = stubFetch({
      ...tree,
      "/sim/vms?host=h1&limit=1000&offset=0": page(vms),
      "/sim/vms?host=h1&limit=10&offset=0": pageOf(0),
      "/sim/vms?host=h1&limit=10&offset=10": pageOf(10),
      "/sim/inject/kinds": { body: [{ name: "host-failure", description: "a host fails", params: { host: "" }, types: {} }] },
      "/sim/inject/host-failure": { status: 201, body: {} },
      get "/sim/hosts/h1"() {
        return { body: { id: "h1", name: "esxi-01", cluster_id: "c1", ...sizes, status, vms: [] } };
      },
    });
    renderAs("operator", <Explorer platform="vmware" title="VMware" />);
    await userEvent.click(await screen.findByText("esxi-01"));
    await userEvent.click(await screen.findByRole("button", { name: "esxi-01: host detail" }));
    const panel = screen.getByRole("region", { name: "Host esxi-01" });
    expect(within(panel).getByText("32 cores")).toBeInTheDocument();
    expect(within(panel).getByText("262144 MB")).toBeInTheDocument();
    expect(within(panel).getByText("cluster-01")).toBeInTheDocument();
    expect(within(panel).getByTestId("host-status")).toHaveTextContent("ok");
    expect(await within(panel).findByRole("img", { name: "Temperature over the last 10 min, now 45.5 °C" })).toBeInTheDocument();
    expect(within(panel).getByTestId("spark-cpu")).toHaveTextContent("12.5%");
    expect(within(panel).getByTestId("spark-memory")).toHaveTextContent("40.0%");

    const list = screen.getByRole("region", { name: "VMs on esxi-01" });
    expect(await within(list).findByTestId("host-vms-range")).toHaveTextContent("1–10 of 25");
    await userEvent.click(within(list).getByRole("button", { name: "Next" }));
    expect(await within(list).findByText("11–20 of 25")).toBeInTheDocument();
    expect(within(list).getByRole("button", { name: "vm-010" })).toBeInTheDocument();

    // A fault changes the host: its state and figures are read again.
    const before = calls.filter((c) => c.url.startsWith("/sim/hosts/h1/metrics")).length;
    status = "failed";
    await userEvent.click(within(panel).getByRole("button", { name: "Inject fault" }));
    expect(await within(panel).findByText("failed", { selector: "[data-testid=host-status]" })).toBeInTheDocument();
    expect(calls.filter((c) => c.url.startsWith("/sim/hosts/h1/metrics")).length).toBeGreaterThan(before);
    expect(calls.find((c) => c.init?.method === "POST")?.init?.body).toBe(JSON.stringify({ host: "esxi-01" }));

    // A VM of the list opens its own detail.
    await userEvent.click(within(list).getByRole("button", { name: "vm-012" }));
    expect(screen.getByRole("region", { name: "VM vm-012" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Host esxi-01" })).not.toBeInTheDocument();
  });

  it("shows a viewer a host's detail without fault injection", async () => {
    setToken("viewer");
    stubFetch({ ...tree, "/sim/inject/kinds": { body: [{ name: "host-failure", description: "", params: { host: "" }, types: {} }] } });
    renderAs("viewer", <Explorer platform="vmware" title="VMware" />);
    await userEvent.click(await screen.findByText("esxi-01"));
    await userEvent.click(await screen.findByRole("button", { name: "esxi-01: host detail" }));
    expect(await screen.findByTestId("spark-temperature")).toHaveTextContent("45.5 °C");
    expect(await screen.findByTestId("no-faults")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Inject fault" })).not.toBeInTheDocument();
  });
});
