import { useState } from "react";
import { buildUrl, request } from "../api/client";
import type { components } from "../api/schema";

export type Run = components["schemas"]["RunOut"];

/** Runs in these states are over: nothing cancels them. */
export const FINAL_RUN_STATES = ["completed", "failed", "cancelled"];
/** The reason core gives a CI the run skipped for want of an approved change. */
export const NO_CHANGE = "no approved change covers this CI now";

/** How many of a run's CIs were skipped because no approved change covered them. */
export function skippedForChange(run: Run): number {
  return run.cis.filter((ci) => ci.state === "skipped" && (ci.reason ?? "").includes("approved change")).length;
}

/** One run: its steps (the run's log), what it did to each CI and why, and cancel. */
export function PatchRunDetail({ run, canAct, onChanged }: { run: Run; canAct: boolean; onChanged: (run: Run) => void }) {
  const [error, setError] = useState<string | null>(null);
  const skipped = skippedForChange(run);

  async function cancel() {
    setError(null);
    try {
      const url = buildUrl("/patch/runs/{run_id}/cancel", { path: { run_id: run.id } });
      onChanged((await (await request("POST", url)).json()) as Run);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section className="detail" aria-label={`Patch run ${run.id}`}>
      <h3>
        Run of {run.policy}: <span data-testid="patch-run-state">{run.state}</span>
      </h3>
      {skipped > 0 && (
        <p role="status" data-testid="patch-needs-change">
          {skipped} of {run.cis.length} CIs were skipped: no approved change covers them now. A patch run needs an
          approved change (with a window open now) for each CI; raise one under Changes and have it approved.
        </p>
      )}
      {canAct && !FINAL_RUN_STATES.includes(run.state) && (
        <button type="button" onClick={cancel}>
          Cancel run
        </button>
      )}
      {error && <p role="alert">{error}</p>}
      <h4>Log</h4>
      <ol className="log" aria-label="Run log">
        {run.steps.map((step, i) => (
          <li key={i}>
            <code>{step.at}</code> {step.name}
            {step.note ? `: ${step.note}` : ""}
          </li>
        ))}
      </ol>
      <table>
        <caption>CIs of the run</caption>
        <thead>
          <tr>
            <th scope="col">CI</th>
            <th scope="col">State</th>
            <th scope="col">Change</th>
            <th scope="col">Ansible run</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {run.cis.map((ci) => (
            <tr key={ci.ci_id}>
              <td>{ci.ci_name}</td>
              <td>{ci.state}</td>
              <td>{ci.change ?? "–"}</td>
              <td>{ci.ansible_run ?? "–"}</td>
              <td>{ci.reason ?? (ci.incident ? `incident ${ci.incident}` : "–")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
