import { type FormEvent, useState } from "react";
import { buildUrl, request } from "../api/client";
import { COLLECTION, type ItsmRecord, type Kind, toUtc } from "./ItsmWorkflow";

type Values = Record<string, string>;

const list = (text: string | undefined) =>
  (text ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** The create body of each kind from the form (core fills the defaults it documents). */
export function createBody(kind: Kind, v: Values): Record<string, unknown> {
  const body: Record<string, unknown> = { title: v.title ?? "" };
  if (v.description) body.description = v.description;
  if (v.assignee) body.assignee = v.assignee;
  if (list(v.affected_cis).length) body.affected_cis = list(v.affected_cis);
  if (kind === "incident") {
    body.impact = Number(v.impact ?? 3);
    body.urgency = Number(v.urgency ?? 3);
  }
  if (kind === "problem" && list(v.incidents).length) body.incidents = list(v.incidents);
  if (kind === "change") {
    body.type = v.type ?? "normal";
    body.risk = v.risk ?? "moderate";
    if (v.rollback_plan) body.rollback_plan = v.rollback_plan;
    if (v.start && v.end) body.window = { start: toUtc(v.start), end: toUtc(v.end) };
  }
  return body;
}

function Field({ name, label, values, set, type = "text", required = false }: {
  name: string; label: string; values: Values; set: (v: Values) => void; type?: string; required?: boolean;
}) {
  return (
    <label>
      {label}
      {required ? " (required)" : ""}{" "}
      <input type={type} required={required} value={values[name] ?? ""} onChange={(e) => set({ ...values, [name]: e.target.value })} />
    </label>
  );
}

function Choice({ name, label, options, values, set }: {
  name: string; label: string; options: [string, string][]; values: Values; set: (v: Values) => void;
}) {
  return (
    <label>
      {label}{" "}
      <select value={values[name] ?? options[0]?.[0]} onChange={(e) => set({ ...values, [name]: e.target.value })}>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

const LEVELS: [string, string][] = [["3", "3 (low)"], ["2", "2 (medium)"], ["1", "1 (high)"]];

/** A form that opens a record of `kind` (`POST /itsm/<kind>s`). */
export function ItsmCreate({ kind, onCreated }: { kind: Kind; onCreated: (record: ItsmRecord) => void }) {
  const [values, setValues] = useState<Values>({});
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const answer = (await (await request("POST", COLLECTION[kind], createBody(kind, values))).json()) as ItsmRecord;
      setValues({});
      onCreated(answer);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const props = { values, set: setValues };
  return (
    <form className="filters" onSubmit={submit} aria-label={`New ${kind}`}>
      <Field name="title" label="Title" required {...props} />
      <Field name="description" label="Description" {...props} />
      <Field name="assignee" label="Assignee" {...props} />
      <Field name="affected_cis" label="Affected CI ids (comma-separated)" {...props} />
      {kind === "incident" && (
        <>
          <Choice name="impact" label="Impact" options={LEVELS} {...props} />
          <Choice name="urgency" label="Urgency" options={LEVELS} {...props} />
        </>
      )}
      {kind === "problem" && <Field name="incidents" label="Linked incidents (comma-separated)" {...props} />}
      {kind === "change" && (
        <>
          <Choice name="type" label="Type" options={[["normal", "normal"], ["standard", "standard (approved at once)"], ["emergency", "emergency"]]} {...props} />
          <Choice name="risk" label="Risk" options={[["moderate", "moderate"], ["low", "low"], ["high", "high"]]} {...props} />
          <Field name="rollback_plan" label="Rollback plan" {...props} />
          <Field name="start" label="Window starts" type="datetime-local" {...props} />
          <Field name="end" label="Window ends" type="datetime-local" {...props} />
        </>
      )}
      <button type="submit">Create {kind}</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}

/** Change a record's title, assignee and description (`PATCH` with only the fields that changed). */
export function ItsmEdit({ kind, record, onChanged }: { kind: Kind; record: ItsmRecord; onChanged: (r: ItsmRecord) => void }) {
  const [values, setValues] = useState<Values>({
    title: record.title,
    assignee: record.assignee ?? "",
    description: record.description ?? "",
  });
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const body: Record<string, unknown> = {};
    if (values.title !== record.title) body.title = values.title;
    if ((values.assignee ?? "") !== (record.assignee ?? "")) body.assignee = values.assignee ?? "";
    if ((values.description ?? "") !== (record.description ?? "")) body.description = values.description ?? "";
    try {
      const url = buildUrl(`${COLLECTION[kind]}/{number}`, { path: { number: record.number } });
      onChanged((await (await request("PATCH", url, body)).json()) as ItsmRecord);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const props = { values, set: setValues };
  return (
    <form className="filters" onSubmit={submit} aria-label={`Update ${record.number}`}>
      <Field name="title" label="Title" required {...props} />
      <Field name="assignee" label="Assignee" {...props} />
      <Field name="description" label="Description" {...props} />
      <button type="submit">Save</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
