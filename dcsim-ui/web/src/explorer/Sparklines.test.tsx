import { act, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setToken } from "../api/token";
import { type Route, stubFetch } from "../test/fetchStub";
import { renderAs } from "../test/session";
import { untilNextBucket } from "./recentMetrics";
import { VmSparklines } from "./Sparklines";

const metrics = (cpu: number, at: string): Route => ({
  body: {
    id: "v1", name: "vm-001", bucket_seconds: 15,
    points: [{ at, cpu_usage: cpu, memory_usage: 0.5, disk_io: 0, net_io: 0 }],
  },
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("recent metrics", () => {
  it("reads again just after the next bucket starts, within one bucket whatever the clocks say", () => {
    const answer = { bucket_seconds: 15, points: [{ at: "2026-11-30T11:00:00Z" }] };
    const start = Date.parse("2026-11-30T11:00:00Z");
    expect(untilNextBucket(answer, start + 4_000)).toBe(11_500);
    expect(untilNextBucket(answer, start + 15_000)).toBe(1_000); // late: at least a second
    expect(untilNextBucket(answer, start - 3_600_000)).toBe(15_000); // a clock far behind: one bucket
    expect(untilNextBucket({ bucket_seconds: 15, points: [] })).toBe(15_000);
  });

  it("moves the sparkline when the next bucket's figures arrive", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    setToken("tok");
    const now = new Date();
    const routes: Record<string, Route> = { "/sim/vms/v1/metrics": metrics(0.25, now.toISOString()) };
    const calls = stubFetch(routes);
    renderAs("viewer", <VmSparklines vm="v1" name="vm-001" />);
    expect(await screen.findByRole("img", { name: "CPU over the last 10 min, now 25.0%" })).toBeInTheDocument();
    expect(calls.map((c) => c.url)).toEqual(["/sim/vms/v1/metrics?buckets=40"]);

    routes["/sim/vms/v1/metrics"] = metrics(0.75, new Date(now.getTime() + 15_000).toISOString());
    await act(() => vi.advanceTimersByTimeAsync(15_000));
    expect(await screen.findByRole("img", { name: "CPU over the last 10 min, now 75.0%" })).toBeInTheDocument();
    expect(screen.getByTestId("spark-cpu")).toHaveTextContent("75.0%");
    expect(calls).toHaveLength(2);
  });

  it("explains a refused read", async () => {
    setToken("tok");
    stubFetch({ "/sim/vms/v1/metrics": { status: 404, body: { status: 404, detail: "no vm 'v1'" } } });
    renderAs("viewer", <VmSparklines vm="v1" name="vm-001" />);
    expect(await screen.findByRole("alert")).toHaveTextContent(/Not found.*no vm 'v1'/);
    expect(screen.getByRole("img", { name: "CPU: no data yet" })).toBeInTheDocument();
  });
});
