// The telemetry batches tinker-local received, kept in memory (the newest 10 000 events) so a
// test, or someone debugging a client, can read what an SDK sent. Counts per session survive a
// restart in SQLite (telemetry.ts); the bodies do not need to.

/** One batch as received, with the owner it was sent as. */
export interface ReceivedTelemetryBatch {
  /** The user id of the key that sent it. */
  owner: string;
  /** `session_id` of the batch (a session id, or `sessionless-<uuid>`). */
  sessionId: string;
  platform: string | undefined;
  sdkVersion: string | undefined;
  processUuid: string | undefined;
  /** The events as sent. */
  events: Record<string, unknown>[];
  /** Milliseconds since the epoch (tinker-local's clock). */
  receivedAt: number;
}

export const TELEMETRY_EVENTS_KEPT = 10_000;

export class TelemetryEventLog {
  readonly #batches: ReceivedTelemetryBatch[] = [];
  #events = 0;

  /** Keeps a batch, dropping the oldest batches once more than 10 000 events are held. */
  add(batch: ReceivedTelemetryBatch): void {
    this.#batches.push(batch);
    this.#events += batch.events.length;
    while (this.#events > TELEMETRY_EVENTS_KEPT && this.#batches.length > 1) {
      this.#events -= this.#batches.shift()!.events.length;
    }
  }

  /** The batches received, oldest first; only those of `sessionId` when given. */
  batches(sessionId?: string): ReceivedTelemetryBatch[] {
    return this.#batches.filter((b) => sessionId === undefined || b.sessionId === sessionId);
  }

  /** Every event received, oldest first; only those of `sessionId` when given. */
  events(sessionId?: string): Record<string, unknown>[] {
    return this.batches(sessionId).flatMap((b) => b.events);
  }

  clear(): void {
    this.#batches.length = 0;
    this.#events = 0;
  }
}
