// A small typed client over dc-sim's own API: paths, query parameters and answers come
// from the generated schema.d.ts, so an API change breaks the type check, not the user.
import type { components, paths } from "./schema";
import { getToken } from "./token";

type Problem = components["schemas"]["ProblemDocument"];

/** Paths that answer GET. */
export type GetPath = {
  [P in keyof paths]: paths[P]["get"] extends { responses: unknown } ? P : never;
}[keyof paths];

type GetOperation<P extends GetPath> = NonNullable<paths[P]["get"]>;

/** The JSON body of a GET's 200 answer. */
export type GetResult<P extends GetPath> =
  GetOperation<P> extends { responses: { 200: { content: { "application/json": infer R } } } }
    ? R
    : never;

/** Query parameters and path parameters of a GET. */
export type GetParams<P extends GetPath> = {
  query?: GetOperation<P> extends { parameters: { query?: infer Q } } ? Q : never;
  path?: GetOperation<P> extends { parameters: { path: infer A } } ? A : never;
};

/** What went wrong with a request, with a sentence a person can act on. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, explanation: string) {
    super(explanation);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/** The sentence shown for a refused or failed request. */
export function explain(status: number, problem: Problem | null): string {
  const detail = problem?.detail ? ` (${problem.detail})` : "";
  if (status === 401) {
    return `dc-sim did not accept the token${detail}: it is unknown, revoked or missing. Sign in again with a valid token.`;
  }
  if (status === 403) {
    return `The token's role does not allow this${detail}. Ask an admin for a token with a higher role.`;
  }
  if (status === 404) {
    return `Not found${detail}: the object does not exist, or the plugin that serves it is not installed.`;
  }
  if (status === 429) {
    return `Too many requests${detail}: wait a moment and try again.`;
  }
  return `dc-sim answered ${status}${detail}.`;
}

/** Fill `{name}` placeholders and add the query string. */
export function buildUrl(path: string, params?: { query?: unknown; path?: unknown }): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = (params?.path as Record<string, unknown> | undefined)?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries((params?.query ?? {}) as Record<string, unknown>)) {
    if (value !== undefined && value !== null) query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${filled}?${text}` : filled;
}

/** Called with every 401 so the app can return to the sign-in page. */
let onUnauthorized: ((error: ApiError) => void) | null = null;

/** Register what happens when the API refuses the token. */
export function setUnauthorizedHandler(handler: ((error: ApiError) => void) | null): void {
  onUnauthorized = handler;
}

async function problemOf(response: Response): Promise<Problem | null> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) return null;
  try {
    return (await response.json()) as Problem;
  } catch {
    return null;
  }
}

/** Send a request with the session's bearer token; throw ApiError unless 2xx. */
export async function request(method: string, url: string, body?: unknown, token = getToken()): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await problemOf(response);
    const error = new ApiError(response.status, problem, explain(response.status, problem));
    if (response.status === 401) onUnauthorized?.(error);
    throw error;
  }
  return response;
}

/** GET a dc-sim path and return its typed JSON answer. */
export async function apiGet<P extends GetPath>(path: P, params?: GetParams<P>): Promise<GetResult<P>> {
  const response = await request("GET", buildUrl(path, params));
  return (await response.json()) as GetResult<P>;
}

const inFlight = new Map<string, Promise<unknown>>();

/** `apiGet`, except that callers asking for the same address while its answer is on the
 * way share one request and one parsed answer (so treat it as read-only): the overview's
 * tiles and topology both need the hosts and the VM count. Nothing is kept afterwards. */
export function apiGetShared<P extends GetPath>(path: P, params?: GetParams<P>): Promise<GetResult<P>> {
  const url = buildUrl(path, params);
  let pending = inFlight.get(url) as Promise<GetResult<P>> | undefined;
  if (pending === undefined) {
    pending = apiGet(path, params).finally(() => inFlight.delete(url));
    inFlight.set(url, pending);
  }
  return pending;
}

/** Paths that answer POST. */
export type PostPath = {
  [P in keyof paths]: paths[P]["post"] extends { responses: unknown } ? P : never;
}[keyof paths];

type PostOperation<P extends PostPath> = NonNullable<paths[P]["post"]>;

/** The JSON body a POST takes. */
export type PostBody<P extends PostPath> =
  PostOperation<P> extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

/** The JSON answer of a POST (200, 201 or 202). */
export type PostResult<P extends PostPath> =
  PostOperation<P> extends { responses: { 200: { content: { "application/json": infer R } } } }
    ? R
    : PostOperation<P> extends { responses: { 201: { content: { "application/json": infer R } } } }
      ? R
      : PostOperation<P> extends { responses: { 202: { content: { "application/json": infer R } } } }
        ? R
        : unknown;

/** POST a typed body to a dc-sim path and return its typed JSON answer. */
export async function apiPost<P extends PostPath>(
  path: P,
  params: { path?: PostOperation<P> extends { parameters: { path: infer A } } ? A : never },
  body: PostBody<P>,
): Promise<PostResult<P>> {
  const response = await request("POST", buildUrl(path, params), body);
  return (await response.json()) as PostResult<P>;
}
