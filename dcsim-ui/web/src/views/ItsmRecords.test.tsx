import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setToken } from "../api/token";
import { FakeSocket } from "../test/fakeSocket";
import { problem, stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { ItsmRecords } from "./ItsmRecords";
import { allowedActions, changeCalendar, slaTimer, type Change, type Incident, type Workflows } from "./ItsmWorkflow";

const workflows: Workflows = {
  incident: {
    new: { start: "in_progress", hold: "on_hold", resolve: "resolved", cancel: "cancelled" },
    in_progress: { hold: "on_hold", resolve: "resolved", cancel: "cancelled" },
    resolved: { close: "closed", reopen: "in_progress" },
    closed: {},
    cancelled: {},
    on_hold: { resume: "in_progress", resolve: "resolved", cancel: "cancelled" },
  },
  problem: { investigating: { known_error: "known_error", resolve: "resolved" } },
  change: {
    draft: { submit: "pending_approval", cancel: "cancelled" },
    pending_approval: { approve: "approved", reject: "draft", cancel: "cancelled" },
  },
};

const sla = (over: Partial<Incident["sla"]> = {}) => ({
  priority: "P2",
  response_target_seconds: 1800,
  resolution_target_seconds: 28800,
  response_due: "2026-11-30T10:30:00Z",
  resolution_due: "2026-11-30T18:00:00Z",
  ...over,
});
const incident = (state: string, over: Partial<Incident> = {}): Incident => ({
  number: "INC0001001",
  title: "Disk full on db-01",
  state: state as Incident["state"],
  priority: "P2",
  impact: 2,
  urgency: 2,
  sla: sla(),
  created_at: "2026-11-30T10:00:00Z",
  created_by: "admin",
  updated_at: `2026-11-30T10:0${state.length % 10}:00Z`,
  ...over,
});
const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 25, offset: 0 } });

describe("ITSM workflow helpers", () => {
  it("offers exactly the table's actions for a state, none for a final one", () => {
    expect(allowedActions(workflows, "incident", "new")).toEqual(["start", "hold", "resolve", "cancel"]);
    expect(allowedActions(workflows, "incident", "closed")).toEqual([]);
    expect(allowedActions(workflows, "incident", "nonsense")).toEqual([]);
  });

  it("times the SLA: due, breached, met", () => {
    const now = new Date("2026-11-30T10:10:00Z");
    expect(slaTimer(incident("new"), now)).toMatchObject({ target: "response", breached: false, text: "response due in 20m" });
    expect(slaTimer(incident("new"), new Date("2026-11-30T11:30:00Z"))).toMatchObject({ breached: true, text: "response breached 1h 0m ago" });
    const responded = incident("in_progress", { sla: sla({ responded_at: "2026-11-30T10:05:00Z" }) });
    expect(slaTimer(responded, now).text).toBe("resolution due in 7h 50m");
    expect(slaTimer(incident("closed", { sla: sla({ breached: ["response"] }) }), now)).toMatchObject({ breached: true });
    expect(slaTimer(incident("closed"), now).text).toBe("met");
  });

  it("groups changes by the day their window opens", () => {
    const change = (number: string, start?: string) =>
      ({ number, title: number, state: "scheduled", window: start ? { start, end: start.replace("T0", "T1") } : null }) as Change;
    const days = changeCalendar([
      change("CHG2", "2026-12-02T03:00:00Z"),
      change("CHG1", "2026-12-01T05:00:00Z"),
      change("CHG3", "2026-12-01T02:00:00Z"),
      change("CHG4"),
    ]);
    expect(days.map((d) => [d.day, d.changes.map((c) => c.number)])).toEqual([
      ["2026-12-01", ["CHG3", "CHG1"]],
      ["2026-12-02", ["CHG2"]],
    ]);
  });
});

afterEach(() => vi.unstubAllGlobals());

describe("ItsmRecords", () => {
  it("keeps the list and the open record current over /ws: a burst of events is one re-read", async () => {
    setToken("tok");
    vi.stubGlobal("WebSocket", FakeSocket);
    const list = "/itsm/incidents?limit=25&offset=0";
    const routes = {
      "/itsm/workflows": { body: workflows },
      [list]: page([incident("new")]),
    };
    const calls = stubFetch(routes);
    renderAs("viewer", <ItsmRecords kind="incident" title="Incidents" />);
    await userEvent.click(await screen.findByRole("button", { name: "INC0001001" }));
    expect(await screen.findByTestId("record-state")).toHaveTextContent("new");
    expect(await screen.findByText("· live", { exact: false })).toBeInTheDocument();
    // Only this kind's events are asked for (core filters /ws by type glob).
    expect(FakeSocket.last?.url).toMatch(/\/ws\?token=tok&types=incident\.\*$/);

    // Elsewhere (another browser, the API, a trigger): one incident opened, the open one started.
    const created = incident("new", { number: "INC0001002", title: "Host down" });
    const started = incident("in_progress", { assignee: "bob" });
    Object.assign(routes, {
      [list]: { body: { items: [created, started], total: 2, limit: 25, offset: 0 } },
      "/itsm/incidents/INC0001001": { body: started },
    });
    act(() => {
      FakeSocket.last?.push("incident.created", { incident: created, actor: "token:other" });
      FakeSocket.last?.push("incident.updated", { incident: started, action: "start", actor: "token:other" });
    });
    expect(await screen.findByText("Incidents 1–2 of 2")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "INC0001002" })).toBeInTheDocument();
    expect(await screen.findByTestId("record-state")).toHaveTextContent("in_progress");
    expect(calls.filter((c) => c.url === list)).toHaveLength(2);
    expect(calls.filter((c) => c.url === "/itsm/incidents/INC0001001")).toHaveLength(1);
  });

  it("lists incidents with badges and moves one through the actions its state allows", async () => {
    setToken("tok");
    const calls = stubFetch({
      "/itsm/workflows": { body: workflows },
      "/itsm/incidents?limit=25&offset=0": page([incident("new")]),
      "/itsm/incidents/INC0001001/start": { body: incident("in_progress") },
      "/itsm/incidents/INC0001001/resolve": problem(409, "INC0001001 is in_progress: resolve is not allowed"),
    });
    renderAs("operator", <ItsmRecords kind="incident" title="Incidents" />);
    expect(await screen.findByText("Incidents 1–1 of 1")).toBeInTheDocument();
    expect(screen.getAllByTestId("state")[0]).toHaveTextContent("new");
    expect(screen.getByText("P2", { selector: ".badge" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "INC0001001" }));
    const group = await screen.findByRole("group", { name: "Actions allowed from new" });
    expect(within(group).getAllByRole("button").map((b) => b.textContent)).toEqual(["Start", "Hold", "Resolve", "Cancel"]);
    await userEvent.click(within(group).getByRole("button", { name: "Start" }));
    await userEvent.type(screen.getByLabelText("Assignee", { selector: "form[aria-label='Start INC0001001'] input" }), "alice");
    await userEvent.click(screen.getByRole("button", { name: "Start → in_progress" }));
    expect(await screen.findByTestId("record-state")).toHaveTextContent("in_progress");
    const post = calls.find((c) => c.url === "/itsm/incidents/INC0001001/start");
    expect(post?.init?.method).toBe("POST");
    expect(JSON.parse(String(post?.init?.body))).toEqual({ assignee: "alice" });
    // The new state's actions only: start is gone.
    const after = await screen.findByRole("group", { name: "Actions allowed from in_progress" });
    expect(within(after).getAllByRole("button").map((b) => b.textContent)).toEqual(["Hold", "Resolve", "Cancel"]);
    // A refusal is explained, not swallowed.
    await userEvent.click(within(after).getByRole("button", { name: "Resolve" }));
    await userEvent.type(screen.getByLabelText("Resolution notes (required)"), "freed space");
    await userEvent.click(screen.getByRole("button", { name: "Resolve → resolved" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("resolve is not allowed");
  });

  it("shows a viewer no create form and no action", async () => {
    setToken("tok");
    stubFetch({
      "/itsm/workflows": { body: workflows },
      "/itsm/incidents?limit=25&offset=0": page([incident("new")]),
    });
    renderAs("viewer", <ItsmRecords kind="incident" title="Incidents" />);
    await userEvent.click(await screen.findByRole("button", { name: "INC0001001" }));
    expect(await screen.findByTestId("record-state")).toHaveTextContent("new");
    expect(screen.queryByText("New incident")).not.toBeInTheDocument();
    expect(screen.queryByRole("group", { name: /Actions allowed/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save" })).not.toBeInTheDocument();
  });

  it("gives approve and reject to an admin only, and creates a change with a window", async () => {
    setToken("tok");
    const pending = {
      number: "CHG0001001", title: "Patch db", state: "pending_approval", type: "normal", risk: "moderate",
      window: { start: "2026-12-01T02:00:00Z", end: "2026-12-01T04:00:00Z" }, approvals: [],
      created_at: "2026-11-30T10:00:00Z", created_by: "admin", updated_at: "2026-11-30T10:00:00Z",
    };
    const calls = stubFetch({
      "/itsm/workflows": { body: workflows },
      "/itsm/changes?limit=25&offset=0": page([pending]),
      "/itsm/changes?state=pending_approval%2Capproved%2Cscheduled%2Cin_progress&limit=500&offset=0": page([pending]),
      "/itsm/changes": { status: 201, body: { ...pending, number: "CHG0001002", state: "draft" } },
    });
    const { unmount } = renderAs("operator", <ItsmRecords kind="change" title="Changes" />);
    await userEvent.click(await screen.findByRole("button", { name: "CHG0001001" }));
    expect(await screen.findByRole("group", { name: "Actions allowed from pending_approval" })).toHaveTextContent("Cancel");
    expect(screen.queryByRole("button", { name: "Approve" })).not.toBeInTheDocument();
    const calendar = screen.getByRole("region", { name: "Change calendar" });
    expect(within(calendar).getByText("2026-12-01")).toBeInTheDocument();
    expect(calendar).toHaveTextContent("CHG0001001");
    unmount();

    renderAs("admin", <ItsmRecords kind="change" title="Changes" />);
    await userEvent.click(await screen.findByRole("button", { name: "CHG0001001" }));
    const group = await screen.findByRole("group", { name: "Actions allowed from pending_approval" });
    expect(within(group).getAllByRole("button").map((b) => b.textContent)).toEqual(["Approve", "Reject", "Cancel"]);
    await userEvent.click(screen.getByText("New change"));
    const form = screen.getByRole("form", { name: "New change" });
    await userEvent.type(within(form).getByLabelText("Title (required)"), "Upgrade firmware");
    await userEvent.click(screen.getByRole("button", { name: "Create change" }));
    const create = calls.find((c) => c.url === "/itsm/changes" && c.init?.method === "POST");
    expect(JSON.parse(String(create?.init?.body))).toEqual({ title: "Upgrade firmware", type: "normal", risk: "moderate" });
  });
});
