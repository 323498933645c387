import { useEffect, useState } from "react";
import { apiGet } from "../api/client";
import { FaultPanel } from "../components/FaultPanel";
import { Pager } from "../components/Pager";
import type { Host, Vm } from "./loadTree";
import { HostSparklines } from "./Sparklines";

/** VMs listed per page of a host's detail: a large host is paged by the server. */
export const HOST_VMS_PAGE = 10;

interface VmPage {
  items: Vm[];
  total: number;
  offset: number;
}

/** The host's VMs, one server page at a time, each a button that opens the VM's detail. */
function HostVms({ host, onSelectVm }: { host: Host; onSelectVm: (vm: Vm) => void }) {
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<VmPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    apiGet("/sim/vms", { query: { host: host.id, limit: HOST_VMS_PAGE, offset } }).then(
      (answer) => !cancelled && setPage({ items: answer.items, total: answer.total, offset }),
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [host.id, offset]);

  return (
    <section aria-label={`VMs on ${host.name}`}>
      <h3>VMs</h3>
      {error && <p role="alert">{error}</p>}
      {page === null && !error && <p role="status">Loading…</p>}
      {page !== null && page.total === 0 && <p className="muted">No VM on this host.</p>}
      {page !== null && page.total > 0 && (
        <>
          <p className="muted" data-testid="host-vms-range">
            {page.offset + 1}–{page.offset + page.items.length} of {page.total}
          </p>
          <ul>
            {page.items.map((vm) => (
              <li key={vm.id}>
                <button type="button" className="link" onClick={() => onSelectVm(vm)}>
                  {vm.name}
                </button>{" "}
                <span className={`state ${vm.power_state}`}>{vm.power_state}</span>{" "}
                <span className="muted">
                  {vm.cpu} vCPU, {vm.memory_mb} MB
                </span>
              </li>
            ))}
          </ul>
          {page.total > HOST_VMS_PAGE && (
            <Pager
              offset={page.offset}
              last={page.offset + page.items.length}
              total={page.total}
              pageSize={HOST_VMS_PAGE}
              onOffset={setOffset}
              label={`Pages of VMs on ${host.name}`}
            />
          )}
        </>
      )}
    </section>
  );
}

/** A hypervisor host's sizes, state, cluster, VMs (paged), metrics and faults. The API
 * has no power action for a host; an operator fails or restores one through its faults
 * (host-failure), after which its state and figures are read again. */
export function HostDetail({ host, cluster, onSelectVm }: { host: Host; cluster: string; onSelectVm: (vm: Vm) => void }) {
  const [state, setState] = useState({ power_state: host.power_state, status: host.status });
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);

  async function refresh() {
    try {
      const now = await apiGet("/sim/hosts/{host}", { path: { host: host.id } });
      setState({ power_state: now.power_state, status: now.status });
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section className="detail" aria-label={`Host ${host.name}`}>
      <h2>{host.name}</h2>
      <dl>
        <dt>Status</dt>
        <dd>
          <span className={`state ${state.status}`} data-testid="host-status">
            {state.status}
          </span>
        </dd>
        <dt>Power</dt>
        <dd data-testid="host-power">{state.power_state}</dd>
        <dt>Cluster</dt>
        <dd>{cluster}</dd>
        <dt>CPU</dt>
        <dd>{host.cpu_cores} cores</dd>
        <dt>Memory</dt>
        <dd>{host.memory_mb} MB</dd>
        <dt>VMs</dt>
        <dd>{host.vm_count}</dd>
        <dt>Booted</dt>
        <dd>{new Date(host.booted_at).toLocaleString()}</dd>
      </dl>
      {error && <p role="alert">{error}</p>}
      <HostSparklines host={host.id} name={host.name} version={version} />
      <HostVms host={host} onSelectVm={onSelectVm} />
      <FaultPanel param="host" name={host.name} id={host.id} onChanged={() => void refresh()} />
    </section>
  );
}
