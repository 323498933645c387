import { type FormEvent, useState } from "react";
import { buildUrl, request } from "../api/client";
import {
  ACTION_FIELDS,
  COLLECTION,
  type ItsmRecord,
  type Kind,
  type Workflows,
  actionBody,
  allowedActions,
  nextState,
} from "./ItsmWorkflow";

/** Change actions that are the change manager's (core refuses them to other roles). */
export const ADMIN_ACTIONS = ["approve", "reject"];

const label = (action: string) => action.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/** The workflow actions a record's state allows (and only those), each with the form its body needs. */
export function ItsmActions({
  kind,
  record,
  workflows,
  admin,
  onChanged,
}: {
  kind: Kind;
  record: ItsmRecord;
  workflows: Workflows;
  /** Approving and rejecting a change need an admin token: others do not see them. */
  admin: boolean;
  onChanged: (record: ItsmRecord) => void;
}) {
  const [action, setAction] = useState<string | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const allowed = allowedActions(workflows, kind, record.state).filter(
    (name) => admin || !(kind === "change" && ADMIN_ACTIONS.includes(name)),
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!action) return;
    setBusy(true);
    setError(null);
    try {
      const url = buildUrl(`${COLLECTION[kind]}/{number}/{action}`, { path: { number: record.number, action } });
      const answer = (await (await request("POST", url, actionBody(kind, action, values))).json()) as ItsmRecord;
      setAction(null);
      setValues({});
      onChanged(answer);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  if (allowed.length === 0) {
    const final = allowedActions(workflows, kind, record.state).length === 0;
    return <p className="muted">{final ? `${record.state} is final: no action moves it.` : "Only an admin may act on it now (approve or reject)."}</p>;
  }
  const fields = action ? (ACTION_FIELDS[kind][action] ?? []) : [];
  return (
    <section aria-label="Workflow actions">
      <div className="actions" role="group" aria-label={`Actions allowed from ${record.state}`}>
        {allowed.map((name) => (
          <button
            key={name}
            type="button"
            aria-pressed={action === name}
            title={`${record.state} → ${nextState(workflows, kind, record.state, name)}`}
            onClick={() => {
              setAction(name);
              setValues({});
              setError(null);
            }}
          >
            {label(name)}
          </button>
        ))}
      </div>
      {action && (
        <form onSubmit={submit} className="filters" aria-label={`${label(action)} ${record.number}`}>
          {fields.map((field) =>
            field.type === "window" ? (
              <fieldset key={field.name}>
                <legend>{field.label}</legend>
                {(["start", "end"] as const).map((end) => (
                  <label key={end}>
                    {end === "start" ? "Starts" : "Ends"}{" "}
                    <input
                      type="datetime-local"
                      value={values[`${field.name}.${end}`] ?? ""}
                      onChange={(e) => setValues({ ...values, [`${field.name}.${end}`]: e.target.value })}
                    />
                  </label>
                ))}
              </fieldset>
            ) : (
              <label key={field.name}>
                {field.label}
                {field.required ? " (required)" : ""}{" "}
                {field.type === "textarea" ? (
                  <textarea
                    required={field.required}
                    value={values[field.name] ?? ""}
                    onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                  />
                ) : (
                  <input
                    required={field.required}
                    value={values[field.name] ?? ""}
                    onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                  />
                )}
              </label>
            ),
          )}
          <button type="submit" disabled={busy}>
            {label(action)} → {nextState(workflows, kind, record.state, action)}
          </button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
