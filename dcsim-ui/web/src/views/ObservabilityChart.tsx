import { top, type History } from "./ObservabilityMetrics";

/** Series drawn per chart: the busiest ones, so 10,000 VMs stay readable. */
export const SERIES_SHOWN = 8;
const COLOURS = ["#0a58ca", "#b3261e", "#1e7b34", "#8a5300", "#6f42c1", "#0f766e", "#be185d", "#4b5563"];
const WIDTH = 480;
const HEIGHT = 160;

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;

/** A line chart of fractions (0..1) over the last scrapes, with a table of the latest values. */
export function ObservabilityChart({ title, metric, history, unit }: { title: string; metric: string; history: History; unit: string }) {
  const series = top(history, SERIES_SHOWN);
  const total = Object.keys(history).length;
  const peak = Math.max(1, ...series.flatMap(([, values]) => values));
  const points = (values: number[]) =>
    values
      .map((v, i) => {
        const x = values.length === 1 ? WIDTH : (i / (values.length - 1)) * WIDTH;
        return `${x.toFixed(1)},${(HEIGHT - (v / peak) * HEIGHT).toFixed(1)}`;
      })
      .join(" ");
  const id = metric.replace(/\W/g, "-");
  return (
    <section className="detail" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <p className="muted">
        <code>{metric}</code> by {unit}
        {total > series.length ? `: the ${series.length} highest of ${total}` : ""}
      </p>
      {series.length === 0 ? (
        <p className="muted">No series yet.</p>
      ) : (
        <>
          <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" height={HEIGHT} role="img" aria-label={`${title}, the latest values are in the table below`}>
            <rect x={0} y={0} width={WIDTH} height={HEIGHT} fill="none" stroke="currentColor" strokeOpacity={0.2} />
            {series.map(([name, values], i) => (
              <polyline key={name} points={points(values)} fill="none" stroke={COLOURS[i % COLOURS.length]} strokeWidth={2} />
            ))}
          </svg>
          <table>
            <caption className="muted">Latest scrape (scale 0–{pct(peak)})</caption>
            <thead>
              <tr>
                <th scope="col">{unit}</th>
                <th scope="col">Now</th>
              </tr>
            </thead>
            <tbody>
              {series.map(([name, values], i) => (
                <tr key={name}>
                  <td>
                    <span aria-hidden="true" style={{ color: COLOURS[i % COLOURS.length] }}>
                      ■{" "}
                    </span>
                    {name}
                  </td>
                  <td data-testid={`${metric}-${name}`}>{pct(values[values.length - 1] ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
