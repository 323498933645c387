import { useEffect, useState } from "react";
import { apiGet } from "../api/client";
import type { components } from "../api/schema";
import { Pager } from "../components/Pager";

type AdvisoryPage = components["schemas"]["Page_dcsim.patch.schemas.AdvisoryOut_"];

/** Advisories per page (the server pages and sorts them, most severe first). */
export const ADVISORY_PAGE = 20;

/** CVE exposure: each advisory by CVSS with how many CIs still lack its fix. */
export function PatchExposure() {
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<AdvisoryPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    apiGet("/patch/advisories", { query: { limit: ADVISORY_PAGE, offset } }).then(
      (answer) => !cancelled && setPage(answer),
      (err: Error) => !cancelled && setError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [offset]);

  const last = page ? Math.min(page.offset + page.items.length, page.total) : 0;
  return (
    <section aria-label="CVE exposure">
      <h2>CVE exposure by CVSS</h2>
      {error && <p role="alert">{error}</p>}
      {page && (
        <>
          <table>
            <caption>
              Advisories {page.total === 0 ? 0 : page.offset + 1}–{last} of {page.total}, most severe first
            </caption>
            <thead>
              <tr>
                <th scope="col">CVE</th>
                <th scope="col">CVSS</th>
                <th scope="col">Severity</th>
                <th scope="col">Title</th>
                <th scope="col">Exposed CIs</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((a) => (
                <tr key={a.id}>
                  <td>{a.id}</td>
                  <td>
                    <meter min={0} max={10} value={a.cvss} aria-label={`CVSS of ${a.id}`} /> {a.cvss.toFixed(1)}
                  </td>
                  <td>{a.severity}</td>
                  <td>{a.title}</td>
                  <td data-testid={`exposed-${a.id}`}>{a.affected_cis.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} last={last} total={page.total} pageSize={ADVISORY_PAGE} onOffset={setOffset} label="Advisory pages" />
        </>
      )}
    </section>
  );
}
