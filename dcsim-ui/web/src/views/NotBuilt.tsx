import { Link } from "react-router";

/** A route whose view is not built yet: said plainly, with no made-up data. */
export function NotBuilt({ title }: { title: string }) {
  return (
    <>
      <h1>{title}</h1>
      <p role="status">This view is not built yet (issue #16). Nothing here is real data, so nothing is shown.</p>
    </>
  );
}

/** A path that is no view of the app. */
export function NoSuchPage() {
  return (
    <>
      <h1>No such page</h1>
      <p role="status">
        The app has no view at this address. <Link to="/">Go to the overview</Link>.
      </p>
    </>
  );
}
