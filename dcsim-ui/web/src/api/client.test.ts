import { describe, expect, it, vi } from "vitest";
import { problem, stubFetch } from "../test/fetchStub";
import { ApiError, apiGet, apiGetShared, buildUrl, setUnauthorizedHandler } from "./client";
import { setToken } from "./token";

const page = { items: [], total: 0, limit: 1, offset: 0 };

describe("client", () => {
  it("fills path parameters and drops empty query parameters", () => {
    expect(buildUrl("/cmdb/cis/{ci_id}", { path: { ci_id: "a b" }, query: { x: 1, y: null, z: undefined } })).toBe(
      "/cmdb/cis/a%20b?x=1",
    );
  });

  it("sends the session's token as a bearer header, never in the URL", async () => {
    setToken("s3cret");
    const calls = stubFetch({ "/sim/vms": { body: page } });
    await apiGet("/sim/vms", { query: { limit: 1, power_state: "on" } });
    expect(calls[0]?.url).toBe("/sim/vms?limit=1&power_state=on");
    expect(calls[0]?.url).not.toContain("s3cret");
    expect((calls[0]?.init?.headers as Record<string, string>).Authorization).toBe("Bearer s3cret");
  });

  it("shares one request between callers asking for the same address at once, and only then", async () => {
    const calls = stubFetch({ "/sim/hosts": { body: { ...page, total: 3 } } });
    const [first, second, other] = await Promise.all([
      apiGetShared("/sim/hosts", { query: { limit: 1000, offset: 0 } }),
      apiGetShared("/sim/hosts", { query: { limit: 1000, offset: 0 } }),
      apiGetShared("/sim/hosts", { query: { limit: 1000, offset: 1000 } }),
    ]);
    expect(calls.map((c) => c.url)).toEqual(["/sim/hosts?limit=1000&offset=0", "/sim/hosts?limit=1000&offset=1000"]);
    expect(second).toBe(first);
    expect(other.total).toBe(3);
    await apiGetShared("/sim/hosts", { query: { limit: 1000, offset: 0 } });
    expect(calls).toHaveLength(3);
  });

  it("explains a 401 and tells the app", async () => {
    stubFetch({ "/sim/vms": problem(401, "the bearer token is unknown or revoked") });
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    const error = await apiGet("/sim/vms").catch((e: unknown) => e);
    setUnauthorizedHandler(null);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toMatch(/did not accept the token.*unknown or revoked.*Sign in again/);
    expect(handler).toHaveBeenCalledWith(error);
  });

  it("explains a 403 without signing out", async () => {
    stubFetch({ "/sim/vms": problem(403, "this action needs the operator role; the token has viewer") });
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    const error = (await apiGet("/sim/vms").catch((e: unknown) => e)) as ApiError;
    setUnauthorizedHandler(null);
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/role does not allow this.*operator role/);
    expect(handler).not.toHaveBeenCalled();
  });
});
