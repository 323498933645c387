/** Width and height of a sparkline, in CSS pixels. */
export const SPARK_WIDTH = 160;
export const SPARK_HEIGHT = 36;

/** The polyline points of `values` scaled into the box, `low`..`high` bottom to top;
 * a single value is a flat line. */
export function sparkPoints(values: number[], low: number, high: number, width = SPARK_WIDTH, height = SPARK_HEIGHT): string {
  const span = high - low || 1;
  const y = (v: number) => (height - ((Math.min(high, Math.max(low, v)) - low) / span) * height).toFixed(1);
  if (values.length === 1) return `0,${y(values[0]!)} ${width},${y(values[0]!)}`;
  return values.map((v, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${y(v)}`).join(" ");
}

/** A small line chart of one series, oldest value first, with its latest value as text.
 * The SVG is an image named after the series, its span and the latest value, so a screen
 * reader hears what a sighted user reads off the line; the colours follow the theme. */
export function Sparkline({
  label,
  values,
  format,
  low = 0,
  high,
  span,
  testId,
}: {
  /** What the series is ("CPU", "Memory"). */
  label: string;
  values: number[];
  /** The latest value as text ("23.4%"). */
  format: (value: number) => string;
  /** The bottom and top of the scale; `high` defaults to the series' largest value. */
  low?: number;
  high?: number;
  /** How long the series covers, in words ("10 min"), for the accessible name. */
  span: string;
  /** The data-testid of the latest value's text. */
  testId?: string;
}) {
  const latest = values.at(-1);
  const top = high ?? Math.max(low + 1e-9, ...values);
  const name = latest === undefined ? `${label}: no data yet` : `${label} over the last ${span}, now ${format(latest)}`;
  return (
    <figure className="sparkline" style={{ margin: 0, display: "inline-grid", gap: "0.25rem" }}>
      <svg
        role="img"
        aria-label={name}
        viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`}
        width={SPARK_WIDTH}
        height={SPARK_HEIGHT}
        style={{ overflow: "visible" }}
      >
        <rect x={0} y={0} width={SPARK_WIDTH} height={SPARK_HEIGHT} fill="none" style={{ stroke: "var(--border)" }} />
        {values.length > 0 && (
          <polyline
            points={sparkPoints(values, low, top)}
            fill="none"
            strokeWidth={1.5}
            strokeLinejoin="round"
            style={{ stroke: "var(--accent)" }}
          />
        )}
      </svg>
      <figcaption>
        {label}{" "}
        <strong data-testid={testId}>{latest === undefined ? "–" : format(latest)}</strong>
      </figcaption>
    </figure>
  );
}
