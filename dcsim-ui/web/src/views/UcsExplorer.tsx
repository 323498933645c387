import { useEffect, useState } from "react";
import { FaultPanel } from "../components/FaultPanel";
import { useCan } from "../session";
import { type UcsBlade, type UcsInventory, loadBlade, loadUcs, setProfilePower } from "../ucs/ucsApi";

/** A blade's hardware, health, profile and node; power through its service profile for
 * an operator; its faults. */
function BladeDetail({ blade, onChanged }: { blade: UcsBlade; onChanged: (blade: UcsBlade) => void }) {
  const canChange = useCan("change");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function power(state: "up" | "down") {
    if (!blade.service_profile) return;
    setBusy(true);
    setError(null);
    try {
      await setProfilePower(blade.service_profile, state);
      onChanged(await loadBlade(blade.name));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="detail" aria-label={`Blade ${blade.name}`}>
      <h2>{blade.name}</h2>
      <dl>
        <dt>Power</dt>
        <dd data-testid="blade-power">{blade.power_state}</dd>
        <dt>Health</dt>
        <dd>
          <span className={`state ${blade.status}`}>{blade.status}</span>
        </dd>
        <dt>Model</dt>
        <dd>
          {blade.model} ({blade.serial})
        </dd>
        <dt>Slot</dt>
        <dd>
          {blade.chassis} / {blade.slot} <span className="muted">{blade.dn}</span>
        </dd>
        <dt>CPU</dt>
        <dd>{blade.cpu}</dd>
        <dt>Memory</dt>
        <dd>{blade.memory_mb} MB</dd>
        <dt>Firmware</dt>
        <dd>{blade.firmware}</dd>
        <dt>Service profile</dt>
        <dd>{blade.service_profile ?? "– (none associated)"}</dd>
        <dt>Node</dt>
        <dd>{blade.node ?? "–"}</dd>
      </dl>
      {canChange && blade.service_profile && (
        <div className="actions" role="group" aria-label="Power actions">
          <button type="button" disabled={busy} onClick={() => power("up")}>
            Power up
          </button>
          <button type="button" disabled={busy} onClick={() => power("down")}>
            Power down
          </button>
        </div>
      )}
      {error && <p role="alert">{error}</p>}
      <FaultPanel param="blade" name={blade.name} id={blade.id} />
    </section>
  );
}

/** `/infrastructure/ucs`: UCS domains > chassis > blades with their service profiles,
 * the selected blade's detail, and the profiles on no blade. */
export function UcsExplorer() {
  const [inventory, setInventory] = useState<UcsInventory | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<UcsBlade | null>(null);

  useEffect(() => {
    let cancelled = false;
    loadUcs().then(
      (answer) => !cancelled && setInventory(answer),
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const domains = inventory ? [...new Set(inventory.chassis.map((c) => c.domain))].sort() : [];
  const unassociated = inventory ? inventory.profiles.filter((p) => p.assoc_state === "unassociated") : [];
  return (
    <>
      <h1>UCS</h1>
      {error && <p role="alert">{error}</p>}
      {inventory === undefined && !error && <p role="status">Loading…</p>}
      {inventory === null && <p role="status">The UCS API is not there: dcsim-ucs is not installed or is off.</p>}
      <div className="explorer">
        <nav aria-label="UCS inventory" className="tree">
          {domains.map((domain) => (
            <details key={domain} open>
              <summary>{domain}</summary>
              {(inventory?.chassis ?? [])
                .filter((c) => c.domain === domain)
                .map((chassis) => (
                  <details key={chassis.id} open>
                    <summary>
                      {chassis.name} <span className="muted">{chassis.model}</span>
                    </summary>
                    <ul>
                      {(inventory?.blades ?? [])
                        .filter((b) => b.domain === domain && b.chassis === chassis.name)
                        .sort((a, b) => a.slot - b.slot)
                        .map((blade) => (
                          <li key={blade.id}>
                            <button
                              type="button"
                              className="link"
                              aria-pressed={selected?.id === blade.id}
                              onClick={() => setSelected(blade)}
                            >
                              {blade.name}
                            </button>{" "}
                            <span className={`state ${blade.status === "ok" ? blade.power_state : blade.status}`}>
                              {blade.status === "ok" ? blade.power_state : blade.status}
                            </span>{" "}
                            <span className="muted">{blade.service_profile ?? "no profile"}</span>
                          </li>
                        ))}
                    </ul>
                  </details>
                ))}
            </details>
          ))}
          {unassociated.length > 0 && (
            <details open>
              <summary>Service profiles on no blade</summary>
              <ul>
                {unassociated.map((profile) => (
                  <li key={profile.id}>
                    {profile.name} <span className="muted">{profile.template ?? ""}</span>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </nav>
        {selected ? (
          <BladeDetail key={selected.id} blade={selected} onChanged={setSelected} />
        ) : (
          inventory && <p className="muted">Choose a blade to see its detail.</p>
        )}
      </div>
    </>
  );
}
