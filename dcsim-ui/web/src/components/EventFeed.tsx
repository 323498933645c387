import type { BusEvent, FeedStatus } from "../api/events";

/** The last events, newest first, with the socket's state. */
export function EventFeed({ events, status, error }: { events: BusEvent[]; status: FeedStatus; error: string | null }) {
  return (
    <section aria-label="Latest events" className="feed">
      <h2>
        Latest events <span className={`feed-status ${status}`}>{status}</span>
      </h2>
      {error && <p role="alert">{error}</p>}
      {events.length === 0 ? (
        <p className="muted">No events yet.</p>
      ) : (
        <ol>
          {events.map((event) => (
            <li key={event.id ?? `${event.type}${event.time}`}>
              <time dateTime={event.time}>{event.time ? new Date(event.time).toLocaleTimeString() : ""}</time>{" "}
              <code>{event.type}</code> {event.subject ?? ""}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
