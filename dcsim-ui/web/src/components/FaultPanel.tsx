import { type FormEvent, useCallback, useEffect, useState } from "react";
import { apiGet, buildUrl, request } from "../api/client";
import type { components } from "../api/schema";
import { useCan } from "../session";

type Fault = components["schemas"]["Fault"];
type FaultKind = components["schemas"]["FaultKind"];

interface Loaded {
  fitting: FaultKind[];
  faults: Fault[];
}

/** The fault kinds that take `param`, and every active fault. */
async function loadFaults(param: string): Promise<Loaded> {
  const [kinds, faults] = await Promise.all([apiGet("/sim/inject/kinds"), apiGet("/sim/inject", { query: { limit: 1000 } })]);
  return { fitting: kinds.filter((k) => param in k.params), faults: faults.items };
}

/** The faults of one object: those active on it, and, for an operator, the fault kinds
 * that take it as a parameter (`param`, e.g. "vm", "host", "blade") to inject; an admin
 * may clear one (DELETE is the admin's). `onChanged` is called after an injection or a
 * clearing, so the object's own view can read its new state. */
export function FaultPanel({
  param,
  name,
  id,
  onChanged,
}: {
  param: string;
  name: string;
  id: string;
  onChanged?: () => void;
}) {
  const canInject = useCan("change");
  const canClear = useCan("delete");
  const [kinds, setKinds] = useState<FaultKind[]>([]);
  const [active, setActive] = useState<Fault[]>([]);
  const [kind, setKind] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const apply = useCallback(
    ({ fitting, faults }: Loaded) => {
      setKinds(fitting);
      setKind((current) => current || (fitting[0]?.name ?? ""));
      setActive(faults.filter((f) => f.targets.some((t) => t.id === id) || f.params[param] === name));
    },
    [param, name, id],
  );
  const reload = useCallback(async () => apply(await loadFaults(param)), [apply, param]);

  useEffect(() => {
    let cancelled = false;
    loadFaults(param).then(
      (loaded) => !cancelled && apply(loaded),
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [apply, param]);

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      onChanged?.();
      await reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  function inject(event: FormEvent) {
    event.preventDefault();
    const url = buildUrl("/sim/inject/{kind}", { path: { kind } });
    void act(() => request("POST", url, { [param]: name }));
  }

  const chosen = kinds.find((k) => k.name === kind);
  return (
    <section className="faults" aria-label={`Faults of ${name}`}>
      <h3>Faults</h3>
      {active.length === 0 ? (
        <p className="muted" data-testid="no-faults">No active fault.</p>
      ) : (
        <ul>
          {active.map((fault) => (
            <li key={fault.id} data-testid="active-fault">
              <span className="state failed">{fault.kind}</span> since {new Date(fault.injected_at).toLocaleTimeString()}
              {fault.effects?.length ? ` (${fault.effects.join(", ")})` : ""}{" "}
              {canClear && (
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => act(() => request("DELETE", buildUrl("/sim/inject/{fault_id}", { path: { fault_id: fault.id } })))}
                >
                  Clear {fault.kind}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canInject && kinds.length > 0 && (
        <form className="inject" onSubmit={inject}>
          <label htmlFor={`fault-kind-${id}`}>Fault to inject</label>
          <select id={`fault-kind-${id}`} value={kind} onChange={(e) => setKind(e.target.value)}>
            {kinds.map((k) => (
              <option key={k.name} value={k.name}>
                {k.name}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy || !kind}>
            Inject fault
          </button>
          {chosen && <p className="muted">{chosen.description}</p>}
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
