import { useEffect, useState } from "react";
import { request } from "../api/client";
import { ObservabilityChart } from "./ObservabilityChart";
import { byLabel, type History, parseExposition, record } from "./ObservabilityMetrics";

/** How often `/metrics` is read while the view is open. */
export const SCRAPE_MS = 5000;

interface Histories {
  capacity: History;
  cpu: History;
  memory: History;
}

/** `/observability`: the simulation's series from `/metrics` (cluster capacity in use, VM
 * CPU and memory), read every few seconds and charted over the last scrapes. Links to
 * Prometheus and Grafana are not shown: core has no setting naming them (specs/016-ui.md). */
export function Observability() {
  const [histories, setHistories] = useState<Histories>({ capacity: {}, cpu: {}, memory: {} });
  const [scrapes, setScrapes] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    async function scrape() {
      try {
        const text = await (await request("GET", "/metrics")).text();
        if (cancelled) return;
        const samples = parseExposition(text);
        setHistories((h) => ({
          capacity: record(h.capacity, byLabel(samples, "dcsim_cluster_capacity_used", "cluster")),
          cpu: record(h.cpu, byLabel(samples, "dcsim_vm_cpu_usage", "vm")),
          memory: record(h.memory, byLabel(samples, "dcsim_vm_memory_usage", "vm")),
        }));
        setScrapes((n) => n + 1);
        setError(null);
      } catch (err) {
        if (!cancelled) setError(err instanceof Error ? err.message : String(err));
      }
    }
    void scrape();
    const timer = setInterval(() => void scrape(), SCRAPE_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, []);

  return (
    <>
      <h1>Metrics</h1>
      <p className="muted" role="status">
        {scrapes === 0 ? "Reading /metrics…" : `${scrapes} scrape(s) of /metrics, every ${SCRAPE_MS / 1000} s`}
      </p>
      {error && <p role="alert">{error}</p>}
      <div className="tiles">
        <ObservabilityChart title="Cluster capacity in use" metric="dcsim_cluster_capacity_used" unit="cluster" history={histories.capacity} />
        <ObservabilityChart title="VM CPU" metric="dcsim_vm_cpu_usage" unit="VM" history={histories.cpu} />
        <ObservabilityChart title="VM memory" metric="dcsim_vm_memory_usage" unit="VM" history={histories.memory} />
      </div>
    </>
  );
}
