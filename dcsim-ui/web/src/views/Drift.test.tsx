import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../api/token";
import { problem, stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { Drift, driftActions } from "./Drift";
import { heatmap } from "./DriftHeatmap";

const event = (id: string, ci_name: string, category: string, state = "open") => ({
  id, ci: `ci-${ci_name}`, ci_name, ci_type: "vm", object_id: `o-${ci_name}`, field: "power_state", category,
  severity: "high", policy: "default", desired: "on", actual: "off", diff: id === "e1" ? "-on\n+off" : null,
  node: null, state, detected_at: "2026-11-30T10:00:00Z", updated_at: "2026-11-30T10:00:00Z", resolved_at: null,
  occurrences: 1, correlation_id: "c", remediation_run: null, incident: null, notes: [],
});
const events = [event("e1", "vm-001", "State"), event("e2", "vm-001", "Configuration"), event("e3", "vm-002", "State", "acknowledged")];
const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 25, offset: 0 } });
const score = {
  injected: 4, detected: 3, detections: 3, true_positives: 3, false_positives: [], precision: 1, recall: 0.75,
  mean_time_to_detect: 0.42, mean_time_to_remediate: null, detection_times: [0.4],
  missed: [{ id: "t1", object_id: "o", name: "vm-003", kind: "file", field: "/etc/motd", source: "api", injected_at: "x", detail: {} }],
};

describe("Drift", () => {
  it("counts live drift per CI and category", () => {
    expect(heatmap(events as never)).toEqual([
      { ci: "vm-001", counts: { State: 1, Configuration: 1 }, total: 2 },
      { ci: "vm-002", counts: { State: 1 }, total: 1 },
    ]);
    expect(driftActions("open")).toEqual(["acknowledge", "suppress", "remediate"]);
    expect(driftActions("acknowledged")).toEqual(["suppress", "remediate"]);
    expect(driftActions("resolved")).toEqual([]);
  });

  it("shows desired against actual, the heatmap, the score, and acts on an event", async () => {
    setToken("tok");
    const calls = stubFetch({
      "/drift/events?state=open%2Cacknowledged%2Cremediating%2Cescalated&limit=25&offset=0": page(events),
      "/drift/events?state=open%2Cacknowledged%2Cremediating%2Cescalated&limit=1000&offset=0": page(events),
      "/drift/score": { body: score },
      "/drift/events/e1/acknowledge": { body: event("e1", "vm-001", "State", "acknowledged") },
      "/drift/events/e3/remediate": problem(409, "drift event e3 is resolved"),
    });
    renderAs("operator", <Drift />);
    expect(await screen.findByText("Drift events 1–3 of 3")).toBeInTheDocument();
    expect(screen.getByTestId("drift-recall")).toHaveTextContent("75%");
    expect(screen.getByText("vm-003: file (/etc/motd)")).toBeInTheDocument();
    expect(screen.getByTestId("heat-vm-001-State")).toHaveTextContent("1");
    expect(screen.getByTestId("heat-vm-002-Network")).toHaveTextContent("0");
    expect(screen.getByText((_, el) => el?.tagName === "PRE" && el.textContent === "-on\n+off")).toBeInTheDocument();
    const first = screen.getAllByRole("group", { name: "Actions on vm-001 power_state" })[0]!;
    await userEvent.click(within(first).getByRole("button", { name: "Acknowledge" }));
    expect(calls.some((c) => c.url === "/drift/events/e1/acknowledge" && c.init?.method === "POST")).toBe(true);
    const third = screen.getByRole("group", { name: "Actions on vm-002 power_state" });
    expect(within(third).queryByRole("button", { name: "Acknowledge" })).not.toBeInTheDocument();
    await userEvent.click(within(third).getByRole("button", { name: "Remediate" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("is resolved");
  });

  it("shows a viewer no action", async () => {
    setToken("tok");
    stubFetch({
      "/drift/events?state=open%2Cacknowledged%2Cremediating%2Cescalated&limit=25&offset=0": page(events),
      "/drift/events?state=open%2Cacknowledged%2Cremediating%2Cescalated&limit=1000&offset=0": page(events),
      "/drift/score": { body: score },
    });
    renderAs("viewer", <Drift />);
    expect(await screen.findByText("Drift events 1–3 of 3")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Acknowledge" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Remediate" })).not.toBeInTheDocument();
  });
});
