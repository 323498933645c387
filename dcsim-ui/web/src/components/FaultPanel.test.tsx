import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../api/token";
import { stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { FaultPanel } from "./FaultPanel";

const kinds = {
  body: [
    { name: "disk-full", description: "a datastore is full", params: { datastore: "", vm: "" }, types: {} },
    { name: "host-failure", description: "a host fails", params: { host: "", blade: "" }, types: {} },
  ],
};
const fault = {
  id: "f1", kind: "disk-full", params: { vm: "vm-001" }, injected_at: "2026-11-30T08:00:00Z",
  targets: [{ id: "vm-1-id", kind: "vm", name: "vm-001" }], effects: ["ds-01 full"],
};
const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 1000, offset: 0 } });

describe("FaultPanel", () => {
  it("lets an operator inject the kinds that take the object, and shows the active fault", async () => {
    setToken("op");
    let faults: unknown[] = [];
    const calls = stubFetch({
      "/sim/inject/kinds": kinds,
      get "/sim/inject"() {
        return page(faults);
      },
      "/sim/inject/disk-full": { status: 201, body: fault },
    });
    renderAs("operator", <FaultPanel param="vm" name="vm-001" id="vm-1-id" />);
    const select = await screen.findByLabelText("Fault to inject");
    expect([...(select as HTMLSelectElement).options].map((o) => o.value)).toEqual(["disk-full"]);
    expect(screen.getByTestId("no-faults")).toBeInTheDocument();
    faults = [fault];
    await userEvent.click(screen.getByRole("button", { name: "Inject fault" }));
    expect(await screen.findByTestId("active-fault")).toHaveTextContent("disk-full");
    const post = calls.find((c) => c.init?.method === "POST");
    expect(post?.url).toBe("/sim/inject/disk-full");
    expect(JSON.parse(String(post?.init?.body))).toEqual({ vm: "vm-001" });
    // Clearing is an admin's (DELETE).
    expect(screen.queryByRole("button", { name: /Clear/ })).not.toBeInTheDocument();
  });

  it("shows a viewer the active faults and no controls; an admin may clear", async () => {
    setToken("viewer");
    stubFetch({ "/sim/inject/kinds": kinds, "/sim/inject": page([fault]) });
    const view = renderAs("viewer", <FaultPanel param="vm" name="vm-001" id="vm-1-id" />);
    expect(await screen.findByTestId("active-fault")).toBeInTheDocument();
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
    view.unmount();
    renderAs("admin", <FaultPanel param="vm" name="vm-001" id="vm-1-id" />);
    expect(await screen.findByRole("button", { name: "Clear disk-full" })).toBeInTheDocument();
  });
});
