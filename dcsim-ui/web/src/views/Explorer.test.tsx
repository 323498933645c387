import { screen } from "@testing-library/react";
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
    { id: "h1", name: "esxi-01", cluster_id: "c1", status: "ok", vm_count: 1 },
    { id: "h2", name: "compute-01", cluster_id: "c2", status: "ok", vm_count: 0 },
  ]),
  "/sim/vms?host=h1&limit=1000&offset=0": page([vm("on")]),
  "/sim/inject/kinds": { body: [] },
  "/sim/inject": page([]),
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
});
