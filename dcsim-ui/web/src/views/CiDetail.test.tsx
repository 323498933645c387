import { render, screen, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { setToken } from "../api/token";
import { stubFetch } from "../test/fetchStub";
import { CiDetail } from "./CiDetail";

const ci = {
  id: "ci-1", type: "vm", name: "vm-001", status: "active", source: "sim", source_id: "vm-1",
  attributes: { cpu: 2, host: "esxi-01" }, tags: { env: "prod" },
};
const near = (id: string, name: string, relationship: string, depth = 1) => ({ id, name, type: "x", relationship, depth, via: "ci-1" });
const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 100, offset: 0 } });

describe("CiDetail", () => {
  it("shows a CI's fields, relationship graph, impact, history and linked tickets", async () => {
    setToken("tok");
    stubFetch({
      "/cmdb/cis/ci-1": { body: ci },
      "/cmdb/cis/ci-1/relationships": { body: [{ id: "r1", source_id: "app-1", target_id: "ci-1", type: "runs_on" }] },
      "/cmdb/cis/ci-1/impact?depth=1": { body: { ci, depth: 1, downstream: [near("app-1", "web", "runs_on")], upstream: [near("h1", "esxi-01", "runs_on")] } },
      "/cmdb/cis/ci-1/impact": {
        body: { ci, depth: 3, downstream: [near("app-1", "web", "runs_on")], upstream: [near("h1", "esxi-01", "runs_on"), near("c1", "cluster-01", "member_of", 2)] },
      },
      "/cmdb/cis/ci-1/history": { body: [{ id: "e1", action: "created", actor: "sync", at: "2026-11-30T08:00:00Z", ci_id: "ci-1" }] },
      "/itsm/incidents?ci=ci-1&limit=100": page([{ number: "INC0001001", title: "vm-001 slow", state: "new", priority: "P4" }]),
      "/itsm/problems?ci=ci-1&limit=100": page([]),
      "/itsm/changes?ci=ci-1&limit=100": page([{ number: "CHG0001001", title: "resize", state: "draft" }]),
    });
    render(
      <MemoryRouter initialEntries={["/cmdb/cis/ci-1"]}>
        <Routes>
          <Route path="/cmdb/cis/:id" element={<CiDetail />} />
        </Routes>
      </MemoryRouter>,
    );
    expect(await screen.findByRole("heading", { level: 1, name: "vm-001" })).toBeInTheDocument();
    expect(within(screen.getByLabelText("Fields")).getByText("esxi-01")).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "vm-001: 1 CIs depend on it, it depends on 1" })).toBeInTheDocument();
    expect(screen.getAllByTestId("relationship-node").map((n) => n.dataset.name)).toEqual(["web", "esxi-01"]);
    expect(within(screen.getByLabelText("It depends on (upstream)")).getByRole("link", { name: "cluster-01" })).toHaveAttribute(
      "href",
      "/cmdb/cis/c1",
    );
    expect(screen.getByTestId("tickets")).toHaveTextContent("Incident INC0001001: vm-001 slow");
    expect(screen.getByTestId("tickets")).toHaveTextContent("Change CHG0001001: resize");
    expect(screen.getByRole("table", { name: /Changes to vm-001/ })).toHaveTextContent("created");
  });

  it("explains a CI that does not exist", async () => {
    setToken("tok");
    stubFetch({ "/cmdb/cis/nope": { status: 404, body: { status: 404, detail: "no CI nope", title: "x", type: "x", code: "x" } } });
    render(
      <MemoryRouter initialEntries={["/cmdb/cis/nope"]}>
        <Routes>
          <Route path="/cmdb/cis/:id" element={<CiDetail />} />
        </Routes>
      </MemoryRouter>,
    );
    expect(await screen.findByRole("alert")).toHaveTextContent(/Not found.*no CI nope/);
  });
});
