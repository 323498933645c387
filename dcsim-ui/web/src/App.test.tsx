import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { getToken, setToken } from "./api/token";
import { problem, stubFetch } from "./test/fetchStub";

function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <App />
    </MemoryRouter>,
  );
}

describe("App", () => {
  it("asks for a token, checks it with the API and keeps it in session storage", async () => {
    const calls = stubFetch({ "/sim/vms": { body: { items: [], total: 0, limit: 1, offset: 0 } } });
    renderAt("/drift");
    await userEvent.type(screen.getByLabelText("dc-sim token"), "tok-123");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Drift" })).toBeInTheDocument();
    expect(getToken()).toBe("tok-123");
    expect((calls[0]?.init?.headers as Record<string, string>).Authorization).toBe("Bearer tok-123");
  });

  it("asks /auth/me who the token is and shows its name and role", async () => {
    setToken("tok");
    const calls = stubFetch({
      "/auth/me": { body: { id: "t1", name: "alice", role: "viewer", scopes: ["read"] } },
    });
    renderAt("/patch");
    expect(await screen.findByTestId("whoami")).toHaveTextContent("alice (viewer)");
    expect(calls.some((c) => c.url === "/auth/me")).toBe(true);
  });

  it("explains a refused token on the sign-in page", async () => {
    stubFetch({ "/sim/vms": problem(401, "the bearer token is unknown or revoked") });
    renderAt("/");
    await userEvent.type(screen.getByLabelText("dc-sim token"), "bad");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/did not accept the token/);
    expect(getToken()).toBeNull();
  });

  it("returns to the sign-in page with the reason when the API refuses the token later", async () => {
    setToken("revoked");
    stubFetch({ "/sim/vms": problem(401, "the bearer token is unknown or revoked"), "/events": problem(401, "revoked") });
    renderAt("/");
    expect(await screen.findByLabelText("dc-sim token")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent(/did not accept the token/);
    expect(getToken()).toBeNull();
  });

  it("says plainly that an address is no view of the app", async () => {
    setToken("tok");
    stubFetch({});
    renderAt("/no/such/view");
    expect(screen.getByRole("heading", { name: "No such page" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Go to the overview" })).toHaveAttribute("href", "/");
  });

  it("toggles between light and dark themes and remembers the choice", async () => {
    setToken("tok");
    stubFetch({});
    localStorage.setItem("dcsim.theme", "light");
    renderAt("/patch");
    expect(document.documentElement.dataset.theme).toBe("light");
    await userEvent.click(screen.getByRole("button", { name: "Switch to dark theme" }));
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("dcsim.theme")).toBe("dark");
  });
});
