import { describe, expect, it } from "vitest";
import { describeHealth, healthScore } from "./health";

const healthy = {
  hosts: { ok: 4, degraded: 0, failed: 0 },
  incidents: { P1: 0, P2: 0, P3: 0, P4: 0 },
  patchCompliancePct: 100,
  openDrift: 0,
};

describe("healthScore", () => {
  it("is 100 for a healthy estate", () => {
    expect(healthScore(healthy).score).toBe(100);
  });

  it("takes host health, incidents, patch and drift into account", () => {
    const score = healthScore({
      hosts: { ok: 2, degraded: 1, failed: 1 }, // 40 × 2.5 / 4 = 25
      incidents: { P1: 1, P2: 1, P3: 0, P4: 2 }, // 30 − 16 = 14
      patchCompliancePct: 60, // 9
      openDrift: 4, // 15 − 6 = 9
    });
    expect(score.score).toBe(57);
    expect(score.parts.map((p) => p.earned)).toEqual([25, 14, 9, 9]);
  });

  it("never takes a part below zero", () => {
    const score = healthScore({ ...healthy, incidents: { P1: 9, P2: 0, P3: 0, P4: 0 }, openDrift: 100 });
    // 40 + 0 + 15 + 0
    expect(score.score).toBe(55);
  });

  it("scores only the parts that answered", () => {
    const score = healthScore({ ...healthy, hosts: { ok: 1, degraded: 0, failed: 1 }, patchCompliancePct: null, openDrift: null });
    // (20 + 30) of 70
    expect(score.score).toBe(71);
    expect(score.parts.map((p) => p.name)).toEqual(["Hosts", "Open incidents"]);
    expect(healthScore({ hosts: null, incidents: null, patchCompliancePct: null, openDrift: null }).score).toBeNull();
  });

  it("explains itself", () => {
    const text = describeHealth(healthScore(healthy));
    expect(text).toContain("40 × (ok + ½ degraded) / all hosts");
    expect(text).toContain("Score = 100 × points earned / weights of the parts that answered.");
  });
});
