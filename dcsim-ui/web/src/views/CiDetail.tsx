import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { apiGet } from "../api/client";
import type { components } from "../api/schema";

type Ci = components["schemas"]["Ci"];
type Impacted = components["schemas"]["cmdb_schemas_ImpactedCi"];
type Impact = components["schemas"]["ImpactAnswer"];
type Relationship = components["schemas"]["Relationship"];

interface Ticket {
  kind: "Incident" | "Problem" | "Change";
  number: string;
  title: string;
  state: string;
}

interface CiData {
  ci: Ci;
  relationships: Relationship[];
  neighbours: Impact;
  impact: Impact;
  history: components["schemas"]["cmdb_model_HistoryEntry"][];
  tickets: Ticket[];
}

/** Everything the CI detail shows, from the CMDB and ITSM APIs. */
export async function loadCi(id: string): Promise<CiData> {
  const path = { ci_id: id };
  // The CI first: a missing one is explained as such, not as its history's 404.
  const ci = await apiGet("/cmdb/cis/{ci_id}", { path });
  const [relationships, neighbours, impact, history, incidents, problems, changes] = await Promise.all([
    apiGet("/cmdb/cis/{ci_id}/relationships", { path }),
    apiGet("/cmdb/cis/{ci_id}/impact", { path, query: { depth: 1 } }),
    apiGet("/cmdb/cis/{ci_id}/impact", { path }),
    apiGet("/cmdb/cis/{ci_id}/history", { path }),
    apiGet("/itsm/incidents", { query: { ci: id, limit: 100 } }),
    apiGet("/itsm/problems", { query: { ci: id, limit: 100 } }),
    apiGet("/itsm/changes", { query: { ci: id, limit: 100 } }),
  ]);
  const tickets: Ticket[] = [
    ...incidents.items.map((t) => ({ kind: "Incident" as const, number: t.number ?? "", title: t.title, state: String(t.state ?? "") })),
    ...problems.items.map((t) => ({ kind: "Problem" as const, number: t.number ?? "", title: t.title, state: String(t.state ?? "") })),
    ...changes.items.map((t) => ({ kind: "Change" as const, number: t.number ?? "", title: t.title, state: String(t.state ?? "") })),
  ];
  return { ci, relationships, neighbours, impact, history, tickets };
}

const ROW = 26;

/** The CI in the middle, what depends on it on the left, what it depends on on the right. */
function RelationshipGraph({ ci, neighbours }: { ci: Ci; neighbours: Impact }) {
  const left = neighbours.downstream;
  const right = neighbours.upstream;
  const rows = Math.max(left.length, right.length, 1);
  const height = rows * ROW + 10;
  const middle = (height - 10) / 2;
  const side = (items: Impacted[], x: number, anchor: "start" | "end") =>
    items.map((item, i) => {
      const y = i * ROW + ROW / 2 + (rows - items.length) * (ROW / 2);
      return (
        <g key={`${x}:${item.id}`} data-testid="relationship-node" data-name={item.name}>
          <path className="edge" d={`M${x + (anchor === "end" ? 6 : -6)},${y} L${anchor === "end" ? 294 : 406},${middle}`} />
          <a href={`/cmdb/cis/${encodeURIComponent(item.id)}`}>
            <circle cx={x} cy={y} r={5} className="rel" />
            <text x={anchor === "end" ? x - 10 : x + 10} y={y + 4} textAnchor={anchor}>
              {item.name} ({item.relationship})
            </text>
          </a>
        </g>
      );
    });
  return (
    <svg
      className="relationships"
      width={700}
      height={height}
      role="group"
      aria-label={`${ci.name}: ${left.length} CIs depend on it, it depends on ${right.length}`}
    >
      {side(left, 220, "end")}
      {side(right, 480, "start")}
      <circle cx={350} cy={middle} r={8} className="self" />
      <text x={350} y={middle - 12} textAnchor="middle">
        {ci.name}
      </text>
    </svg>
  );
}

function ImpactList({ title, items }: { title: string; items: Impacted[] }) {
  return (
    <section aria-label={title}>
      <h3>{title}</h3>
      {items.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul>
          {items.map((item) => (
            <li key={`${item.id}:${item.via}`}>
              <Link to={`/cmdb/cis/${encodeURIComponent(item.id)}`}>{item.name}</Link> {item.type}, {item.relationship}, {item.depth}{" "}
              {item.depth === 1 ? "hop" : "hops"}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** `/cmdb/cis/:id`: a CI's fields, relationship graph, impact, history and linked tickets. */
export function CiDetail() {
  const { id = "" } = useParams();
  const [data, setData] = useState<CiData | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    loadCi(id).then(
      (answer) => !cancelled && setData(answer),
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [id]);

  if (error) {
    return (
      <>
        <h1>Configuration item</h1>
        <p role="alert">{error}</p>
      </>
    );
  }
  if (!data) {
    return (
      <>
        <h1>Configuration item</h1>
        <p role="status">Loading…</p>
      </>
    );
  }
  const { ci } = data;
  const fields: [string, unknown][] = [
    ["Type", ci.type],
    ["Status", ci.status],
    ["Source", `${ci.source ?? ""} ${ci.source_id ?? ""}`.trim()],
    ...Object.entries(ci.attributes ?? {}),
    ["Tags", Object.entries(ci.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")],
  ];
  return (
    <>
      <h1>{ci.name}</h1>
      <p>
        <Link to="/cmdb/cis">Back to the CMDB</Link>
      </p>
      <div className="ci-detail">
        <section className="detail" aria-label="Fields">
          <h2>Fields</h2>
          <dl>
            {fields.map(([name, value]) => (
              <div key={name} className="field">
                <dt>{name}</dt>
                <dd>{typeof value === "object" ? JSON.stringify(value) : String(value ?? "–")}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section aria-labelledby="rel-heading">
          <h2 id="rel-heading">Relationships ({data.relationships.length})</h2>
          <RelationshipGraph ci={ci} neighbours={data.neighbours} />
        </section>
        <section aria-labelledby="impact-heading">
          <h2 id="impact-heading">Impact (up to {data.impact.depth} hops)</h2>
          <ImpactList title="Depend on it (downstream)" items={data.impact.downstream} />
          <ImpactList title="It depends on (upstream)" items={data.impact.upstream} />
        </section>
        <section aria-labelledby="tickets-heading">
          <h2 id="tickets-heading">Linked tickets</h2>
          {data.tickets.length === 0 ? (
            <p className="muted">No incident, problem or change names this CI.</p>
          ) : (
            <ul data-testid="tickets">
              {data.tickets.map((t) => (
                <li key={t.number}>
                  {t.kind} {t.number}: {t.title} <span className="state">{t.state}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="history-heading">
          <h2 id="history-heading">History</h2>
          <table>
            <caption>Changes to {ci.name}, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {data.history.map((entry) => (
                <tr key={entry.id}>
                  <td>{entry.at ? new Date(entry.at).toLocaleString() : "–"}</td>
                  <td>{entry.action}</td>
                  <td>{entry.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </>
  );
}
