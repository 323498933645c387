// What the ITSM views compute: the actions a record's workflow allows (from core's own
// transition tables, `GET /itsm/workflows`), the fields each action's body takes
// (SPEC-006), SLA timers and the change calendar.
import type { components } from "../api/schema";

export type Incident = components["schemas"]["Incident"];
export type Change = components["schemas"]["Change"];
export type Problem = components["schemas"]["Problem"];
export type ItsmRecord = Incident | Change | Problem;
export type Workflows = components["schemas"]["Workflows"];
export type Sla = components["schemas"]["Sla"];

export type Kind = "incident" | "change" | "problem";

/** The API collection of each kind. */
export const COLLECTION: Record<Kind, "/itsm/incidents" | "/itsm/changes" | "/itsm/problems"> = {
  incident: "/itsm/incidents",
  change: "/itsm/changes",
  problem: "/itsm/problems",
};

/** The actions the workflow table allows from `state`, in the table's order; none for a
 * final state or a state the table does not know. */
export function allowedActions(workflows: Workflows, kind: Kind, state: string | undefined): string[] {
  return Object.keys(workflows[kind][state ?? ""] ?? {});
}

/** The state an action leads to, as the table says. */
export function nextState(workflows: Workflows, kind: Kind, state: string | undefined, action: string): string | undefined {
  return workflows[kind][state ?? ""]?.[action];
}

export interface ActionField {
  name: string;
  label: string;
  required: boolean;
  /** A `window` field is two datetimes sent as `{start, end}`. */
  type: "text" | "textarea" | "window";
}

const reason: ActionField = { name: "reason", label: "Reason", required: true, type: "textarea" };

/** The body fields of each action (SPEC-006; core checks them strictly, unknown fields are refused). */
export const ACTION_FIELDS: Record<Kind, Record<string, ActionField[]>> = {
  incident: {
    start: [{ name: "assignee", label: "Assignee", required: false, type: "text" }],
    hold: [reason],
    resume: [],
    resolve: [
      { name: "resolution_notes", label: "Resolution notes", required: true, type: "textarea" },
      { name: "root_cause", label: "Root cause", required: false, type: "textarea" },
    ],
    close: [],
    reopen: [reason],
    cancel: [reason],
  },
  problem: {
    known_error: [
      { name: "workaround", label: "Workaround", required: true, type: "textarea" },
      { name: "root_cause", label: "Root cause", required: false, type: "textarea" },
    ],
    resolve: [
      { name: "root_cause", label: "Root cause", required: true, type: "textarea" },
      { name: "resolution_notes", label: "Resolution notes", required: false, type: "textarea" },
    ],
    reopen: [reason],
  },
  change: {
    submit: [],
    approve: [{ name: "comment", label: "Comment", required: false, type: "textarea" }],
    reject: [{ name: "comment", label: "Why (the requester revises the change)", required: true, type: "textarea" }],
    schedule: [{ name: "window", label: "Window (unless the change has one)", required: false, type: "window" }],
    start: [],
    complete: [{ name: "close_notes", label: "Closing notes", required: false, type: "textarea" }],
    fail: [reason],
    cancel: [reason],
  },
};

/** An action's body from the form's values: empty optional fields are left out. */
export function actionBody(kind: Kind, action: string, values: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of ACTION_FIELDS[kind][action] ?? []) {
    if (field.type === "window") {
      const start = values[`${field.name}.start`];
      const end = values[`${field.name}.end`];
      if (start && end) body[field.name] = { start: toUtc(start), end: toUtc(end) };
      continue;
    }
    const value = values[field.name]?.trim();
    if (value) body[field.name] = value;
  }
  return body;
}

/** A `datetime-local` value (the browser's zone) as an ISO instant. */
export function toUtc(local: string): string {
  return new Date(local).toISOString();
}

/** Whole minutes, hours and days: "2d 3h", "3h 20m", "5m". */
export function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${rest}m`;
  return `${rest}m`;
}

export interface SlaTimer {
  /** "response" until the incident is responded to, then "resolution"; null when nothing is due. */
  target: "response" | "resolution" | null;
  breached: boolean;
  text: string;
}

/** The incident's running SLA timer: what is due next and whether it is (or was) breached. */
export function slaTimer(incident: Incident, now: Date): SlaTimer {
  const sla = incident.sla;
  const breachedList = sla.breached ?? [];
  const over = (at: string) => new Date(at).getTime() - now.getTime();
  const final = ["resolved", "closed", "cancelled"].includes(incident.state ?? "");
  if (final) {
    return breachedList.length
      ? { target: null, breached: true, text: `breached (${breachedList.join(", ")})` }
      : { target: null, breached: false, text: "met" };
  }
  const paused = sla.paused_since ? " (paused)" : "";
  if (!sla.responded_at) {
    const left = over(sla.response_due);
    const breached = left < 0 || breachedList.includes("response");
    return {
      target: "response",
      breached,
      text: breached ? `response breached ${duration(-left)} ago` : `response due in ${duration(left)}${paused}`,
    };
  }
  if (sla.resolution_due) {
    const left = over(sla.resolution_due);
    const breached = left < 0 || breachedList.includes("resolution");
    return {
      target: "resolution",
      breached,
      text: breached
        ? `resolution breached ${duration(-left)} ago`
        : `resolution due in ${duration(left)}${paused}`,
    };
  }
  return { target: null, breached: breachedList.length > 0, text: paused ? `paused` : "–" };
}

export interface CalendarDay {
  /** YYYY-MM-DD (UTC). */
  day: string;
  changes: Change[];
}

/** Changes with a planned window, grouped by the UTC day each window starts, earliest first. */
export function changeCalendar(changes: Change[]): CalendarDay[] {
  const days = new Map<string, Change[]>();
  for (const change of changes) {
    if (!change.window) continue;
    const day = change.window.start.slice(0, 10);
    days.set(day, [...(days.get(day) ?? []), change]);
  }
  return [...days.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, list]) => ({
      day,
      changes: list.sort((a, b) => (a.window?.start ?? "").localeCompare(b.window?.start ?? "")),
    }));
}

/** Badge colours with white text at a contrast of at least 4.5:1 on either theme. */
export const STATE_COLOURS: Record<string, string> = {
  new: "#0a58ca",
  in_progress: "#6f42c1",
  on_hold: "#8a5300",
  resolved: "#1e7b34",
  closed: "#4b5563",
  cancelled: "#4b5563",
  investigating: "#0a58ca",
  known_error: "#8a5300",
  draft: "#4b5563",
  pending_approval: "#8a5300",
  approved: "#1e7b34",
  scheduled: "#0a58ca",
  completed: "#1e7b34",
  failed: "#b3261e",
};
