import { useEffect, useState } from "react";
import { apiGet, buildUrl, request } from "../api/client";
import type { components } from "../api/schema";
import { useCan } from "../session";
import { DriftHeatmap } from "./DriftHeatmap";
import { DriftScore } from "./DriftScore";
import { Pager } from "../components/Pager";
import { StateFilter } from "../components/StateFilter";

type DriftEvent = components["schemas"]["DriftEventOut"];
type EventPage = components["schemas"]["Page_dcsim.drift.schemas.DriftEventOut_"];
type Score = components["schemas"]["Score"];

/** Rows per page of the events table (the server pages). */
export const PAGE_SIZE = 25;
/** Drift that is still live (not resolved, not suppressed): what the heatmap counts. */
export const LIVE = "open,acknowledged,remediating,escalated";
/** The events filter's choices: live ones first (the default), then all, then each closed state. */
const EVENT_FILTERS = [
  { value: LIVE, label: "live" },
  { value: "", label: "all" },
  { value: "resolved", label: "resolved" },
  { value: "suppressed", label: "suppressed" },
];
/** The heatmap reads one page of live events; its caption says when there are more. */
export const HEATMAP_LIMIT = 1000;

type Action = "acknowledge" | "suppress" | "remediate";
/** The state each action leaves an event in: an event already there is not offered it again. */
const RESULT: Record<Action, string> = { acknowledge: "acknowledged", suppress: "suppressed", remediate: "remediating" };

/** A value as the API gave it: text as is, anything else as JSON. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return "–";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The actions an event's state allows: none once resolved (core answers 409). */
export function driftActions(state: string): Action[] {
  if (state === "resolved") return [];
  return (Object.keys(RESULT) as Action[]).filter((a) => RESULT[a] !== state);
}

function Row({ event, canAct, onChanged }: { event: DriftEvent; canAct: boolean; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  async function act(action: Action) {
    setError(null);
    try {
      await request("POST", buildUrl(`/drift/events/{event_id}/${action}`, { path: { event_id: event.id } }));
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }
  return (
    <tr>
      <td>{event.ci_name}</td>
      <td>{event.field}</td>
      <td>
        {event.category} / {event.severity}
      </td>
      <td data-testid="drift-state">{event.state}</td>
      <td>
        <code>{show(event.desired)}</code>
      </td>
      <td>
        <code>{show(event.actual)}</code>
      </td>
      <td>{event.diff ? <pre className="diff" style={{ whiteSpace: "pre-wrap", margin: 0 }}>{event.diff}</pre> : "–"}</td>
      <td>
        {canAct && (
          <div className="actions" role="group" aria-label={`Actions on ${event.ci_name} ${event.field}`}>
            {driftActions(event.state).map((action) => (
              <button key={action} type="button" onClick={() => act(action)}>
                {action[0]?.toUpperCase() + action.slice(1)}
              </button>
            ))}
          </div>
        )}
        {error && <p role="alert">{error}</p>}
      </td>
    </tr>
  );
}

/** `/drift`: desired against actual per event with its diff, a heatmap by CI and category,
 * acknowledge / suppress / remediate (for tokens that may change things), the answer-key score. */
export function Drift() {
  const canAct = useCan("change");
  const [states, setStates] = useState(LIVE);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<EventPage | null>(null);
  const [live, setLive] = useState<EventPage | null>(null);
  const [score, setScore] = useState<Score | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let cancelled = false;
    const fail = (err: Error) => !cancelled && setError(err.message);
    apiGet("/drift/events", { query: { state: states || null, limit: PAGE_SIZE, offset } }).then(
      (answer) => !cancelled && setPage(answer),
      fail,
    );
    apiGet("/drift/events", { query: { state: LIVE, limit: HEATMAP_LIMIT, offset: 0 } }).then(
      (answer) => !cancelled && setLive(answer),
      fail,
    );
    apiGet("/drift/score").then((answer) => !cancelled && setScore(answer), fail);
    return () => {
      cancelled = true;
    };
  }, [states, offset, reload]);

  const last = page ? Math.min(page.offset + page.items.length, page.total) : 0;
  return (
    <>
      <h1>Drift</h1>
      {error && <p role="alert">{error}</p>}
      {score && <DriftScore score={score} />}
      {live && <DriftHeatmap events={live.items} total={live.total} />}
      <StateFilter
        label="Events"
        value={states}
        options={EVENT_FILTERS}
        onChange={(value) => {
          setOffset(0);
          setStates(value);
        }}
      />
      {page && (
        <>
          <table>
            <caption>
              Drift events {page.total === 0 ? 0 : page.offset + 1}–{last} of {page.total}
            </caption>
            <thead>
              <tr>
                <th scope="col">CI</th>
                <th scope="col">Field</th>
                <th scope="col">Category / severity</th>
                <th scope="col">State</th>
                <th scope="col">Desired</th>
                <th scope="col">Actual</th>
                <th scope="col">Diff</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((event) => (
                <Row key={event.id} event={event} canAct={canAct} onChanged={() => setReload((n) => n + 1)} />
              ))}
            </tbody>
          </table>
          <Pager offset={offset} last={last} total={page.total} pageSize={PAGE_SIZE} onOffset={setOffset} />
        </>
      )}
    </>
  );
}
