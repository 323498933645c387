// The numbers behind the overview's tiles and health score, each from dc-sim's API.
import { ApiError, apiGet, apiGetShared } from "../api/client";
import type { HealthInputs } from "../health";

/** A tile's number, or why it has none. */
export type Answer<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface OverviewData {
  vms: Answer<{ total: number; on: number }>;
  hosts: Answer<{ total: number; ok: number; degraded: number; failed: number }>;
  incidents: Answer<{ P1: number; P2: number; P3: number; P4: number }>;
  patchCompliancePct: Answer<number>;
  openDrift: Answer<number>;
}

/** Incident states that count as open. */
export const OPEN_INCIDENT_STATES = "new,in_progress,on_hold";
/** Drift states that count as open: not resolved and not suppressed. */
export const OPEN_DRIFT_STATES = "open,acknowledged,remediating,escalated";

async function answer<T>(load: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, value: await load() };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return { ok: false, reason: "not available: its plugin is not installed or is off" };
    }
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

async function hostCounts(): Promise<{ total: number; ok: number; degraded: number; failed: number }> {
  const counts = { total: 0, ok: 0, degraded: 0, failed: 0 };
  // Pages of the largest size the API allows, until every host is counted.
  for (let offset = 0; ; offset += 1000) {
    // Shared with the topology, which asks for the same pages at the same time.
    const page = await apiGetShared("/sim/hosts", { query: { limit: 1000, offset } });
    counts.total = page.total;
    for (const host of page.items) counts[host.status] += 1;
    if (page.items.length === 0 || offset + page.items.length >= page.total) return counts;
  }
}

async function incidentCounts(): Promise<{ P1: number; P2: number; P3: number; P4: number }> {
  const priorities = ["P1", "P2", "P3", "P4"] as const;
  const totals = await Promise.all(
    priorities.map((priority) =>
      apiGet("/itsm/incidents", { query: { state: OPEN_INCIDENT_STATES, priority, limit: 1 } }).then((p) => p.total),
    ),
  );
  return { P1: totals[0] ?? 0, P2: totals[1] ?? 0, P3: totals[2] ?? 0, P4: totals[3] ?? 0 };
}

/** Every API the overview needs: one promise per tile, each settling on its own, so a slow
 * API delays its tile only. The cheap counts are asked in parallel at once; patch
 * compliance, the one heavy answer (the first ask of a large estate scans every CI in the
 * serving process), is asked once they have answered, so it never slows them. */
export function overviewParts(): { [K in keyof OverviewData]: Promise<OverviewData[K]> } {
  const vms = answer(async () => {
    const [all, on] = await Promise.all([
      apiGetShared("/sim/vms", { query: { limit: 1 } }),
      apiGet("/sim/vms", { query: { limit: 1, power_state: "on" } }),
    ]);
    return { total: all.total, on: on.total };
  });
  const hosts = answer(hostCounts);
  const incidents = answer(incidentCounts);
  const openDrift = answer(async () => (await apiGet("/drift/events", { query: { state: OPEN_DRIFT_STATES, limit: 1 } })).total);
  const patchCompliancePct = Promise.all([vms, hosts, incidents, openDrift]).then(() =>
    answer(async () => {
      // The roll-ups alone: the full report carries every CI's state (some 17 MB at 10k).
      const { summary } = await apiGet("/patch/compliance/summary");
      // 0 % of nothing is not a compliance figure: the part stays out of the score.
      if (summary.total === 0) throw new Error("no CI has been scanned yet");
      return summary.compliance_pct;
    }),
  );
  return { vms, hosts, incidents, patchCompliancePct, openDrift };
}

/** Every tile's answer; one failing does not hide the others. */
export async function loadOverview(): Promise<OverviewData> {
  const parts = overviewParts();
  const [vms, hosts, incidents, patchCompliancePct, openDrift] = await Promise.all([
    parts.vms,
    parts.hosts,
    parts.incidents,
    parts.patchCompliancePct,
    parts.openDrift,
  ]);
  return { vms, hosts, incidents, patchCompliancePct, openDrift };
}

/** The health score's inputs: the parts whose API answered. */
export function healthInputs(data: OverviewData): HealthInputs {
  return {
    hosts: data.hosts.ok ? data.hosts.value : null,
    incidents: data.incidents.ok ? data.incidents.value : null,
    patchCompliancePct: data.patchCompliancePct.ok ? data.patchCompliancePct.value : null,
    openDrift: data.openDrift.ok ? data.openDrift.value : null,
  };
}
