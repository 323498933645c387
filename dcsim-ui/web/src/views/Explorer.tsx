import { useEffect, useState } from "react";
import { HostDetail } from "../explorer/HostDetail";
import { type DatacenterNode, type Host, type Vm, loadHostVms, loadTree } from "../explorer/loadTree";
import { VmDetail } from "../explorer/VmDetail";

/** What the detail panel shows: a VM, or a host with its cluster's name. */
type Selection = { vm: Vm } | { host: Host; cluster: string };

function HostBranch({
  host,
  cluster,
  selected,
  onSelect,
}: {
  host: Host;
  cluster: string;
  selected: Selection | null;
  onSelect: (selection: Selection) => void;
}) {
  const [vms, setVms] = useState<Vm[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <details
      onToggle={(event) => {
        if ((event.currentTarget as HTMLDetailsElement).open && vms === null) {
          loadHostVms(host.id).then(setVms, (err: Error) => setError(err.message));
        }
      }}
    >
      <summary>
        <span>{host.name}</span> <span className={`state ${host.status}`}>{host.status}</span> ({host.vm_count} VMs)
      </summary>
      {error && <p role="alert">{error}</p>}
      <button
        type="button"
        className="link"
        aria-pressed={selected !== null && "host" in selected && selected.host.id === host.id}
        onClick={() => onSelect({ host, cluster })}
      >
        {host.name}: host detail
      </button>
      <ul>
        {(vms ?? []).map((vm) => (
          <li key={vm.id}>
            <button
              type="button"
              className="link"
              aria-pressed={selected !== null && "vm" in selected && selected.vm.id === vm.id}
              onClick={() => onSelect({ vm })}
            >
              {vm.name}
            </button>{" "}
            <span className={`state ${vm.power_state}`}>{vm.power_state}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** `/infrastructure/<platform>`: the platform's tree and the selected VM's or host's detail. */
export function Explorer({ platform, title }: { platform: string; title: string }) {
  const [tree, setTree] = useState<DatacenterNode[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Selection | null>(null);

  useEffect(() => {
    let cancelled = false;
    loadTree(platform).then(
      (answer) => !cancelled && setTree(answer),
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [platform]);

  return (
    <>
      <h1>{title}</h1>
      {error && <p role="alert">{error}</p>}
      {tree === null && !error && <p role="status">Loading…</p>}
      {tree !== null && tree.length === 0 && <p role="status">No {title} datacenter in the simulation.</p>}
      <div className="explorer">
        <nav aria-label={`${title} inventory`} className="tree">
          {(tree ?? []).map(({ datacenter, clusters }) => (
            <details key={datacenter.id} open>
              <summary>{datacenter.name}</summary>
              {clusters.map(({ cluster, hosts }) => (
                <details key={cluster.id} open>
                  <summary>{cluster.name}</summary>
                  {hosts.map((host) => (
                    <HostBranch key={host.id} host={host} cluster={cluster.name} selected={selected} onSelect={setSelected} />
                  ))}
                </details>
              ))}
            </details>
          ))}
        </nav>
        {selected === null && <p className="muted">Open a host and choose it or a VM to see its detail.</p>}
        {selected !== null && "vm" in selected && (
          <VmDetail key={selected.vm.id} vm={selected.vm} onChanged={(vm) => setSelected({ vm })} />
        )}
        {selected !== null && "host" in selected && (
          <HostDetail
            key={selected.host.id}
            host={selected.host}
            cluster={selected.cluster}
            onSelectVm={(vm) => setSelected({ vm })}
          />
        )}
      </div>
    </>
  );
}
