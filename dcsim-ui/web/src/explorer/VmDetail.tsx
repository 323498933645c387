import { useState } from "react";
import { apiGet, apiPost } from "../api/client";
import { FaultPanel } from "../components/FaultPanel";
import { useCan } from "../session";
import type { Vm } from "./loadTree";
import { VmSparklines } from "./Sparklines";

const ACTIONS = [
  { action: "on", label: "Start" },
  { action: "off", label: "Stop" },
  { action: "reset", label: "Reset" },
] as const;

/** A VM's sizes, labels, node, metrics sparklines and faults and, for an operator, power
 * actions (a viewer sees none). */
export function VmDetail({ vm, onChanged }: { vm: Vm; onChanged: (vm: Vm) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Bumped after a power action or a fault: the sparklines read the new figures at once.
  const [version, setVersion] = useState(0);
  const canChange = useCan("change");

  /** The VM as it is now, and its figures again. */
  async function reread() {
    onChanged(await apiGet("/sim/vms/{vm}", { path: { vm: vm.id } }));
    setVersion((v) => v + 1);
  }

  async function power(action: (typeof ACTIONS)[number]["action"]) {
    setBusy(true);
    setError(null);
    try {
      await apiPost("/sim/vms/{vm}/power", { path: { vm: vm.id } }, { action });
      await reread();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="detail" aria-label={`VM ${vm.name}`}>
      <h2>{vm.name}</h2>
      <dl>
        <dt>Power</dt>
        <dd data-testid="vm-power">{vm.power_state}</dd>
        <dt>CPU</dt>
        <dd>{vm.cpu}</dd>
        <dt>Memory</dt>
        <dd>{vm.memory_mb} MB</dd>
        <dt>Guest OS</dt>
        <dd>{vm.node?.guest_os ?? "–"}</dd>
        <dt>Node</dt>
        <dd>{vm.node?.name ?? "–"}</dd>
        <dt>Tags</dt>
        <dd>
          {Object.entries(vm.tags ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(", ") || "–"}
        </dd>
      </dl>
      {canChange && (
        <div className="actions" role="group" aria-label="Power actions">
          {ACTIONS.map(({ action, label }) => (
            <button key={action} type="button" disabled={busy} onClick={() => power(action)}>
              {label}
            </button>
          ))}
        </div>
      )}
      {error && <p role="alert">{error}</p>}
      <VmSparklines vm={vm.id} name={vm.name} version={version} />
      <FaultPanel param="vm" name={vm.name} id={vm.id} onChanged={() => void reread().catch((err: Error) => setError(err.message))} />
    </section>
  );
}
