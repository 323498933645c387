import { STATE_COLOURS } from "./ItsmWorkflow";

/** A record's state as a coloured badge (the text says it; the colour only helps). */
export function StateBadge({ state }: { state: string | undefined }) {
  const value = state ?? "unknown";
  return (
    <span className="badge" data-testid="state" style={{ background: STATE_COLOURS[value] ?? "#4b5563" }}>
      {value.replace(/_/g, " ")}
    </span>
  );
}

/** An incident's priority, P1..P4, in the overview's colours. */
export function PriorityBadge({ priority }: { priority: string }) {
  return <span className={`badge ${priority}`}>{priority}</span>;
}
