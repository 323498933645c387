// Component tests answer the client's requests from a table of paths (the Python and
// end-to-end tests run against a real dc-sim).
import { vi } from "vitest";

export type Route = { status?: number; body: unknown; contentType?: string };

/** Stub `fetch` with answers by path (query string ignored unless the key has one); returns the calls. */
export function stubFetch(routes: Record<string, Route>) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      const route = routes[url] ?? routes[url.split("?")[0] ?? url];
      if (!route) return new Response("{}", { status: 599 });
      const contentType = route.contentType ?? (route.status && route.status >= 400 ? "application/problem+json" : "application/json");
      return new Response(JSON.stringify(route.body), { status: route.status ?? 200, headers: { "content-type": contentType } });
    }),
  );
  return calls;
}

/** A problem document as dc-sim sends them. */
export function problem(status: number, detail: string) {
  return { status, body: { type: "about:blank", title: "refused", status, detail, code: "x" } };
}
