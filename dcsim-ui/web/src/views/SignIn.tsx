import { type FormEvent, useState } from "react";
import { ApiError, request } from "../api/client";

/** Sign in with a dc-sim token: checked against the API before it is kept. */
export function SignIn({ onSignedIn, reason }: { onSignedIn: (token: string) => void; reason: string | null }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Any read proves the token; the smallest page of VMs is cheap.
      await request("GET", "/sim/vms?limit=1", undefined, token.trim());
      onSignedIn(token.trim());
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <h1>dc-sim Glass Pane</h1>
      {reason && <p role="alert">{reason}</p>}
      <form onSubmit={submit}>
        <label htmlFor="token">dc-sim token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <button type="submit" disabled={busy || token.trim() === ""}>
          Sign in
        </button>
      </form>
      {error && <p role="alert">{error}</p>}
      <p className="muted">
        The admin token of a fresh instance is in its data directory (<code>dcsim serve</code> prints where); make
        others with <code>dcsim token create</code>. It is kept in this tab's session storage only.
      </p>
    </main>
  );
}
