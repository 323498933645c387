import { useEffect, useRef, useState } from "react";
import { apiGet } from "../api/client";
import { useLiveEvents } from "../api/events";
import { useCan, useSession } from "../session";
import { ItsmActions } from "./ItsmActions";
import { PriorityBadge, StateBadge } from "./ItsmBadges";
import { ItsmCalendar } from "./ItsmCalendar";
import { ItsmCreate, ItsmEdit } from "./ItsmForms";
import {
  COLLECTION,
  type Change,
  type Incident,
  type ItsmRecord,
  type Kind,
  type Problem,
  type Workflows,
  slaTimer,
} from "./ItsmWorkflow";
import { Pager } from "../components/Pager";
import { StateFilter } from "../components/StateFilter";

/** Rows per page: the server pages. */
export const PAGE_SIZE = 25;
/** How often the SLA timers are recomputed. */
const TICK_MS = 30_000;
/** A burst of live events costs one re-read of the page, this long after the first. */
export const LIVE_RELOAD_MS = 300;

interface Page {
  items: ItsmRecord[];
  total: number;
  offset: number;
}

function useNow(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), TICK_MS);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function SlaCell({ incident, now }: { incident: Incident; now: Date }) {
  const timer = slaTimer(incident, now);
  return (
    <span className={timer.breached ? "state failed" : "state"} data-testid="sla">
      {timer.text}
    </span>
  );
}

function Detail({ kind, record, now }: { kind: Kind; record: ItsmRecord; now: Date }) {
  const incident = kind === "incident" ? (record as Incident) : null;
  const change = kind === "change" ? (record as Change) : null;
  const problem = kind === "problem" ? (record as Problem) : null;
  return (
    <dl>
      <dt>State</dt>
      <dd data-testid="record-state">{record.state}</dd>
      <dt>Assignee</dt>
      <dd>{record.assignee || "–"}</dd>
      <dt>Description</dt>
      <dd>{record.description || "–"}</dd>
      <dt>Affected CIs</dt>
      <dd>{(record.affected_cis ?? []).join(", ") || "–"}</dd>
      {incident && (
        <>
          <dt>Priority</dt>
          <dd>
            <PriorityBadge priority={incident.priority} /> (impact {incident.impact}, urgency {incident.urgency})
          </dd>
          <dt>SLA</dt>
          <dd>
            <SlaCell incident={incident} now={now} /> · response due {incident.sla.response_due}
            {incident.sla.resolution_due ? ` · resolution due ${incident.sla.resolution_due}` : ""}
          </dd>
          {incident.resolution_notes && (
            <>
              <dt>Resolution</dt>
              <dd>{incident.resolution_notes}</dd>
            </>
          )}
        </>
      )}
      {change && (
        <>
          <dt>Type and risk</dt>
          <dd>
            {change.type}, {change.risk} risk
          </dd>
          <dt>Window</dt>
          <dd>{change.window ? `${change.window.start} – ${change.window.end}` : "none yet"}</dd>
          <dt>Rollback plan</dt>
          <dd>{change.rollback_plan || "–"}</dd>
          <dt>Approvals</dt>
          <dd>
            {(change.approvals ?? []).length === 0
              ? "none"
              : (change.approvals ?? []).map((a) => `${a.decision} by ${a.approver} ${a.at}${a.comment ? `: ${a.comment}` : ""}`).join("; ")}
          </dd>
        </>
      )}
      {problem && (
        <>
          <dt>Linked incidents</dt>
          <dd>{(problem.incidents ?? []).join(", ") || "–"}</dd>
          <dt>Workaround</dt>
          <dd>{problem.workaround || "–"}</dd>
          <dt>Root cause</dt>
          <dd>{problem.root_cause || "–"}</dd>
        </>
      )}
      <dt>History</dt>
      <dd>
        <ol>
          {(record.history ?? []).map((h, i) => (
            <li key={i}>
              {h.at} {h.actor}: {h.action}
              {h.comment ? ` (${h.comment})` : ""}
            </li>
          ))}
        </ol>
      </dd>
    </dl>
  );
}

/** Keeps the list current over /ws (`<kind>.*` events: a record created, updated or moved
 * elsewhere): a burst of events re-reads the page once, and the open record is re-read when
 * an event names it. */
function useLive(
  kind: Kind,
  selected: ItsmRecord | null,
  setSelected: (record: ItsmRecord) => void,
  reloadPage: () => void,
) {
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (pending.current !== null) clearTimeout(pending.current);
    },
    [],
  );
  return useLiveEvents(`${kind}.*`, (event) => {
    if (pending.current === null) {
      pending.current = setTimeout(() => {
        pending.current = null;
        reloadPage();
      }, LIVE_RELOAD_MS);
    }
    const named = (event.data as Record<string, { number?: unknown } | undefined> | undefined)?.[kind]?.number;
    if (selected && typeof named === "string" && named === selected.number) {
      // The three record paths take the same parameter; the answer is typed per kind by the caller.
      apiGet(`${COLLECTION[kind]}/{number}` as "/itsm/incidents/{number}", { path: { number: named } }).then(
        (record) => setSelected(record as ItsmRecord),
        () => undefined,
      );
    }
  });
}

/** `/itsm/incidents`, `/itsm/changes`, `/itsm/problems`: a server-paged list with state (and
 * priority, SLA) badges; a record's detail with only the workflow actions its state allows
 * (core's `GET /itsm/workflows`), an update form and a create form; changes add approvals
 * and the calendar. Action buttons and forms only for a token whose role may change things
 * (a viewer sees none); approve and reject only for an admin, as core requires. */
export function ItsmRecords({ kind, title }: { kind: Kind; title: string }) {
  const canAct = useCan("change");
  const admin = useSession()?.role === "admin";
  const [workflows, setWorkflows] = useState<Workflows | null>(null);
  const [states, setStates] = useState("");
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page | null>(null);
  const [selected, setSelected] = useState<ItsmRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const now = useNow();
  const live = useLive(kind, selected, setSelected, () => setReload((n) => n + 1));

  useEffect(() => {
    apiGet("/itsm/workflows").then(setWorkflows, (err: Error) => setError(err.message));
  }, []);

  useEffect(() => {
    let cancelled = false;
    // The three collections take the same query; the answer is typed per kind by the caller.
    apiGet(COLLECTION[kind] as "/itsm/incidents", { query: { state: states || null, limit: PAGE_SIZE, offset } }).then(
      (answer) => {
        if (cancelled) return;
        setPage(answer as Page);
        setError(null);
      },
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [kind, states, offset, reload]);

  function changed(record: ItsmRecord) {
    setSelected(record);
    setReload((n) => n + 1);
  }

  const last = page ? Math.min(page.offset + page.items.length, page.total) : 0;
  const stateNames = workflows ? Object.keys(workflows[kind]) : [];
  return (
    <>
      <h1>{title}</h1>
      {error && <p role="alert">{error}</p>}
      {canAct && (
        <details className="detail">
          <summary>New {kind}</summary>
          <ItsmCreate kind={kind} onCreated={changed} />
        </details>
      )}
      <StateFilter
        label="State"
        value={states}
        options={[{ value: "", label: "all" }, ...stateNames.map((s) => ({ value: s, label: s.replace(/_/g, " ") }))]}
        onChange={(value) => {
          setOffset(0);
          setStates(value);
        }}
      />
      {page && (
        <>
          <table>
            <caption>
              {title} {page.total === 0 ? 0 : page.offset + 1}–{last} of {page.total}
              {live === "live" && <span className="muted"> · live</span>}
            </caption>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Title</th>
                <th scope="col">State</th>
                {kind === "incident" && <th scope="col">Priority</th>}
                {kind === "incident" && <th scope="col">SLA</th>}
                {kind === "change" && <th scope="col">Type</th>}
                {kind === "change" && <th scope="col">Window</th>}
                <th scope="col">Assignee</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((record) => (
                <tr key={record.number}>
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-pressed={selected?.number === record.number}
                      onClick={() => setSelected(record)}
                    >
                      {record.number}
                    </button>
                  </td>
                  <td>{record.title}</td>
                  <td>
                    <StateBadge state={record.state} />
                  </td>
                  {kind === "incident" && (
                    <td>
                      <PriorityBadge priority={(record as Incident).priority} />
                    </td>
                  )}
                  {kind === "incident" && (
                    <td>
                      <SlaCell incident={record as Incident} now={now} />
                    </td>
                  )}
                  {kind === "change" && <td>{(record as Change).type}</td>}
                  {kind === "change" && <td>{(record as Change).window?.start.slice(0, 16).replace("T", " ") ?? "–"}</td>}
                  <td>{record.assignee || "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} last={last} total={page.total} pageSize={PAGE_SIZE} onOffset={setOffset} />
        </>
      )}
      {selected && (
        <section className="detail" aria-label={`${selected.number} detail`}>
          <h2>
            {selected.number}: {selected.title}
          </h2>
          <Detail kind={kind} record={selected} now={now} />
          {canAct && workflows && (
            <>
              <ItsmActions key={`${selected.number}/${selected.state}`} kind={kind} record={selected} workflows={workflows} admin={admin} onChanged={changed} />
              <ItsmEdit key={`edit/${selected.number}/${selected.updated_at}`} kind={kind} record={selected} onChanged={changed} />
            </>
          )}
        </section>
      )}
      {kind === "change" && <ItsmCalendar reload={reload} />}
    </>
  );
}
