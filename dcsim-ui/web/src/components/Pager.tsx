/** Previous / Next buttons over a server-paged list (dc-sim's `Page` envelope). */
export function Pager({
  offset,
  last,
  total,
  pageSize,
  onOffset,
  label = "Pages",
}: {
  /** The offset of the page shown. */
  offset: number;
  /** One past the last item shown (offset + items on the page). */
  last: number;
  total: number;
  pageSize: number;
  onOffset: (offset: number) => void;
  /** The navigation's accessible name. */
  label?: string;
}) {
  return (
    <nav aria-label={label} className="pager">
      <button type="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - pageSize))}>
        Previous
      </button>
      <button type="button" disabled={last >= total} onClick={() => onOffset(offset + pageSize)}>
        Next
      </button>
    </nav>
  );
}
