// The telemetry queue of one session (or of a session-less REST connection): events are queued
// synchronously (nothing waits on the network where they are made), sent in batches of at most 100
// every 10 s from a background timer, right away after an exception, and on close. The queue keeps
// at most 10 000 events and drops newer ones past that, as the Python SDK does.
//
// Where this differs from the Python SDK, on purpose: a batch the server fails (5xx, 429, no
// connection) is retried after 1 s at most 3 times, not forever; a 4xx other than 408/429 (a server
// without the route answers 404) drops the batch and turns telemetry off for this session, so a
// server that does not take telemetry is not polled every second for the life of the program.

import type { TelemetrySendRequest } from "../api/telemetry.js";
import type { Clock } from "../client/clock.js";
import { APIError } from "../client/errors.js";
import type { Logger } from "../client/logger.js";
import { redact } from "../client/redact.js";
import { SDK_VERSION } from "../client/version.js";
import { EventFactory, type TelemetryEvent, type TelemetrySeverity } from "./events.js";

export const TELEMETRY_BATCH_SIZE = 100;
export const TELEMETRY_FLUSH_INTERVAL_MS = 10_000;
export const TELEMETRY_MAX_QUEUE = 10_000;
/** Attempts per batch (the first send and two resends, 1 s apart). */
export const TELEMETRY_SEND_ATTEMPTS = 3;
/** How long a fatal error waits for its events to be sent before it is raised anyway. */
export const TELEMETRY_DRAIN_TIMEOUT_MS = 30_000;

/** One UUID per process (contract 3.8: `process_uuid`, required from 0.24.0). */
const PROCESS_UUID = crypto.randomUUID();

/** `platform.system()` names, as the Python SDK reports the platform. */
function platformName(): string {
  const p = (globalThis as { process?: { platform?: string } }).process?.platform ?? "unknown";
  return ({ linux: "Linux", darwin: "Darwin", win32: "Windows" } as Record<string, string>)[p] ?? p;
}

export interface TelemetryInit {
  /** The session id, or undefined for a session-less connection (`sessionless-<uuid>`, no start/end events). */
  sessionId: string | undefined;
  send: (body: TelemetrySendRequest) => Promise<void>;
  clock: Clock;
  logger: Logger;
  /** Sleeps between resends; aborts on close. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * The telemetry of a session, as the Python SDK's `Telemetry` (returned by `getTelemetry()`):
 * session start and end, failures of public calls with their category, and events you log
 * yourself. Events carry no request payloads, and every string is passed through the SDK's secret
 * redaction, so no API key or JWT is sent. Off when `TINKER_TELEMETRY=0` (or `{telemetry: false}`).
 */
export class Telemetry {
  /** The id batches are sent under: the session id, or `sessionless-<uuid>` for REST-only use. */
  readonly sessionId: string;
  readonly #sessionless: boolean;
  readonly #startedAt: number;
  readonly #events: EventFactory;
  readonly #init: TelemetryInit;
  readonly #queue: TelemetryEvent[] = [];
  readonly #closed = new AbortController();
  #timer: unknown;
  #flushing: Promise<void> | undefined;
  #flushAgain = false;
  #disabled = false;
  #endSent = false;

  /** @internal Made by the SDK when a session (or session-less connection) opens. */
  constructor(init: TelemetryInit) {
    this.#init = init;
    this.#sessionless = init.sessionId === undefined;
    this.sessionId = init.sessionId ?? `sessionless-${crypto.randomUUID()}`;
    this.#startedAt = init.clock.now();
    this.#events = new EventFactory(() => init.clock.now());
    if (!this.#sessionless) this.#push([this.#events.sessionStart(this.#startedAt)]);
    this.#schedule();
  }

  /** Events queued and not yet sent. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Queues a named event (keep names low-cardinality; `data` must not hold secrets or training
   * data — strings in it are redacted anyway). Returns false when the queue is full or closed.
   */
  log(
    eventName: string,
    eventData: Record<string, unknown> = {},
    severity: TelemetrySeverity = "INFO",
  ): boolean {
    const data = JSON.parse(redact(JSON.stringify(eventData ?? {}))) as Record<string, unknown>;
    return this.#push([this.#events.generic(eventName, data, severity)]);
  }

  /** Queues a failure (a `user_error` event for a user's error) and starts sending; does not wait. */
  logException(error: unknown, severity: TelemetrySeverity = "ERROR"): boolean {
    const logged = this.#push([this.#events.exception(error, severity)]);
    void this.flush();
    return logged;
  }

  /**
   * A failure that ends the session's work, as a public call that fails does in the Python SDK:
   * the exception event, then SESSION_END (once), sent now; resolves when they were sent (or could
   * not be, or after 30 s).
   */
  async logFatalException(error: unknown, severity: TelemetrySeverity = "ERROR"): Promise<boolean> {
    const events = [this.#events.exception(error, severity)];
    if (!this.#sessionless && !this.#endSent) {
      this.#endSent = true;
      events.push(this.#events.sessionEnd(this.#startedAt));
    }
    const logged = this.#push(events);
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => {
      timer = this.#init.clock.setTimeout(resolve, TELEMETRY_DRAIN_TIMEOUT_MS, { background: true });
    });
    await Promise.race([this.flush(), timeout]);
    this.#init.clock.clearTimeout(timer);
    if (logged) this.#init.logger.info(`Exception logged for session ID: ${this.sessionId}`);
    return logged;
  }

  /** Sends every queued event now; resolves when the queue is empty or the rest could not be sent. */
  flush(): Promise<void> {
    if (this.#flushing) {
      // An event queued during a send goes out in the send after it.
      this.#flushAgain = true;
      return this.#flushing;
    }
    this.#flushing = (async () => {
      try {
        do {
          this.#flushAgain = false;
          await this.#drain();
        } while (this.#flushAgain && this.#queue.length > 0);
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  /** @internal Stops the timer after sending what is queued (one attempt per batch, 5 s each). */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#init.clock.clearTimeout(this.#timer);
    this.#closed.abort();
    await this.flush();
  }

  #push(events: TelemetryEvent[]): boolean {
    if (this.#disabled || this.#closed.signal.aborted) return false;
    if (this.#queue.length + events.length > TELEMETRY_MAX_QUEUE) {
      this.#init.logger.warn("Telemetry queue full, dropping events");
      return false;
    }
    this.#queue.push(...events);
    return true;
  }

  #schedule(): void {
    this.#timer = this.#init.clock.setTimeout(
      () => {
        void this.flush().finally(() => {
          if (!this.#closed.signal.aborted) this.#schedule();
        });
      },
      TELEMETRY_FLUSH_INTERVAL_MS,
      { background: true },
    );
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#disabled) {
      const events = this.#queue.splice(0, TELEMETRY_BATCH_SIZE);
      await this.#sendWithRetry({
        events,
        platform: platformName(),
        sdk_version: SDK_VERSION,
        session_id: this.sessionId,
        process_uuid: PROCESS_UUID,
      });
    }
  }

  async #sendWithRetry(body: TelemetrySendRequest): Promise<void> {
    const attempts = this.#closed.signal.aborted ? 1 : TELEMETRY_SEND_ATTEMPTS;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.#init.send(body);
        return;
      } catch (error) {
        const status = error instanceof APIError ? error.status : undefined;
        if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
          this.#disabled = true;
          this.#queue.length = 0;
          this.#init.logger.debug(`Telemetry turned off for this session: the server answered ${status}`);
          return;
        }
        this.#init.logger.debug(`Failed to send a telemetry batch (attempt ${attempt} of ${attempts})`);
        if (attempt === attempts) return;
        try {
          await this.#init.sleep(1_000, this.#closed.signal);
        } catch {
          return;
        }
      }
    }
  }
}
