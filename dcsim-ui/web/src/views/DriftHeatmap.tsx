import type { components } from "../api/schema";

type DriftEvent = components["schemas"]["DriftEventOut"];

/** The drift categories core knows, in its order (the heatmap's columns). */
export const CATEGORIES = ["Configuration", "Package", "Network", "State", "Security", "Firmware"] as const;

export interface HeatRow {
  ci: string;
  counts: Record<string, number>;
  total: number;
}

/** Live drift counted per CI and category; the CIs with the most drift first. */
export function heatmap(events: DriftEvent[]): HeatRow[] {
  const rows = new Map<string, HeatRow>();
  for (const event of events) {
    const row = rows.get(event.ci_name) ?? { ci: event.ci_name, counts: {}, total: 0 };
    row.counts[event.category] = (row.counts[event.category] ?? 0) + 1;
    row.total += 1;
    rows.set(event.ci_name, row);
  }
  return [...rows.values()].sort((a, b) => b.total - a.total || a.ci.localeCompare(b.ci));
}

/** Shade of a cell: none, light, medium, strong (the number is always written too). */
function shade(count: number, max: number): string {
  if (count === 0) return "transparent";
  const step = Math.ceil((3 * count) / Math.max(1, max));
  return ["", "rgba(179, 38, 30, 0.25)", "rgba(179, 38, 30, 0.5)", "rgba(179, 38, 30, 0.75)"][step] ?? "transparent";
}

/** A CI x category table of live drift counts, shaded by how much drift a cell holds. */
export function DriftHeatmap({ events, total }: { events: DriftEvent[]; total: number }) {
  const rows = heatmap(events);
  const max = Math.max(0, ...rows.flatMap((r) => Object.values(r.counts)));
  return (
    <section aria-label="Drift heatmap">
      <h2>Live events by CI and category</h2>
      {rows.length === 0 ? (
        <p className="muted">No live drift.</p>
      ) : (
        <table className="heatmap">
          <caption>
            {events.length < total ? `The ${events.length} newest of ${total} live events` : `${total} live events`}
          </caption>
          <thead>
            <tr>
              <th scope="col">CI</th>
              {CATEGORIES.map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.ci}>
                <th scope="row">{row.ci}</th>
                {CATEGORIES.map((c) => {
                  const count = row.counts[c] ?? 0;
                  return (
                    <td key={c} data-testid={`heat-${row.ci}-${c}`} style={{ background: shade(count, max), textAlign: "center" }}>
                      {count}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
