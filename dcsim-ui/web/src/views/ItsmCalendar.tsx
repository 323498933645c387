import { useEffect, useState } from "react";
import { apiGet } from "../api/client";
import { type Change, changeCalendar } from "./ItsmWorkflow";
import { StateBadge } from "./ItsmBadges";

/** Changes still to happen or under way: the calendar shows their planned windows. */
export const PLANNED_STATES = "pending_approval,approved,scheduled,in_progress";
/** The calendar reads one page; past that it says how many it left out. */
export const CALENDAR_LIMIT = 500;

const time = (iso: string) => iso.slice(11, 16);

/** The change calendar: planned changes by the UTC day their window opens. */
export function ItsmCalendar({ reload }: { reload: number }) {
  const [changes, setChanges] = useState<Change[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    apiGet("/itsm/changes", { query: { state: PLANNED_STATES, limit: CALENDAR_LIMIT, offset: 0 } }).then(
      (page) => {
        if (cancelled) return;
        setChanges(page.items);
        setTotal(page.total);
      },
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [reload]);

  const days = changeCalendar(changes ?? []);
  const unplanned = (changes ?? []).filter((c) => !c.window).length;
  return (
    <section aria-label="Change calendar" className="detail">
      <h2>Change calendar</h2>
      {error && <p role="alert">{error}</p>}
      {changes !== null && days.length === 0 && <p className="muted">No planned change has a window.</p>}
      {days.map(({ day, changes: list }) => (
        <div key={day}>
          <h3>{day}</h3>
          <ul>
            {list.map((change) => (
              <li key={change.number}>
                {time(change.window?.start ?? "")}–{change.window?.end.slice(0, 10) === day ? "" : `${change.window?.end.slice(0, 10)} `}
                {time(change.window?.end ?? "")} UTC <strong>{change.number}</strong> {change.title}{" "}
                <StateBadge state={change.state} />
              </li>
            ))}
          </ul>
        </div>
      ))}
      {unplanned > 0 && <p className="muted">{unplanned} planned change(s) without a window yet.</p>}
      {total > CALENDAR_LIMIT && <p className="muted">Showing the newest {CALENDAR_LIMIT} of {total} planned changes.</p>}
    </section>
  );
}
