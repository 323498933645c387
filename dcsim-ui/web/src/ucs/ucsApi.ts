// dcsim-ucs's REST convenience API (/ucs/api/v1) as the UCS views read it. It follows
// dc-sim's API convention (SPEC-010), so it is in the OpenAPI document the UI's types are
// generated from (specs/016-ui.md); the answers are typed by the generated schema.
import { ApiError, apiGet, apiPost } from "../api/client";
import type { components } from "../api/schema";

export type UcsChassis = components["schemas"]["UcsChassisOut"];
export type UcsBlade = components["schemas"]["UcsBladeOut"];
export type ServiceProfile = components["schemas"]["ServiceProfileOut"];
export type UcsHealth = UcsBlade["status"];

/** The listings read whole, and what each lists. */
interface Listed {
  "/ucs/api/v1/chassis": UcsChassis;
  "/ucs/api/v1/blades": UcsBlade;
  "/ucs/api/v1/service-profiles": ServiceProfile;
}

async function all<P extends keyof Listed>(path: P): Promise<Listed[P][]> {
  const items: Listed[P][] = [];
  for (;;) {
    const page = await apiGet<keyof Listed>(path, { query: { limit: 1000, offset: items.length } });
    items.push(...(page.items as Listed[P][]));
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
      all("/ucs/api/v1/chassis"),
      all("/ucs/api/v1/blades"),
      all("/ucs/api/v1/service-profiles"),
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
  return apiPost("/ucs/api/v1/service-profiles/{name}/power", { path: { name: profile } }, { state });
}

/** One blade, as it is now. */
export async function loadBlade(name: string): Promise<UcsBlade> {
  return apiGet("/ucs/api/v1/blades/{name}", { path: { name } });
}
