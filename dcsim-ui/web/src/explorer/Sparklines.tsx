import type { ReactNode } from "react";
import { Sparkline } from "../components/Sparkline";
import { SPARK_BUCKETS, useRecentMetrics } from "./recentMetrics";

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const celsius = (value: number) => `${value.toFixed(1)} °C`;

function span(bucketSeconds: number | undefined): string {
  const seconds = SPARK_BUCKETS * (bucketSeconds ?? 15);
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

function Frame({ title, error, children }: { title: string; error: string | null; children: ReactNode }) {
  return (
    <section className="metrics" aria-label={title}>
      <h3>Metrics</h3>
      <p className="muted">Simulated, one point per 15 s bucket (the figures of /metrics).</p>
      <div style={{ display: "flex", gap: "1.5rem", flexWrap: "wrap" }}>{children}</div>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}

/** A VM's CPU and memory over the last ten minutes; `version` reloads them at once. */
export function VmSparklines({ vm, name, version }: { vm: string; name: string; version?: number }) {
  const { metrics, error } = useRecentMetrics("vm", vm, version);
  const points = metrics?.points ?? [];
  const over = span(metrics?.bucket_seconds);
  return (
    <Frame title={`Metrics of ${name}`} error={error}>
      <Sparkline label="CPU" values={points.map((p) => p.cpu_usage)} high={1} format={percent} span={over} testId="spark-cpu" />
      <Sparkline label="Memory" values={points.map((p) => p.memory_usage)} high={1} format={percent} span={over} testId="spark-memory" />
    </Frame>
  );
}

/** A host's CPU and memory load and its temperature over the last ten minutes. A large
 * host's load is a few percent: its lines scale to their own peak, so they still move. */
export function HostSparklines({ host, name, version }: { host: string; name: string; version?: number }) {
  const { metrics, error } = useRecentMetrics("host", host, version);
  const points = metrics?.points ?? [];
  const over = span(metrics?.bucket_seconds);
  return (
    <Frame title={`Metrics of ${name}`} error={error}>
      <Sparkline label="CPU" values={points.map((p) => p.cpu_usage)} format={percent} span={over} testId="spark-cpu" />
      <Sparkline label="Memory" values={points.map((p) => p.memory_usage)} format={percent} span={over} testId="spark-memory" />
      <Sparkline
        label="Temperature"
        values={points.map((p) => p.temperature)}
        low={20}
        high={Math.max(85, ...points.map((p) => p.temperature))}
        format={celsius}
        span={over}
        testId="spark-temperature"
      />
    </Frame>
  );
}
