// Component tests render views inside a known session, as the app does once /auth/me answered.
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { type Session, SessionProvider } from "../session";

const SCOPES: Record<Session["role"], Session["scopes"]> = {
  viewer: ["read"],
  operator: ["read", "change"],
  admin: ["read", "change", "delete", "configure"],
};

/** The session /auth/me gives a token of `role`. */
export function sessionOf(role: Session["role"]): Session {
  return { id: `${role}-id`, name: `${role}-token`, role, scopes: SCOPES[role] };
}

/** Render `ui` signed in as a token of `role`. */
export function renderAs(role: Session["role"], ui: ReactElement) {
  return render(<SessionProvider value={sessionOf(role)}>{ui}</SessionProvider>);
}
