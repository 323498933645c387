// dcsim-ansible's /ansible API as the automation view reads it. dcsim-ansible is its own
// package and the UI's generated types describe core's document only (specs/016-ui.md),
// so these few fields are written down here, after dcsim_ansible.records; the view's
// e2e test against a real runner is what keeps them honest.
import { buildUrl, request } from "../api/client";

export type RunStatus = "queued" | "running" | "successful" | "failed" | "canceled" | "timeout";

/** Runs in these states are over: nothing cancels them. */
export const FINAL: RunStatus[] = ["successful", "failed", "canceled", "timeout"];

export interface HostStats {
  ok: number;
  changed: number;
  failures: number;
  unreachable: number;
  skipped: number;
}

export interface AnsibleRun {
  id: string;
  playbook: string;
  status: RunStatus;
  trigger: string;
  requested_by: string;
  limit: string | null;
  extra_vars: Record<string, unknown>;
  check: boolean;
  rc: number | null;
  reason: string | null;
  stats: Record<string, HostStats>;
  event_count: number;
  cancel_requested: boolean;
  created_at: string;
  finished_at: string | null;
}

export interface LogLine {
  run_id: string;
  seq: number;
  event: string;
  host: string | null;
  task: string | null;
  changed: boolean;
  stdout: string;
}

export interface Playbook {
  name: string;
  description: string;
  header_error: string | null;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** `POST /ansible/run`'s body. */
export interface RunRequest {
  playbook: string;
  limit?: string;
  extra_vars?: Record<string, unknown>;
  check: boolean;
}

/** GET an /ansible path (with the session's token) and return its JSON. */
export async function ansibleGet<T>(path: string, params?: { query?: unknown; path?: unknown }): Promise<T> {
  return (await (await request("GET", buildUrl(path, params))).json()) as T;
}

/** POST to an /ansible path and return its JSON. */
export async function ansiblePost<T>(path: string, params: { path?: unknown }, body?: unknown): Promise<T> {
  return (await (await request("POST", buildUrl(path, params), body)).json()) as T;
}

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
