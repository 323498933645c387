import { useEffect, useState } from "react";
import type { BusEvent } from "../api/events";
import { socketUrl } from "../api/events";
import { getToken } from "../api/token";
import { apiGet, apiPost } from "../api/client";
import { type AnsibleRun, FINAL, type LogLine, mergeLog } from "./AutomationApi";

/** Log lines read from the API when a run is opened; later ones arrive over /ws. */
export const LOG_PAGE = 1000;

/** A run's log: the lines so far from the API, then each new one live over `/ws`
 * (`ansible.run.log`); `ansible.run.started` and `.completed` refresh the run itself. */
function useRunLog(run: AnsibleRun, onRun: (run: AnsibleRun) => void): { lines: LogLine[]; live: boolean } {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [live, setLive] = useState(false);
  useEffect(() => {
    let cancelled = false;
    apiGet("/ansible/runs/{run_id}/events", {
      path: { run_id: run.id },
      query: { limit: LOG_PAGE, offset: 0 },
    }).then(
      (page) => !cancelled && setLines((current) => mergeLog(current, page.items)),
      () => undefined,
    );
    const token = getToken();
    if (!token || typeof WebSocket === "undefined") {
      return () => {
        cancelled = true;
      };
    }
    const socket = new WebSocket(`${socketUrl(window.location, token)}&types=${encodeURIComponent("ansible.run.*")}`);
    socket.onopen = () => setLive(true);
    socket.onclose = () => setLive(false);
    socket.onmessage = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as BusEvent;
      const data = (event.data ?? {}) as Partial<LogLine>;
      if (data.run_id !== run.id) return;
      if (event.type === "ansible.run.log") {
        setLines((current) => mergeLog(current, [data as LogLine]));
      } else {
        apiGet("/ansible/runs/{run_id}", { path: { run_id: run.id } }).then(
          (fresh) => !cancelled && onRun(fresh),
          () => undefined,
        );
      }
    };
    return () => {
      cancelled = true;
      socket.close();
    };
    // The run's id picks the log; a refreshed run object is the same log.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run.id]);
  return { lines, live };
}

/** One run: status, per-host stats, the live log and cancel. */
export function AutomationRun({ run, canAct, onRun }: { run: AnsibleRun; canAct: boolean; onRun: (run: AnsibleRun) => void }) {
  const { lines, live } = useRunLog(run, onRun);
  const [error, setError] = useState<string | null>(null);

  async function cancel() {
    setError(null);
    try {
      onRun(await apiPost("/ansible/runs/{run_id}/cancel", { path: { run_id: run.id } }, undefined));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const output = lines
    .map((line) => line.stdout.replace(/\r/g, ""))
    .filter(Boolean)
    .join("\n");
  return (
    <section className="detail" aria-label={`Ansible run ${run.id}`}>
      <h2>
        {run.playbook} <span data-testid="ansible-run-status">{run.status}</span>
        {run.check ? " (check mode)" : ""}
      </h2>
      <p className="muted">
        {run.requested_by} · {run.trigger} · limit {run.limit ?? "all"} · rc {run.rc ?? "–"}
        {run.reason ? ` · ${run.reason}` : ""} · log <span className="feed-status">{live ? "live" : "closed"}</span>
      </p>
      {canAct && !FINAL.includes(run.status) && (
        <button type="button" onClick={cancel} disabled={run.cancel_requested}>
          {run.cancel_requested ? "Cancel requested" : "Cancel run"}
        </button>
      )}
      {error && <p role="alert">{error}</p>}
      {Object.keys(run.stats ?? {}).length > 0 && (
        <table>
          <caption>Per host</caption>
          <thead>
            <tr>
              {["Host", "ok", "changed", "failures", "unreachable", "skipped"].map((h) => (
                <th scope="col" key={h}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {Object.entries(run.stats ?? {}).map(([host, s]) => (
              <tr key={host}>
                <td>{host}</td>
                <td>{s.ok}</td>
                <td>{s.changed}</td>
                <td>{s.failures}</td>
                <td>{s.unreachable}</td>
                <td>{s.skipped}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <pre
        className="log"
        role="log"
        data-testid="ansible-log"
        aria-label="Run log"
        tabIndex={0}
        style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere", maxHeight: "32rem", overflow: "auto" }}
      >
        {output || "(no output yet)"}
      </pre>
    </section>
  );
}
