// dcsim-ansible's /ansible API as the automation view reads it: its types are the
// generated ones (dcsim-ansible's API follows SPEC-010 and is in the OpenAPI document the
// UI's types come from, specs/016-ui.md), named here for the view.
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type AnsibleRun = Schemas["Run"];
export type RunStatus = AnsibleRun["status"];
export type HostStats = Schemas["HostStats"];
/** One line of a run's log: `GET /ansible/runs/{run_id}/events` and `ansible.run.log`'s data. */
export type LogLine = Schemas["RunEvent"];
export type Playbook = Schemas["Playbook"];
/** `POST /ansible/run`'s body. */
export type RunRequest = Schemas["RunCreate"];

/** Runs in these states are over: nothing cancels them. */
export const FINAL: RunStatus[] = ["successful", "failed", "canceled", "timeout"];

/** Extra vars from the form: empty is none; otherwise a JSON object, or an error to show. */
export function parseExtraVars(text: string): Record<string, unknown> | string | undefined {
  if (!text.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Said below, with what is expected.
  }
  return 'Extra vars must be a JSON object, e.g. {"motd": "hello"}.';
}

/** Log lines in run order, each once (the page read and the live feed overlap). */
export function mergeLog(current: LogLine[], incoming: LogLine[]): LogLine[] {
  const bySeq = new Map<number, LogLine>();
  for (const line of [...current, ...incoming]) bySeq.set(line.seq, line);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
