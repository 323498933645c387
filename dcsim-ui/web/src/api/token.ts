// The dc-sim token lives in session storage only: gone when the tab closes, never in a URL.
const KEY = "dcsim.token";

/** The signed-in token, or null. */
export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** Keep `token` for this tab's session. */
export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

/** Forget the token (sign out, or the API refused it). */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
