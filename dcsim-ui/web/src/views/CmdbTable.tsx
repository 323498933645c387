import { type FormEvent, useEffect, useState } from "react";
import { Link } from "react-router";
import { apiGet, buildUrl, request } from "../api/client";
import type { components } from "../api/schema";
import { Pager } from "../components/Pager";

type Ci = components["schemas"]["Ci"];
type CiPage = components["schemas"]["Page_dcsim.cmdb.model.Ci_"];

/** Rows per page: the server pages, so 10,000 CIs cost one page at a time. */
export const PAGE_SIZE = 50;

interface Filters {
  q: string;
  type: string;
  status: "active" | "decommissioned" | "all";
}

/** `/cmdb/cis`: configuration items, searched, filtered and paged by the server; CSV export. */
export function CmdbTable() {
  const [draft, setDraft] = useState<Filters>({ q: "", type: "", status: "active" });
  const [filters, setFilters] = useState<Filters>(draft);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<CiPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    apiGet("/cmdb/cis", {
      query: { q: filters.q || null, type: filters.type || null, status: filters.status, limit: PAGE_SIZE, offset },
    }).then(
      (answer) => {
        if (!cancelled) {
          setPage(answer);
          setError(null);
        }
      },
      (err: Error) => {
        if (!cancelled) setError(err.message);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [filters, offset]);

  function search(event: FormEvent) {
    event.preventDefault();
    setOffset(0);
    setFilters(draft);
  }

  async function exportCsv() {
    // Through the client, so the token goes in a header and never in a link.
    const url = buildUrl("/cmdb/cis", {
      query: { q: filters.q || null, type: filters.type || null, status: filters.status, format: "csv" },
    });
    try {
      const blob = await (await request("GET", url)).blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "cmdb-cis.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const last = page ? Math.min(page.offset + page.items.length, page.total) : 0;
  return (
    <>
      <h1>CMDB</h1>
      <form className="filters" onSubmit={search} role="search">
        <label>
          Name contains <input value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        </label>
        <label>
          Type <input value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value })} />
        </label>
        <label>
          Status{" "}
          <select
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.target.value as Filters["status"] })}
          >
            <option value="active">active</option>
            <option value="decommissioned">decommissioned</option>
            <option value="all">all</option>
          </select>
        </label>
        <button type="submit">Search</button>
        <button type="button" onClick={exportCsv}>
          Export CSV
        </button>
      </form>
      {error && <p role="alert">{error}</p>}
      {page && (
        <>
          <table>
            <caption>
              Configuration items {page.total === 0 ? 0 : page.offset + 1}–{last} of {page.total}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Source</th>
                <th scope="col">Tags</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((ci: Ci) => (
                <tr key={ci.id ?? ci.name}>
                  <td>{ci.id ? <Link to={`/cmdb/cis/${encodeURIComponent(ci.id)}`}>{ci.name}</Link> : ci.name}</td>
                  <td>{ci.type}</td>
                  <td>{ci.status}</td>
                  <td>{ci.source}</td>
                  <td>
                    {Object.entries(ci.tags ?? {})
                      .map(([k, v]) => `${k}=${v}`)
                      .join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} last={last} total={page.total} pageSize={PAGE_SIZE} onOffset={setOffset} />
        </>
      )}
    </>
  );
}
