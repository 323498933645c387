import { describe, expect, it } from "vitest";
import { stubFetch } from "../test/fetchStub";
import { type BusEvent, FEED_SIZE, latestEvents, mergeEvents, socketUrl } from "./events";

const event = (id: number): BusEvent => ({
  id: `e${id}`,
  type: "vm.powered_off",
  source: "test",
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(),
});

describe("event feed", () => {
  it("keeps the newest events first, once each, at most FEED_SIZE", () => {
    const old = Array.from({ length: FEED_SIZE }, (_, i) => event(i));
    const merged = mergeEvents(old, [event(50), event(3)]);
    expect(merged).toHaveLength(FEED_SIZE);
    expect(merged[0]?.id).toBe("e50");
    expect(merged.filter((e) => e.id === "e3")).toHaveLength(1);
    expect(merged.at(-1)?.id).toBe("e1");
  });

  it("asks GET /events for its newest page (the API lists oldest first)", async () => {
    const calls = stubFetch({
      "/events?limit=1": { body: { items: [event(0)], total: 45, limit: 1, offset: 0 } },
      "/events?limit=20&offset=25": { body: { items: [event(44)], total: 45, limit: 20, offset: 25 } },
    });
    expect((await latestEvents()).map((e) => e.id)).toEqual(["e44"]);
    expect(calls.map((c) => c.url)).toEqual(["/events?limit=1", "/events?limit=20&offset=25"]);
  });

  it("opens /ws on the page's own host", () => {
    expect(socketUrl({ protocol: "https:", host: "dc.example:8443" } as Location, "t/k")).toBe(
      "wss://dc.example:8443/ws?token=t%2Fk",
    );
  });
});
