// The explorer's tree of one platform: datacenters > clusters > hosts, from /sim. VMs
// are asked per host when a host is opened, so a 10,000-VM estate costs one host's page.
import { apiGet } from "../api/client";
import type { components } from "../api/schema";

export type Datacenter = components["schemas"]["Datacenter"];
export type Cluster = components["schemas"]["Cluster"];
export type Host = components["schemas"]["HostSummary"];
export type Vm = components["schemas"]["Vm"];

export interface ClusterNode {
  cluster: Cluster;
  hosts: Host[];
}

export interface DatacenterNode {
  datacenter: Datacenter;
  clusters: ClusterNode[];
}

type Paged<T> = { items: T[]; total: number };

/** Every item of a paged listing, 1000 at a time. */
export async function allPages<T>(load: (offset: number) => Promise<Paged<T>>): Promise<T[]> {
  const items: T[] = [];
  for (;;) {
    const page = await load(items.length);
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total) return items;
  }
}

/** The platform's datacenters, their clusters and hosts, by name. */
export async function loadTree(platform: string): Promise<DatacenterNode[]> {
  const query = (offset: number) => ({ query: { limit: 1000, offset } });
  const [datacenters, clusters, hosts] = await Promise.all([
    allPages((offset) => apiGet("/sim/datacenters", query(offset))),
    allPages((offset) => apiGet("/sim/clusters", query(offset))),
    allPages((offset) => apiGet("/sim/hosts", query(offset))),
  ]);
  const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
  return datacenters
    .filter((dc) => dc.platform === platform)
    .sort(byName)
    .map((datacenter) => ({
      datacenter,
      clusters: clusters
        .filter((c) => c.datacenter_id === datacenter.id)
        .sort(byName)
        .map((cluster) => ({ cluster, hosts: hosts.filter((h) => h.cluster_id === cluster.id).sort(byName) })),
    }));
}

/** The VMs on one host. */
export function loadHostVms(hostId: string): Promise<Vm[]> {
  return allPages((offset) => apiGet("/sim/vms", { query: { host: hostId, limit: 1000, offset } }));
}
