// The live event feed: the latest events from GET /events, then new ones over /ws.
import { useEffect, useRef, useState } from "react";
import type { components } from "./schema";
import { apiGet } from "./client";
import { getToken } from "./token";

export type BusEvent = components["schemas"]["Event"];

/** How many events the feed keeps. */
export const FEED_SIZE = 20;

/** Newest first, without duplicates, at most `size`. */
export function mergeEvents(current: BusEvent[], incoming: BusEvent[], size = FEED_SIZE): BusEvent[] {
  const seen = new Set<string>();
  const all = [...incoming, ...current].filter((event) => {
    const key = event.id ?? `${event.type}/${event.time}/${event.subject}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  all.sort((a, b) => (b.time ?? "").localeCompare(a.time ?? ""));
  return all.slice(0, size);
}

/** The address of /ws on the page's own host. Browsers cannot set headers on a
 * WebSocket, so core takes the token as a query parameter of the handshake only
 * (its logs redact it); it never appears in the page's address. */
export function socketUrl(location: Location, token: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`;
}

/** The newest FEED_SIZE events the bus retains (GET /events lists oldest first). */
export async function latestEvents(): Promise<BusEvent[]> {
  const head = await apiGet("/events", { query: { limit: 1 } });
  const offset = Math.max(0, head.total - FEED_SIZE);
  return (await apiGet("/events", { query: { limit: FEED_SIZE, offset } })).items;
}

export type FeedStatus = "connecting" | "live" | "closed";

/** The last FEED_SIZE events, kept current over /ws. */
export function useEventFeed(): { events: BusEvent[]; status: FeedStatus; error: string | null } {
  const [events, setEvents] = useState<BusEvent[]>([]);
  const [status, setStatus] = useState<FeedStatus>(() =>
    getToken() && typeof WebSocket !== "undefined" ? "connecting" : "closed",
  );
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    latestEvents()
      .then((items) => {
        if (!cancelled) setEvents((current) => mergeEvents(current, items));
      })
      .catch((err: Error) => {
        if (!cancelled) setError(err.message);
      });
    const token = getToken();
    if (!token || typeof WebSocket === "undefined") {
      return () => {
        cancelled = true;
      };
    }
    const socket = new WebSocket(socketUrl(window.location, token));
    socket.onopen = () => setStatus("live");
    socket.onclose = () => setStatus("closed");
    socket.onmessage = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as BusEvent;
      setEvents((current) => mergeEvents(current, [event]));
    };
    return () => {
      cancelled = true;
      socket.close();
    };
  }, []);

  return { events, status, error };
}

/** Hands `onEvent` each bus event whose type matches `types` (core's globs, comma-separated,
 * e.g. `incident.*`), live over /ws from now on; answers whether the socket is open. */
export function useLiveEvents(types: string, onEvent: (event: BusEvent) => void): FeedStatus {
  // The latest handler, without reconnecting when the caller's closure changes.
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  const [status, setStatus] = useState<FeedStatus>(() =>
    getToken() && typeof WebSocket !== "undefined" ? "connecting" : "closed",
  );

  useEffect(() => {
    const token = getToken();
    if (!token || typeof WebSocket === "undefined") return;
    const socket = new WebSocket(`${socketUrl(window.location, token)}&types=${encodeURIComponent(types)}`);
    socket.onopen = () => setStatus("live");
    socket.onclose = () => setStatus("closed");
    socket.onmessage = (message: MessageEvent<string>) => handler.current(JSON.parse(message.data) as BusEvent);
    return () => socket.close();
  }, [types]);

  return status;
}
