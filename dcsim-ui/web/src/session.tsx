// Who the signed-in token is (GET /auth/me) and what its role allows, for every view:
// a view asks `useCan("change")` and leaves out the buttons a viewer may not press.
import { createContext, useContext, useEffect, useState } from "react";
import { apiGet } from "./api/client";
import type { components } from "./api/schema";

export type Session = components["schemas"]["Session"];
export type Scope = Session["scopes"][number];

const SessionContext = createContext<Session | null>(null);

/** The signed-in token's session, or null while it is being asked for. */
export function useSession(): Session | null {
  return useContext(SessionContext);
}

/** True when the session's role allows `scope`; false while the session is unknown, so
 * an action button never flashes up for a viewer. */
export function useCan(scope: Scope): boolean {
  return useSession()?.scopes.includes(scope) ?? false;
}

/** Provides a known session (tests, and the app once /auth/me answered). */
export const SessionProvider = SessionContext.Provider;

/** Asks /auth/me once (a new token means a new sign-in, so a new loader) and provides
 * the answer to `children`. */
export function SessionLoader({ token, children }: { token: string; children: React.ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    let cancelled = false;
    // A refusal is handled by the client (401 signs out); the views stay read-only.
    apiGet("/auth/me").then(
      (answer) => !cancelled && setSession(answer),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [token]);
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
