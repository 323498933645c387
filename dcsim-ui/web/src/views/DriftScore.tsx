import type { components } from "../api/schema";

type Score = components["schemas"]["Score"];

const pct = (value: number) => `${Math.round(value * 1000) / 10}%`;
const seconds = (value: number | null | undefined) => (value === null || value === undefined ? "–" : `${value.toFixed(1)} s`);

/** The answer-key score: detections checked against every fault and out-of-band change dc-sim injected. */
export function DriftScore({ score }: { score: Score }) {
  return (
    <section aria-label="Answer-key score" className="tiles">
      <div className="tile">
        <h2>Recall</h2>
        <p className="big" data-testid="drift-recall">
          {pct(score.recall)}
        </p>
        <p className="muted">
          {score.detected} of {score.injected} injected changes detected
        </p>
      </div>
      <div className="tile">
        <h2>Precision</h2>
        <p className="big" data-testid="drift-precision">
          {pct(score.precision)}
        </p>
        <p className="muted">
          {score.true_positives} of {score.detections} detections were injected ({score.false_positives.length} false)
        </p>
      </div>
      <div className="tile">
        <h2>Time to detect</h2>
        <p className="big">{seconds(score.mean_time_to_detect)}</p>
        <p className="muted">mean; to remediate {seconds(score.mean_time_to_remediate)}</p>
      </div>
      {score.missed.length > 0 && (
        <div className="tile">
          <h2>Missed</h2>
          <ul>
            {score.missed.map((m) => (
              <li key={m.id}>
                {m.name}: {m.kind}
                {m.field ? ` (${m.field})` : ""}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
