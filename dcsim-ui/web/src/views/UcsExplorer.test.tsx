import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../api/token";
import { stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { UcsExplorer } from "./UcsExplorer";

const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 1000, offset: 0 } });
const blade = (power_state: string) => ({
  id: "b1", name: "c01s01", dn: "sys/chassis-1/blade-1", domain: "ucs-domain-01", chassis: "chassis-01", slot: 1,
  model: "UCSB-B200-M5", serial: "FCH1", cpu: 4, memory_mb: 16384, firmware: "4.2(3d)", power_state, status: "ok",
  service_profile: "SP-web-01", node: "sim-ucs-blade-c01s01",
});
const inventory = {
  "/ucs/api/v1/chassis": page([{ id: "ch1", name: "chassis-01", dn: "sys/chassis-1", domain: "ucs-domain-01", model: "UCSB-5108-AC2", blades: ["c01s01"] }]),
  "/ucs/api/v1/blades": page([blade("on")]),
  "/ucs/api/v1/service-profiles": page([
    { id: "p1", name: "SP-web-01", assoc_state: "associated", blade: "c01s01", template: "SP-Template-RHEL9" },
    { id: "p2", name: "SP-spare", assoc_state: "unassociated", blade: null, template: null },
  ]),
  "/sim/inject/kinds": { body: [{ name: "firmware-mismatch", description: "firmware", params: { blade: "", version: "" }, types: {} }] },
  "/sim/inject": page([]),
};

describe("UcsExplorer", () => {
  it("shows chassis > blades with their profiles, a blade's detail, and powers it down through its profile", async () => {
    setToken("op");
    const calls = stubFetch({
      ...inventory,
      "/ucs/api/v1/service-profiles/SP-web-01/power": { body: { name: "SP-web-01", power: "down" } },
      "/ucs/api/v1/blades/c01s01": { body: blade("off") },
    });
    renderAs("operator", <UcsExplorer />);
    expect(await screen.findByText("chassis-01")).toBeInTheDocument();
    expect(screen.getByText("SP-spare")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "c01s01" }));
    expect(screen.getByTestId("blade-power")).toHaveTextContent("on");
    expect(await screen.findByLabelText("Fault to inject")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Power down" }));
    expect(await screen.findByText("off", { selector: "[data-testid=blade-power]" })).toBeInTheDocument();
    const post = calls.find((c) => c.init?.method === "POST");
    expect(post?.url).toBe("/ucs/api/v1/service-profiles/SP-web-01/power");
    expect(JSON.parse(String(post?.init?.body))).toEqual({ state: "down" });
  });

  it("shows a viewer no power or fault controls, and says when dcsim-ucs is missing", async () => {
    setToken("viewer");
    stubFetch(inventory);
    const view = renderAs("viewer", <UcsExplorer />);
    await userEvent.click(await screen.findByRole("button", { name: "c01s01" }));
    expect(await screen.findByTestId("no-faults")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Power/ })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Fault to inject")).not.toBeInTheDocument();
    view.unmount();
    stubFetch({
      "/ucs/api/v1/chassis": { status: 404, body: {} },
      "/ucs/api/v1/blades": { status: 404, body: {} },
      "/ucs/api/v1/service-profiles": { status: 404, body: {} },
    });
    renderAs("viewer", <UcsExplorer />);
    expect(await screen.findByText(/dcsim-ucs is not installed/)).toHaveAttribute("role", "status");
  });
});
