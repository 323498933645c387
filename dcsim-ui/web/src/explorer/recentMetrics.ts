// The recent simulated metrics of one VM or host (GET /sim/{vms,hosts}/{id}/metrics),
// read again when the next 15 s bucket starts, so a sparkline moves as /metrics does.
import { useEffect, useState } from "react";
import { apiGet } from "../api/client";
import type { components } from "../api/schema";

export type VmMetrics = components["schemas"]["VmMetrics"];
export type HostMetrics = components["schemas"]["HostMetrics"];

/** Buckets a sparkline shows: ten minutes of 15 s buckets. */
export const SPARK_BUCKETS = 40;
// Read a moment after the bucket's start, so the server is surely in it.
const AFTER_START_MS = 500;
// After a failed read, try again this much later.
const RETRY_MS = 15_000;

/** Milliseconds until the bucket after the last point's has started (at least 1 s, at
 * most one bucket, whatever the two clocks say). */
export function untilNextBucket(answer: { bucket_seconds: number; points: { at: string }[] }, now = Date.now()): number {
  const bucketMs = answer.bucket_seconds * 1000;
  const last = answer.points.at(-1);
  if (!last) return bucketMs;
  const next = Date.parse(last.at) + bucketMs + AFTER_START_MS;
  return Math.min(bucketMs, Math.max(1000, next - now));
}

function load(kind: "vm" | "host", id: string): Promise<VmMetrics | HostMetrics> {
  const query = { buckets: SPARK_BUCKETS };
  return kind === "vm"
    ? apiGet("/sim/vms/{vm}/metrics", { path: { vm: id }, query })
    : apiGet("/sim/hosts/{host}/metrics", { path: { host: id }, query });
}

/** The object's recent metrics and any error; `version` reloads at once (after a power
 * action or a fault changed what the figures derive from). */
export function useRecentMetrics(kind: "vm", id: string, version?: number): { metrics: VmMetrics | null; error: string | null };
export function useRecentMetrics(kind: "host", id: string, version?: number): { metrics: HostMetrics | null; error: string | null };
export function useRecentMetrics(kind: "vm" | "host", id: string, version = 0) {
  const [metrics, setMetrics] = useState<VmMetrics | HostMetrics | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function read() {
      try {
        const answer = await load(kind, id);
        if (cancelled) return;
        setMetrics(answer);
        setError(null);
        timer = setTimeout(() => void read(), untilNextBucket(answer));
      } catch (err) {
        if (cancelled) return;
        setError(err instanceof Error ? err.message : String(err));
        timer = setTimeout(() => void read(), RETRY_MS);
      }
    }
    void read();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [kind, id, version]);

  return { metrics, error };
}
