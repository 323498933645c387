// dcsim-ucs's REST convenience API (/ucs/api/v1) as the UCS views read it. dcsim-ucs is
// its own package and the UI's generated types describe core's document only
// (specs/016-ui.md), so these fields are written down here after dcsim_ucs.rest's
// UcsChassisOut, UcsBladeOut and ServiceProfileOut; the e2e tests against a real
// dc-sim with dcsim-ucs installed keep them honest.
import { ApiError, buildUrl, request } from "../api/client";

export type UcsHealth = "ok" | "degraded" | "failed";

export interface UcsChassis {
  id: string;
  name: string;
  dn: string;
  domain: string;
  number: number;
  model: string;
  serial: string;
  slots: number;
  blades: string[];
}

export interface UcsBlade {
  id: string;
  name: string;
  dn: string;
  domain: string;
  chassis: string;
  slot: number;
  model: string;
  serial: string;
  cpu: number;
  memory_mb: number;
  firmware: string;
  power_state: "on" | "off" | "suspended";
  status: UcsHealth;
  service_profile: string | null;
  node: string | null;
}

export interface ServiceProfile {
  id: string;
  name: string;
  dn: string;
  domain: string;
  org: string;
  template: string | null;
  blade: string | null;
  blade_dn: string | null;
  assoc_state: "associated" | "unassociated";
  power: "up" | "down";
  firmware_policy: string;
  macs: string[];
  description: string;
}

interface Paged<T> {
  items: T[];
  total: number;
}

async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  for (;;) {
    const response = await request("GET", buildUrl(path, { query: { limit: 1000, offset: items.length } }));
    const page = (await response.json()) as Paged<T>;
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total) return items;
  }
}

export interface UcsInventory {
  chassis: UcsChassis[];
  blades: UcsBlade[];
  profiles: ServiceProfile[];
}

/** Every chassis, blade and service profile, by name; null when dcsim-ucs is not
 * installed (its API answers 404). */
export async function loadUcs(): Promise<UcsInventory | null> {
  try {
    const [chassis, blades, profiles] = await Promise.all([
      all<UcsChassis>("/ucs/api/v1/chassis"),
      all<UcsBlade>("/ucs/api/v1/blades"),
      all<ServiceProfile>("/ucs/api/v1/service-profiles"),
    ]);
    const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
    return { chassis: chassis.sort(byName), blades: blades.sort(byName), profiles: profiles.sort(byName) };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Set a service profile's desired power; its associated blade follows. */
export async function setProfilePower(profile: string, state: "up" | "down"): Promise<ServiceProfile> {
  const url = buildUrl("/ucs/api/v1/service-profiles/{name}/power", { path: { name: profile } });
  return (await (await request("POST", url, { state })).json()) as ServiceProfile;
}

/** One blade, as it is now. */
export async function loadBlade(name: string): Promise<UcsBlade> {
  const url = buildUrl("/ucs/api/v1/blades/{name}", { path: { name } });
  return (await (await request("GET", url)).json()) as UcsBlade;
}
