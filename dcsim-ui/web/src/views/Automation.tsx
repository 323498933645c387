import { type FormEvent, useEffect, useState } from "react";
import { useCan } from "../session";
import { apiGet, apiPost } from "../api/client";
import { type AnsibleRun, type Playbook, type RunRequest, parseExtraVars } from "./AutomationApi";
import { AutomationRun } from "./AutomationRun";
import { Pager } from "../components/Pager";

type RunPage = Awaited<ReturnType<typeof apiGet<"/ansible/runs">>>;

/** Runs per page (the server pages, newest first). */
export const PAGE_SIZE = 20;

function TriggerForm({ playbooks, onStarted }: { playbooks: Playbook[]; onStarted: (run: AnsibleRun) => void }) {
  const [playbook, setPlaybook] = useState("");
  const [limit, setLimit] = useState("");
  const [extraVars, setExtraVars] = useState("");
  const [check, setCheck] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const chosen = playbook || playbooks[0]?.name || "";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const vars = parseExtraVars(extraVars);
    if (typeof vars === "string") {
      setError(vars);
      return;
    }
    const body: RunRequest = { playbook: chosen, check, diff: false };
    if (limit.trim()) body.limit = limit.trim();
    if (vars) body.extra_vars = vars;
    try {
      onStarted(await apiPost("/ansible/run", {}, body));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const description = playbooks.find((p) => p.name === chosen)?.description;
  return (
    <form className="filters" onSubmit={submit} aria-label="Run a playbook">
      <label>
        Playbook{" "}
        <select value={chosen} onChange={(e) => setPlaybook(e.target.value)}>
          {playbooks.map((p) => (
            <option key={p.name} value={p.name} disabled={p.header_error !== null}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Limit (host pattern) <input value={limit} onChange={(e) => setLimit(e.target.value)} placeholder="all" />
      </label>
      <label>
        Extra vars (JSON) <textarea value={extraVars} onChange={(e) => setExtraVars(e.target.value)} rows={2} />
      </label>
      <label>
        <input type="checkbox" checked={check} onChange={(e) => setCheck(e.target.checked)} /> Check mode (change nothing)
      </label>
      <button type="submit" disabled={!chosen}>
        Run
      </button>
      {description && <p className="muted">{description}</p>}
      {error && <p role="alert">{error}</p>}
    </form>
  );
}

/** `/automation/ansible`: runs with their live logs, a trigger form (playbook, limit, extra
 * vars, check mode) and cancel, for tokens that may change things; a viewer only reads. */
export function Automation() {
  const canAct = useCan("change");
  const [playbooks, setPlaybooks] = useState<Playbook[]>([]);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<RunPage | null>(null);
  const [selected, setSelected] = useState<AnsibleRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    apiGet("/ansible/playbooks", { query: { limit: 1000, offset: 0 } }).then(
      (answer) => setPlaybooks(answer.items),
      (err: Error) => setError(err.message),
    );
  }, []);

  useEffect(() => {
    let cancelled = false;
    apiGet("/ansible/runs", { query: { limit: PAGE_SIZE, offset } }).then(
      (answer) => !cancelled && setPage(answer),
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [offset, reload]);

  function update(run: AnsibleRun) {
    setSelected(run);
    setReload((n) => n + 1);
  }

  const last = page ? Math.min(page.offset + page.items.length, page.total) : 0;
  return (
    <>
      <h1>Automation</h1>
      {error && <p role="alert">{error}</p>}
      {canAct && <TriggerForm playbooks={playbooks} onStarted={update} />}
      {page && (
        <>
          <table>
            <caption>
              Ansible runs {page.total === 0 ? 0 : page.offset + 1}–{last} of {page.total}
            </caption>
            <thead>
              <tr>
                <th scope="col">Playbook</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Requested</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((run) => (
                <tr key={run.id}>
                  <td>
                    <button type="button" className="link" aria-pressed={selected?.id === run.id} onClick={() => setSelected(run)}>
                      {run.playbook}
                    </button>
                  </td>
                  <td>{run.status}</td>
                  <td>{run.trigger}</td>
                  <td>{run.created_at.slice(0, 19).replace("T", " ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} last={last} total={page.total} pageSize={PAGE_SIZE} onOffset={setOffset} />
        </>
      )}
      {selected && <AutomationRun key={selected.id} run={selected} canAct={canAct} onRun={update} />}
    </>
  );
}
