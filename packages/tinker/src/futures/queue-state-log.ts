// The default queue-state warning (Python SDK 0.25's queue-state logger): when the server reports a
// waiting request as paused (for capacity or a rate limit), warn once naming what waits and the
// server's reason, and then at most once a minute per watcher. One watcher belongs to one training
// client, one sampling client, or one model creation, as in the official client, so ten paused
// futures of a model give one warning a minute, not ten. The typed `queueState` events are separate
// and still fire on every report.

import type { Logger } from "../client/logger.js";
import type { FutureHandle } from "./future.js";
import type { QueueStateEvent } from "./poll.js";

/** How often one watcher repeats its warning while requests stay paused (Python: 60 s). */
export const QUEUE_STATE_LOG_INTERVAL_MS = 60_000;

/** Watches the queue-state reports of one client (or one model creation) and warns when paused. */
export class QueueStateLog {
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #subject: () => string;
  #lastWarnedAt: number | undefined;

  /**
   * `subject` names what waits, e.g. "Training for model <id>" or "Sampling for sampler <id>"
   * (a function, since a model id may be known only later).
   */
  constructor(logger: Logger, now: () => number, subject: () => string) {
    this.#logger = logger;
    this.#now = now;
    this.#subject = subject;
  }

  /** Feed one report; warns when it is a pause and the last warning is a minute old or more. */
  observe = (event: QueueStateEvent): void => {
    if (event.state !== "paused_capacity" && event.state !== "paused_rate_limit") return;
    const now = this.#now();
    if (this.#lastWarnedAt !== undefined && now - this.#lastWarnedAt < QUEUE_STATE_LOG_INTERVAL_MS) return;
    this.#lastWarnedAt = now;
    const why = event.state === "paused_capacity" ? "capacity" : "rate limit";
    this.#logger.warn(
      `${this.#subject()} is paused by the server (${why}): ${event.reason ?? "no reason given"}. ` +
        "It waits and resumes by itself; this repeats at most once a minute.",
      { requestId: event.requestId, queueState: event.state },
    );
  };
}

/**
 * Both listeners of a poll: the future's typed event (`handle.emitQueueState`, called as a method:
 * a future's handle keeps its methods on a prototype) and the client's warning.
 */
export function queueStateListeners(
  handle: Pick<FutureHandle, "emitQueueState">,
  observe: (event: QueueStateEvent) => void,
): (event: QueueStateEvent) => void {
  return (event) => {
    handle.emitQueueState(event);
    observe(event);
  };
}
