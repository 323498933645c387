// The overview's topology: datacenters > clusters > hosts > VMs from /sim, and UCS
// chassis > blades from dcsim-ucs. A large estate is grouped so that the graph stays a
// few hundred nodes: above MAX_VMS_DRAWN VMs, each host shows one "N VMs" node, and a
// cluster of more than MAX_HOSTS_DRAWN hosts shows its hosts as one node.
import { ApiError, apiGet, apiGetShared } from "../api/client";
import { allPages, type Host, type Vm } from "../explorer/loadTree";
import type { UcsBlade, UcsChassis } from "../ucs/ucsApi";

/** Draw every VM up to this many in the estate. */
export const MAX_VMS_DRAWN = 200;
/** Draw every host of a cluster up to this many. */
export const MAX_HOSTS_DRAWN = 24;

/** ok, on: fine; degraded, suspended: attention; failed: broken; off: stopped. */
export type NodeState = "ok" | "on" | "degraded" | "suspended" | "failed" | "off" | "group";

export interface TopoNode {
  /** Unique in the graph (an object's id, or a group's made-up one). */
  id: string;
  label: string;
  kind: "datacenter" | "cluster" | "host" | "vm" | "domain" | "chassis" | "blade" | "group";
  state: NodeState;
  children: TopoNode[];
}

function worst(states: NodeState[]): NodeState {
  for (const state of ["failed", "degraded"] as const) if (states.includes(state)) return state;
  return "ok";
}

function hostNode(host: Host, vms: Vm[] | null): TopoNode {
  const children: TopoNode[] =
    vms === null
      ? host.vm_count > 0
        ? [{ id: `vms:${host.id}`, label: `${host.vm_count} VMs`, kind: "group", state: "group", children: [] }]
        : []
      : vms.map((vm) => ({ id: vm.id, label: vm.name, kind: "vm", state: vm.power_state as NodeState, children: [] }));
  return { id: host.id, label: host.name, kind: "host", state: host.status as NodeState, children };
}

function hostsOf(hosts: Host[], vmsByHost: Map<string, Vm[]> | null, clusterId: string): TopoNode[] {
  if (hosts.length > MAX_HOSTS_DRAWN) {
    const degraded = hosts.filter((h) => h.status === "degraded").length;
    const failed = hosts.filter((h) => h.status === "failed").length;
    const vms = hosts.reduce((sum, h) => sum + h.vm_count, 0);
    return [
      {
        id: `hosts:${clusterId}`,
        label: `${hosts.length} hosts, ${vms} VMs (${degraded} degraded, ${failed} failed)`,
        kind: "group",
        state: worst(hosts.map((h) => h.status as NodeState)),
        children: [],
      },
    ];
  }
  return hosts.map((host) => hostNode(host, vmsByHost ? (vmsByHost.get(host.id) ?? []) : null));
}

const query = (offset: number) => ({ query: { limit: 1000, offset } });

/** UCS chassis and blades (what the graph draws; not the service profiles), or null when
 * dcsim-ucs is not installed (its API answers 404). */
async function ucsHardware(): Promise<{ chassis: UcsChassis[]; blades: UcsBlade[] } | null> {
  try {
    const [chassis, blades] = await Promise.all([
      allPages((offset) => apiGet("/ucs/api/v1/chassis", query(offset))),
      allPages((offset) => apiGet("/ucs/api/v1/blades", query(offset))),
    ]);
    return { chassis: chassis.sort((a, b) => a.name.localeCompare(b.name)), blades };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** The whole graph, roots first (one per datacenter, then one per UCS domain). */
export async function loadTopology(): Promise<TopoNode[]> {
  const [datacenters, clusters, hosts, head, ucs] = await Promise.all([
    allPages((offset) => apiGet("/sim/datacenters", query(offset))),
    allPages((offset) => apiGet("/sim/clusters", query(offset))),
    // The same pages as the overview's tiles ask for at the same time: one request each.
    allPages((offset) => apiGetShared("/sim/hosts", query(offset))),
    apiGetShared("/sim/vms", { query: { limit: 1 } }),
    ucsHardware(),
  ]);
  let vmsByHost: Map<string, Vm[]> | null = null;
  if (head.total <= MAX_VMS_DRAWN) {
    vmsByHost = new Map();
    const vms = (await apiGet("/sim/vms", { query: { limit: MAX_VMS_DRAWN } })).items;
    for (const vm of [...vms].sort((a, b) => a.name.localeCompare(b.name))) {
      if (!vm.host_id) continue;
      vmsByHost.set(vm.host_id, [...(vmsByHost.get(vm.host_id) ?? []), vm]);
    }
  }
  const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
  const roots: TopoNode[] = [...datacenters].sort(byName).map((dc) => {
    const children = clusters
      .filter((c) => c.datacenter_id === dc.id)
      .sort(byName)
      .map((cluster): TopoNode => {
        const members = hostsOf(hosts.filter((h) => h.cluster_id === cluster.id).sort(byName), vmsByHost, cluster.id);
        return { id: cluster.id, label: cluster.name, kind: "cluster", state: worst(members.map((m) => m.state)), children: members };
      });
    return { id: dc.id, label: dc.name, kind: "datacenter", state: worst(children.map((c) => c.state)), children };
  });
  if (ucs) {
    const domains = [...new Set(ucs.chassis.map((c) => c.domain))].sort();
    for (const domain of domains) {
      const chassis = ucs.chassis
        .filter((c) => c.domain === domain)
        .map((c): TopoNode => {
          const blades = ucs.blades
            .filter((b) => b.domain === domain && b.chassis === c.name)
            .sort((a, b) => a.slot - b.slot)
            .map((b): TopoNode => ({
              id: b.id,
              label: b.name,
              kind: "blade",
              state: b.status !== "ok" ? b.status : b.power_state,
              children: [],
            }));
          return { id: c.id, label: c.name, kind: "chassis", state: worst(blades.map((b) => b.state)), children: blades };
        });
      roots.push({ id: `domain:${domain}`, label: domain, kind: "domain", state: worst(chassis.map((c) => c.state)), children: chassis });
    }
  }
  return roots;
}
