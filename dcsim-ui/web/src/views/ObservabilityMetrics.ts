// The Prometheus text exposition of `/metrics`, read in the browser: core has no JSON
// form of its series, and the text format is small and stable.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** Every sample of an exposition text (comments and blank lines skipped; `NaN`, `+Inf` kept as numbers). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) labels[key as string] = unescape(value as string);
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** One series' value per sample time, oldest first. */
export type History = Record<string, number[]>;

/** How many scrapes a chart remembers. */
export const HISTORY_LENGTH = 60;

/** The values of metric `name` keyed by `label`, e.g. CPU by VM. */
export function byLabel(samples: Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === name && s.labels[label] !== undefined) out[s.labels[label]] = s.value;
  return out;
}

/** Add a scrape's values to the history, dropping the oldest past HISTORY_LENGTH; a series
 * missing from the scrape (a VM gone) is dropped too. */
export function record(history: History, current: Record<string, number>): History {
  const next: History = {};
  for (const [key, value] of Object.entries(current)) {
    next[key] = [...(history[key] ?? []), value].slice(-HISTORY_LENGTH);
  }
  return next;
}

/** The `count` series with the highest latest values (a large estate charts its busiest). */
export function top(history: History, count: number): [string, number[]][] {
  return Object.entries(history)
    .sort(([a, x], [b, y]) => (y[y.length - 1] ?? 0) - (x[x.length - 1] ?? 0) || a.localeCompare(b))
    .slice(0, count);
}
