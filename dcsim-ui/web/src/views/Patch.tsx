import { type FormEvent, useEffect, useState } from "react";
import { apiGet, apiPost } from "../api/client";
import type { components } from "../api/schema";
import { useCan } from "../session";
import { PatchExposure } from "./PatchExposure";
import { PatchRunDetail, type Run } from "./PatchRuns";

type Compliance = components["schemas"]["ComplianceReport"];
type RollUp = components["schemas"]["RollUp"];
type Policy = components["schemas"]["patch_schemas_PolicyOut"];

/** Runs listed (newest first). */
export const RUNS_SHOWN = 10;
/** Changes that authorise work when their window is open (core's `approved_for`). */
export const AUTHORISING = "approved,scheduled,in_progress";

function Scorecard({ name, title, rollUp }: { name: string; title: string; rollUp: RollUp }) {
  return (
    <div className="tile" aria-label={`Scorecard ${name}`} role="group">
      <h3>{title}</h3>
      <p className="big" data-testid={`compliance-${name}`}>
        {rollUp.total === 0 ? "–" : `${Math.round(rollUp.compliance_pct)}%`}
      </p>
      <p className="muted">
        {rollUp.compliant} of {rollUp.total} CIs compliant · {rollUp.non_compliant} not · {rollUp.unknown} unknown ·{" "}
        {rollUp.pending_cves} pending CVEs
      </p>
    </div>
  );
}

/** `/patch`: compliance scorecards per policy, CVE exposure by CVSS, runs with their logs,
 * and a run trigger that says plainly when no approved change lets it patch anything. */
export function Patch() {
  const canAct = useCan("change");
  const [compliance, setCompliance] = useState<Compliance | null>(null);
  const [policies, setPolicies] = useState<Policy[]>([]);
  const [runs, setRuns] = useState<Run[] | null>(null);
  // undefined while asked, null when ITSM does not answer.
  const [authorising, setAuthorising] = useState<number | null | undefined>(undefined);
  const [selected, setSelected] = useState<Run | null>(null);
  const [policy, setPolicy] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let cancelled = false;
    const fail = (err: Error) => !cancelled && setError(err.message);
    apiGet("/patch/compliance").then((answer) => !cancelled && setCompliance(answer), fail);
    apiGet("/patch/policies", { query: { limit: 1000, offset: 0 } }).then((answer) => {
      if (cancelled) return;
      setPolicies(answer.items);
      setPolicy((current) => current || answer.items[0]?.id || "");
    }, fail);
    apiGet("/patch/runs", { query: { limit: RUNS_SHOWN, offset: 0 } }).then((answer) => {
      if (cancelled) return;
      setRuns(answer.items);
      // Follow the selected run as it moves through its steps.
      setSelected((current) => (current ? (answer.items.find((r) => r.id === current.id) ?? current) : current));
    }, fail);
    // The ITSM plugin may be off: then nothing can approve a change, and the count says so.
    apiGet("/itsm/changes", { query: { state: AUTHORISING, limit: 1, offset: 0 } }).then(
      (answer) => !cancelled && setAuthorising(answer.total),
      () => !cancelled && setAuthorising(null),
    );
    return () => {
      cancelled = true;
    };
  }, [reload]);

  // A run takes a moment: look again while the selected one is not over.
  useEffect(() => {
    if (!selected || ["completed", "failed", "cancelled"].includes(selected.state)) return;
    const timer = setTimeout(() => setReload((n) => n + 1), 1000);
    return () => clearTimeout(timer);
  }, [selected]);

  async function trigger(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const run = (await apiPost("/patch/runs", {}, { policy })) as Run;
      setSelected(run);
      setReload((n) => n + 1);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const names = Object.fromEntries(policies.map((p) => [p.id, p.name]));
  return (
    <>
      <h1>Patch</h1>
      {error && <p role="alert">{error}</p>}
      {compliance && (
        <section aria-label="Compliance scorecards">
          <h2>Compliance by policy</h2>
          <div className="tiles">
            <Scorecard name="estate" title="Whole estate" rollUp={compliance.summary} />
            {Object.entries(compliance.by_policy).map(([id, rollUp]) => (
              <Scorecard key={id} name={id} title={names[id] ?? id} rollUp={rollUp} />
            ))}
          </div>
        </section>
      )}
      <PatchExposure />
      <section aria-label="Patch runs">
        <h2>Runs</h2>
        {canAct && (
          <form className="filters" onSubmit={trigger} aria-label="Start a patch run">
            <label>
              Policy{" "}
              <select value={policy} onChange={(e) => setPolicy(e.target.value)}>
                {policies.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={!policy}>
              Start run
            </button>
            <p className="muted" data-testid="authorising-changes">
              {authorising === undefined
                ? ""
                : authorising === null
                ? "ITSM does not answer: nothing can approve a change, so a run will patch nothing."
                : `${authorising} approved change(s) can authorise work; a CI no open window covers is skipped.`}
            </p>
          </form>
        )}
        {runs !== null && runs.length === 0 && <p className="muted">No run yet.</p>}
        <ul>
          {(runs ?? []).map((run) => (
            <li key={run.id}>
              <button type="button" className="link" aria-pressed={selected?.id === run.id} onClick={() => setSelected(run)}>
                {run.created_at.slice(0, 19).replace("T", " ")} {names[run.policy] ?? run.policy}
              </button>{" "}
              <span className="state">{run.state}</span>
            </li>
          ))}
        </ul>
        {selected && <PatchRunDetail key={selected.id} run={selected} canAct={canAct} onChanged={setSelected} />}
      </section>
    </>
  );
}
