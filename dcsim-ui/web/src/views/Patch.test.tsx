import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setToken } from "../api/token";
import { stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { Patch } from "./Patch";

const rollUp = (total: number, compliant: number) => ({
  total, compliant, non_compliant: total - compliant, unknown: 0, compliance_pct: total ? (100 * compliant) / total : 0, pending_cves: 2,
});
const compliance = {
  summary: rollUp(9, 3),
  by_policy: { "policy-rhel9-baseline": rollUp(5, 1), "policy-ubuntu22-baseline": rollUp(4, 2) },
  by_env: {}, by_os: {}, cis: [],
};
const policy = (id: string, name: string) => ({
  id, name, os_type: "rhel9", schedule: null, target_ci_tags: {}, patch_level: "high", pre_patch_snapshot: true,
  reboot_required: false, max_parallel: 2, rollback_on_failure: true, playbook: null, enabled: true, next_run_at: null,
});
const run = {
  id: "run-1", policy: "policy-rhel9-baseline", state: "completed", requested_by: "api", created_at: "2026-11-30T10:00:00Z",
  finished_at: "2026-11-30T10:00:01Z", correlation_id: "patch:run-1", advisories: [], summary: {},
  steps: [{ name: "plan", at: "2026-11-30T10:00:00Z", note: "" }, { name: "validate", at: "2026-11-30T10:00:00Z", note: "2 CIs skipped" }],
  cis: ["vm-001", "vm-003"].map((name) => ({
    ci_id: `id-${name}`, ci_name: name, node: null, state: "skipped", change: null, snapshot: null, ansible_run: null,
    patched: {}, incident: null, reason: "no approved change covers this CI now",
  })),
};
const page = (items: unknown[]) => ({ body: { items, total: items.length, limit: 20, offset: 0 } });
const advisory = (id: string, cvss: number, affected: number) => ({
  id, title: `${id} fix`, cvss, severity: "high", type: "security", published: "2026-01-01", reboot_suggested: false,
  affected: [], feed: "bundled", affected_cis: Array.from({ length: affected }, (_, i) => `ci-${i}`),
});

function routes(runs: unknown[]) {
  return {
    "/patch/compliance": { body: compliance },
    "/patch/policies?limit=1000&offset=0": page([policy("policy-rhel9-baseline", "RHEL 9 baseline"), policy("policy-ubuntu22-baseline", "Ubuntu 22.04 baseline")]),
    "/patch/runs?limit=10&offset=0": page(runs),
    "/patch/advisories?limit=20&offset=0": page([advisory("CVE-2024-1", 9.8, 5), advisory("CVE-2024-2", 5.3, 1)]),
    "/itsm/changes?state=approved%2Cscheduled%2Cin_progress&limit=1&offset=0": { body: { items: [], total: 0, limit: 1, offset: 0 } },
  };
}

describe("Patch", () => {
  it("shows scorecards per policy and CVE exposure by CVSS", async () => {
    setToken("tok");
    stubFetch(routes([]));
    renderAs("operator", <Patch />);
    expect(await screen.findByTestId("compliance-estate")).toHaveTextContent("33%");
    expect(screen.getByRole("group", { name: "Scorecard policy-rhel9-baseline" })).toHaveTextContent("RHEL 9 baseline");
    expect(screen.getByTestId("compliance-policy-ubuntu22-baseline")).toHaveTextContent("50%");
    expect(await screen.findByTestId("exposed-CVE-2024-1")).toHaveTextContent("5");
    expect(screen.getByLabelText("CVSS of CVE-2024-1")).toHaveAttribute("value", "9.8");
  });

  it("starts a run and says when no approved change let it patch", async () => {
    setToken("tok");
    const calls = stubFetch({ ...routes([run]), "/patch/runs": { status: 202, body: run } });
    renderAs("operator", <Patch />);
    expect(await screen.findByText(/^0 approved change\(s\) can authorise work/)).toHaveAttribute("data-testid", "authorising-changes");
    await screen.findByRole("option", { name: "RHEL 9 baseline" });
    await userEvent.click(screen.getByRole("button", { name: "Start run" }));
    expect(JSON.parse(String(calls.find((c) => c.url === "/patch/runs")?.init?.body))).toEqual({ policy: "policy-rhel9-baseline" });
    expect(await screen.findByTestId("patch-needs-change")).toHaveTextContent("2 of 2 CIs were skipped: no approved change covers them now");
    const log = screen.getByRole("list", { name: "Run log" });
    expect(within(log).getByText(/validate: 2 CIs skipped/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Cancel run" })).not.toBeInTheDocument();
  });

  it("shows a viewer no trigger", async () => {
    setToken("tok");
    stubFetch(routes([run]));
    renderAs("viewer", <Patch />);
    await userEvent.click(await screen.findByRole("button", { name: /RHEL 9 baseline/ }));
    expect(await screen.findByTestId("patch-run-state")).toHaveTextContent("completed");
    expect(screen.queryByRole("button", { name: "Start run" })).not.toBeInTheDocument();
  });
});
