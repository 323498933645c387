import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { setToken } from "../api/token";
import { stubFetch } from "../test/fetchStub";
import { CmdbTable, PAGE_SIZE } from "./CmdbTable";

const ci = (n: number) => ({ id: `ci-${n}`, name: `vm-${n}`, type: "vm", status: "active", source: "sim", tags: { env: "prod" } });

describe("CmdbTable", () => {
  it("shows a server page, pages forward and searches through the API", async () => {
    setToken("tok");
    const items = Array.from({ length: PAGE_SIZE }, (_, i) => ci(i));
    const calls = stubFetch({
      "/cmdb/cis?status=active&limit=50&offset=0": { body: { items, total: 120, limit: 50, offset: 0 } },
      "/cmdb/cis?status=active&limit=50&offset=50": { body: { items: [ci(50)], total: 120, limit: 50, offset: 50 } },
      "/cmdb/cis?q=vm-7&status=active&limit=50&offset=0": { body: { items: [ci(7)], total: 1, limit: 50, offset: 0 } },
    });
    render(
      <MemoryRouter>
        <CmdbTable />
      </MemoryRouter>,
    );
    expect(await screen.findByText("Configuration items 1–50 of 120")).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "vm-0" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByRole("cell", { name: "vm-50" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Name contains"), "vm-7");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    expect(await screen.findByText("Configuration items 1–1 of 1")).toBeInTheDocument();
    expect(calls.every((c) => !c.url.includes("tok"))).toBe(true);
  });
});
