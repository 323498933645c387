// The overview's health score (specs/016-ui.md has the same formula, in words).

/** What the score is computed from; a part is null when its API did not answer. */
export interface HealthInputs {
  hosts: { ok: number; degraded: number; failed: number } | null;
  incidents: { P1: number; P2: number; P3: number; P4: number } | null;
  patchCompliancePct: number | null;
  openDrift: number | null;
}

export interface HealthPart {
  name: string;
  weight: number;
  earned: number;
  rule: string;
}

export interface HealthScore {
  /** 0..100, or null when no part answered. */
  score: number | null;
  parts: HealthPart[];
}

/** Weights of the parts; they add up to 100. */
export const WEIGHTS = { hosts: 40, incidents: 30, patch: 15, drift: 15 } as const;

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

/** Score = 100 × (points earned) / (weights of the parts that answered), rounded. */
export function healthScore(inputs: HealthInputs): HealthScore {
  const parts: HealthPart[] = [];
  if (inputs.hosts) {
    const { ok, degraded, failed } = inputs.hosts;
    const total = ok + degraded + failed;
    const earned = total === 0 ? WEIGHTS.hosts : (WEIGHTS.hosts * (ok + 0.5 * degraded)) / total;
    parts.push({ name: "Hosts", weight: WEIGHTS.hosts, earned, rule: "40 × (ok + ½ degraded) / all hosts" });
  }
  if (inputs.incidents) {
    const { P1, P2, P3, P4 } = inputs.incidents;
    const penalty = 10 * P1 + 5 * P2 + 2 * P3 + 0.5 * P4;
    parts.push({
      name: "Open incidents",
      weight: WEIGHTS.incidents,
      earned: clamp(WEIGHTS.incidents - penalty, 0, WEIGHTS.incidents),
      rule: "30 − (10 per P1 + 5 per P2 + 2 per P3 + ½ per P4), at least 0",
    });
  }
  if (inputs.patchCompliancePct !== null) {
    parts.push({
      name: "Patch compliance",
      weight: WEIGHTS.patch,
      earned: (WEIGHTS.patch * clamp(inputs.patchCompliancePct, 0, 100)) / 100,
      rule: "15 × compliance % / 100",
    });
  }
  if (inputs.openDrift !== null) {
    parts.push({
      name: "Open drift",
      weight: WEIGHTS.drift,
      earned: clamp(WEIGHTS.drift - 1.5 * inputs.openDrift, 0, WEIGHTS.drift),
      rule: "15 − 1.5 per open drift event, at least 0",
    });
  }
  const weights = parts.reduce((sum, part) => sum + part.weight, 0);
  const earned = parts.reduce((sum, part) => sum + part.earned, 0);
  return { score: weights === 0 ? null : Math.round((100 * earned) / weights), parts };
}

/** The formula and this estate's numbers, as the text shown on hover. */
export function describeHealth(health: HealthScore): string {
  const lines = health.parts.map(
    (part) => `${part.name}: ${part.earned.toFixed(1)} of ${part.weight} (${part.rule})`,
  );
  lines.push("Score = 100 × points earned / weights of the parts that answered.");
  return lines.join("\n");
}
