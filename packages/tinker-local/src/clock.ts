// A leaf every layer may import: the time source. Kept apart from the HTTP context so store/ and
// engine/ can take a Clock without importing anything above them.

/** Milliseconds since the epoch. Injected so expiry and token lifetimes are testable without sleeping. */
export interface Clock {
  /** The current time, milliseconds since the epoch; should not go backwards. */
  now(): number;
}

/** The real clock, `Date.now()`. */
export const systemClock: Clock = { now: () => Date.now() };
