/**
 * The fields that name and place an event, the same wherever the event goes: its archive line,
 * its store item and the context its handlers get.
 */
export interface EventHeader {
  /** The body's hash: the same body is the same event, whatever delivered it. */
  readonly eventId: string;
  /** Routing name (`post.didCreate`). */
  readonly eventType: string;
  /** Raw name as sent (`v3.post.didCreate`); null when the body names none. */
  readonly eventName: string | null;
  /** ISO-8601 UTC time the receiver accepted the event. */
  readonly receivedAt: string;
  /** The webhook source (path segment) it came from. */
  readonly source: string;
  /** The catalog lists the event's name as deprecated. */
  readonly deprecated: boolean;
}
