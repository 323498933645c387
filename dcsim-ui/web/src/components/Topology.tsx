import { useEffect, useState } from "react";
import { COLUMN, ROW, layout } from "../topology/layout";
import { type NodeState, type TopoNode, loadTopology } from "../topology/loadTopology";

const LEGEND: [NodeState, string][] = [
  ["ok", "ok / on"],
  ["degraded", "degraded / suspended"],
  ["failed", "failed"],
  ["off", "off"],
  ["group", "grouped"],
];

/** The graph of `roots`, as SVG: one circle and label per node, coloured by state. */
export function TopologyGraph({ roots }: { roots: TopoNode[] }) {
  const { placed, rows, depth } = layout(roots);
  const width = (depth + 1) * COLUMN + 40;
  const height = Math.max(rows, 1) * ROW + 16;
  const nodes = placed.length;
  return (
    <figure className="topology">
      <svg
        width={width}
        height={height}
        viewBox={`-10 -12 ${width} ${height}`}
        role="img"
        aria-label={`Topology: ${roots.length} datacenters and domains, ${nodes} nodes drawn`}
      >
        {placed.map((p) =>
          p.parent ? (
            <path
              key={`edge:${p.node.id}`}
              className="edge"
              d={`M${p.parent.x + 6},${p.parent.y} C${p.parent.x + COLUMN / 2},${p.parent.y} ${p.x - COLUMN / 2},${p.y} ${p.x - 6},${p.y}`}
            />
          ) : null,
        )}
        {placed.map((p) => (
          <g
            key={p.node.id}
            className={`node ${p.node.kind} s-${p.node.state}`}
            transform={`translate(${p.x},${p.y})`}
            data-testid="topo-node"
            data-name={p.node.label}
            data-kind={p.node.kind}
            data-state={p.node.state}
          >
            <title>{`${p.node.kind} ${p.node.label}: ${p.node.state}`}</title>
            <circle r={p.node.kind === "group" ? 7 : 5} />
            <text x={10} y={4}>
              {p.node.label}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>
        <ul className="legend" aria-label="Colours">
          {LEGEND.map(([state, label]) => (
            <li key={state}>
              <svg width="12" height="12" aria-hidden="true">
                <g className={`node s-${state}`}>
                  <circle cx="6" cy="6" r="5" />
                </g>
              </svg>{" "}
              {label}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

/** The overview's topology, reloaded whenever `version` changes (a new event). */
export function Topology({ version }: { version: string | undefined }) {
  const [roots, setRoots] = useState<TopoNode[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    loadTopology().then(
      (answer) => {
        if (cancelled) return;
        setRoots(answer);
        setError(null);
      },
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [version]);
  return (
    <section className="topology-panel" aria-labelledby="topology-heading">
      <h2 id="topology-heading">Topology</h2>
      {error && <p role="alert">{error}</p>}
      {roots === null && !error ? <p role="status">Loading…</p> : roots && <TopologyGraph roots={roots} />}
    </section>
  );
}
