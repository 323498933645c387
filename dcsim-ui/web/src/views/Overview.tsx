import { useCallback, useEffect, useState } from "react";
import { useEventFeed } from "../api/events";
import { describeHealth, healthScore } from "../health";
import { type Answer, type OverviewData, healthInputs, overviewParts } from "../overview/loadOverview";
import { EventFeed } from "../components/EventFeed";
import { Topology } from "../components/Topology";

function Tile({ title, answer, children }: { title: string; answer: Answer<unknown>; children: React.ReactNode }) {
  return (
    <section className="tile" aria-label={title}>
      <h2>{title}</h2>
      {answer.ok ? children : <p className="muted">{answer.reason}</p>}
    </section>
  );
}

const LOADING = { ok: false, reason: "Loading…" } as const;

/** The overview's tiles and health score, from whatever the APIs answered; a tile whose
 * answer is still coming says so, and the score waits for every part. */
export function OverviewTiles({ data: partial }: { data: Partial<OverviewData> }) {
  const data: OverviewData = {
    vms: partial.vms ?? LOADING,
    hosts: partial.hosts ?? LOADING,
    incidents: partial.incidents ?? LOADING,
    patchCompliancePct: partial.patchCompliancePct ?? LOADING,
    openDrift: partial.openDrift ?? LOADING,
  };
  const complete = Object.keys(partial).length === Object.keys(data).length;
  const health = complete ? healthScore(healthInputs(data)) : { ...healthScore(healthInputs(data)), score: null };
  const description = complete ? describeHealth(health) : "The score waits for every part's answer.";
  return (
    <div className="tiles">
      <section className="tile health" aria-label="Health score" title={description} tabIndex={0} aria-describedby="health-formula">
        <h2>Health</h2>
        <p className="big" data-testid="health-score">{health.score ?? "–"}</p>
        <pre id="health-formula" className="formula">{description}</pre>
      </section>
      <Tile title="VMs" answer={data.vms}>
        {data.vms.ok && (
          <p>
            <span className="big" data-testid="vm-total">{data.vms.value.total}</span> ({data.vms.value.on} powered on)
          </p>
        )}
      </Tile>
      <Tile title="Hosts" answer={data.hosts}>
        {data.hosts.ok && (
          <p>
            <span className="big" data-testid="host-total">{data.hosts.value.total}</span> ({data.hosts.value.degraded}{" "}
            degraded, {data.hosts.value.failed} failed)
          </p>
        )}
      </Tile>
      <Tile title="Open incidents" answer={data.incidents}>
        {data.incidents.ok && (
          <ul className="priorities">
            {(["P1", "P2", "P3", "P4"] as const).map((p) => (
              <li key={p}>
                <span className={`badge ${p}`}>{p}</span> <span data-testid={`incidents-${p}`}>{data.incidents.ok ? data.incidents.value[p] : 0}</span>
              </li>
            ))}
          </ul>
        )}
      </Tile>
      <Tile title="Patch compliance" answer={data.patchCompliancePct}>
        {data.patchCompliancePct.ok && <p className="big">{data.patchCompliancePct.value.toFixed(1)} %</p>}
      </Tile>
      <Tile title="Open drift" answer={data.openDrift}>
        {data.openDrift.ok && <p className="big">{data.openDrift.value}</p>}
      </Tile>
    </div>
  );
}

/** `/`: health score, tiles, the live event feed and the topology graph. */
export function Overview() {
  const [data, setData] = useState<Partial<OverviewData>>({});
  const feed = useEventFeed();
  const refresh = useCallback(() => {
    // Each tile as its answer comes; a reload keeps the old figure until the new one.
    for (const [key, part] of Object.entries(overviewParts())) {
      void part.then((value) => setData((current) => ({ ...current, [key]: value })));
    }
  }, []);
  useEffect(refresh, [refresh]);
  // A new event may change a tile or the graph: reload them, at most every two seconds
  // for the tiles and one second for the graph (which only reads /sim and /ucs).
  const newest = feed.events[0]?.id;
  const [graphVersion, setGraphVersion] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (newest === undefined) return;
    const timer = setTimeout(refresh, 2000);
    const graph = setTimeout(() => setGraphVersion(newest), 1000);
    return () => {
      clearTimeout(timer);
      clearTimeout(graph);
    };
  }, [newest, refresh]);
  return (
    <>
      <h1>Overview</h1>
      <OverviewTiles data={data} />
      <EventFeed events={feed.events} status={feed.status} error={feed.error} />
      <Topology version={graphVersion} />
    </>
  );
}
