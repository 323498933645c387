/** A route whose view is not built yet: said plainly, with no made-up data. */
export function NotBuilt({ title }: { title: string }) {
  return (
    <>
      <h1>{title}</h1>
      <p role="status">This view is not built yet (issue #16). Nothing here is real data, so nothing is shown.</p>
    </>
  );
}
