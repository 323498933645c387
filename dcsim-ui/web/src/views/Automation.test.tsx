import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setToken } from "../api/token";
import { FakeSocket } from "../test/fakeSocket";
import { problem, stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { Automation } from "./Automation";
import { mergeLog, parseExtraVars } from "./AutomationApi";

const run = (status: string, over = {}) => ({
  id: "r1", playbook: "hello-world", status, trigger: "api", requested_by: "token:admin", limit: null, extra_vars: {},
  check: true, rc: null, reason: null, stats: {}, event_count: 0, cancel_requested: false,
  created_at: "2026-11-30T10:00:00Z", finished_at: null, ...over,
});
const line = (seq: number, stdout: string) => ({ run_id: "r1", seq, event: "runner_on_ok", host: "vm-001", task: "t", changed: false, stdout });
const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 20, offset: 0 } });
const playbooks = page([
  { name: "hello-world", description: "Say hello", header_error: null },
  { name: "patch-rhel", description: "Patch RHEL", header_error: null },
]);

afterEach(() => vi.unstubAllGlobals());

describe("Automation", () => {
  it("parses extra vars and merges log lines by sequence", () => {
    expect(parseExtraVars("")).toBeUndefined();
    expect(parseExtraVars('{"a": 1}')).toEqual({ a: 1 });
    expect(parseExtraVars("[1]")).toMatch(/JSON object/);
    expect(parseExtraVars("{oops")).toMatch(/JSON object/);
    expect(mergeLog([line(2, "b"), line(1, "a")], [line(2, "b"), line(3, "c")]).map((l) => l.seq)).toEqual([1, 2, 3]);
  });

  it("triggers a run, follows its log live over /ws, and cancels it", async () => {
    setToken("tok");
    vi.stubGlobal("WebSocket", FakeSocket);
    const calls = stubFetch({
      "/ansible/playbooks?limit=1000&offset=0": playbooks,
      "/ansible/runs?limit=20&offset=0": page([]),
      "/ansible/run": { status: 202, body: run("queued", { limit: "vmware", extra_vars: { motd: "hi" } }) },
      "/ansible/runs/r1/events?limit=1000&offset=0": { body: { items: [line(1, "PLAY [Hello]")], total: 1, limit: 1000, offset: 0 } },
      "/ansible/runs/r1/cancel": { status: 202, body: run("canceled") },
      "/ansible/runs/r1": { body: run("successful", { rc: 0 }) },
    });
    renderAs("operator", <Automation />);
    await screen.findByRole("option", { name: "patch-rhel" });
    await userEvent.type(screen.getByLabelText("Limit (host pattern)"), "vmware");
    await userEvent.type(screen.getByLabelText("Extra vars (JSON)"), '{{"motd": "hi"}');
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    const post = calls.find((c) => c.url === "/ansible/run");
    expect(JSON.parse(String(post?.init?.body))).toEqual({ playbook: "hello-world", check: true, diff: false, limit: "vmware", extra_vars: { motd: "hi" } });
    expect(await screen.findByTestId("ansible-run-status")).toHaveTextContent("queued");
    expect(await screen.findByText("PLAY [Hello]")).toBeInTheDocument();
    expect(FakeSocket.last?.url).toContain("&types=ansible.run.*");
    await act(async () => {
      FakeSocket.last?.push("ansible.run.log", line(2, "ok: [vm-001]"));
      FakeSocket.last?.push("ansible.run.log", { ...line(9, "another run"), run_id: "r2" });
    });
    expect(screen.getByTestId("ansible-log")).toHaveTextContent("PLAY [Hello] ok: [vm-001]");
    expect(screen.getByTestId("ansible-log")).not.toHaveTextContent("another run");
    await userEvent.click(screen.getByRole("button", { name: "Cancel run" }));
    expect(await screen.findByTestId("ansible-run-status")).toHaveTextContent("canceled");
    expect(screen.queryByRole("button", { name: "Cancel run" })).not.toBeInTheDocument();
  });

  it("refuses extra vars that are not a JSON object, and explains a refused run", async () => {
    setToken("tok");
    stubFetch({
      "/ansible/playbooks?limit=1000&offset=0": playbooks,
      "/ansible/runs?limit=20&offset=0": page([]),
      "/ansible/run": problem(403, "needs operator"),
    });
    renderAs("operator", <Automation />);
    await screen.findByRole("option", { name: "patch-rhel" });
    await userEvent.type(screen.getByLabelText("Extra vars (JSON)"), "nope");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("must be a JSON object");
    await userEvent.clear(screen.getByLabelText("Extra vars (JSON)"));
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("does not allow this (needs operator)");
  });

  it("shows a viewer the runs and no trigger or cancel", async () => {
    setToken("tok");
    stubFetch({
      "/ansible/playbooks?limit=1000&offset=0": playbooks,
      "/ansible/runs?limit=20&offset=0": page([run("running")]),
      "/ansible/runs/r1/events?limit=1000&offset=0": { body: { items: [], total: 0, limit: 1000, offset: 0 } },
    });
    renderAs("viewer", <Automation />);
    await userEvent.click(await screen.findByRole("button", { name: "hello-world" }));
    expect(await screen.findByTestId("ansible-run-status")).toHaveTextContent("running");
    expect(screen.queryByRole("form", { name: "Run a playbook" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Cancel run" })).not.toBeInTheDocument();
  });
});
