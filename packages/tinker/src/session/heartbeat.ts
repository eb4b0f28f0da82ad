// The heartbeat loop (contract 2.5 and "Our decisions" 1): sleep, send one beat with its own deadline
// and no retries, record the outcome. It never throws and never stops on its own; it is loud when
// beats keep failing (a warning after `warnAfterMs` without success, repeated at most every
// `warnRepeatMs`, and a log line on recovery), and it stops promptly on `stop()`. Its timers are
// unref'd through the clock, so it never keeps a finished program alive.

import type { Clock } from "../client/clock.js";
import { APIError, APITimeoutError } from "../client/errors.js";
import type { Logger } from "../client/logger.js";
import { sleep } from "../client/wait.js";
import type { TinkerEvents } from "./events.js";

/** Sends one heartbeat. Must honour `signal`; `timeoutMs` is the deadline to pass down. */
export type HeartbeatTransport = (options: { signal: AbortSignal; timeoutMs: number }) => Promise<void>;

export interface HeartbeatLoopOptions {
  sessionId: string;
  send: HeartbeatTransport;
  clock: Clock;
  logger: Logger;
  emit: <E extends keyof TinkerEvents>(event: E, payload: TinkerEvents[E]) => void;
  intervalMs: number;
  timeoutMs: number;
  warnAfterMs: number;
  warnRepeatMs: number;
}

/** Counters of a session's heartbeat, for diagnostics (`ServiceClient.heartbeatStats()`). */
export interface HeartbeatStats {
  /** Beats attempted so far. */
  beatsSent: number;
  /** Beats the server accepted. */
  successes: number;
  /** Beats that failed (any error). */
  failures: number;
  /** Failures since the last success. */
  consecutiveFailures: number;
  /** When the last beat succeeded (ms since the epoch); undefined before the first success. */
  lastSuccessAt: number | undefined;
  /** The error of the latest failed beat; undefined when none failed yet. */
  lastError: Error | undefined;
}

/** Statuses that mean the server rejects the beat itself; logged at error level once per outage. */
const REJECTION_STATUSES = new Set([401, 403, 404]);

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}

export class HeartbeatLoop {
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  /** Baseline for "time since last success": the last success, or when the loop started. */
  private lastOkAt = 0;
  private beatsSent = 0;
  private successes = 0;
  private failures = 0;
  private consecutiveFailures = 0;
  private lastSuccessAt: number | undefined;
  private lastError: Error | undefined;
  private lastWarnAt: number | undefined;
  private rejectionsLogged = new Set<number>();

  constructor(private readonly options: HeartbeatLoopOptions) {}

  /** Starts the loop (idempotent). The first beat goes out one interval from now. */
  start(): void {
    if (this.running || this.controller.signal.aborted) return;
    this.lastOkAt = this.options.clock.now();
    this.running = this.run();
  }

  /** Stops the loop, aborting a beat in flight; resolves once the loop has exited. Idempotent. */
  stop(): Promise<void> {
    this.controller.abort(new Error("heartbeat stopped"));
    return this.running ?? Promise.resolve();
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  stats(): HeartbeatStats {
    return {
      beatsSent: this.beatsSent,
      successes: this.successes,
      failures: this.failures,
      consecutiveFailures: this.consecutiveFailures,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
    };
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        await sleep(this.options.clock, this.options.intervalMs, signal, { background: true });
      } catch {
        return;
      }
      try {
        await this.beat();
      } catch (error) {
        // Nothing in beat() is expected to throw; if something does, the loop still goes on.
        this.safeLog("error", "Heartbeat loop error", error);
      }
    }
  }

  private async beat(): Promise<void> {
    const { clock, timeoutMs, send } = this.options;
    const stopSignal = this.controller.signal;
    const beatController = new AbortController();
    const onStop = () => beatController.abort(stopSignal.reason);
    stopSignal.addEventListener("abort", onStop, { once: true });
    let deadlinePassed = false;
    let timer: unknown;
    // The loop enforces the deadline itself, so even a transport that ignores its signal cannot
    // stall the loop.
    const deadline = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(
        () => {
          deadlinePassed = true;
          beatController.abort(new Error("deadline"));
          reject(new APITimeoutError(`Heartbeat timed out after ${timeoutMs} ms`));
        },
        timeoutMs,
        { background: true },
      );
    });
    deadline.catch(() => {});

    this.beatsSent++;
    try {
      await Promise.race([send({ signal: beatController.signal, timeoutMs }), deadline]);
      if (!stopSignal.aborted) this.onSuccess();
    } catch (error) {
      if (stopSignal.aborted) return;
      this.onFailure(
        deadlinePassed ? new APITimeoutError(`Heartbeat timed out after ${timeoutMs} ms`) : asError(error),
      );
    } finally {
      clock.clearTimeout(timer);
      stopSignal.removeEventListener("abort", onStop);
    }
  }

  private onSuccess(): void {
    const now = this.options.clock.now();
    const { sessionId } = this.options;
    if (this.lastWarnAt !== undefined) {
      const outageMs = now - this.lastOkAt;
      this.safeLog(
        "info",
        `Heartbeat for session ${sessionId} recovered after an outage of ${seconds(outageMs)} s ` +
          `(${this.consecutiveFailures} failed beats).`,
      );
      this.safeEmit("heartbeatRecovered", { sessionId, outageMs });
    } else if (this.consecutiveFailures > 0) {
      this.safeLog(
        "debug",
        `Heartbeat for session ${sessionId} succeeded after ${this.consecutiveFailures} failures`,
      );
    }
    this.successes++;
    this.consecutiveFailures = 0;
    this.lastSuccessAt = now;
    this.lastOkAt = now;
    this.lastWarnAt = undefined;
    this.rejectionsLogged.clear();
  }

  private onFailure(error: Error): void {
    const now = this.options.clock.now();
    const { sessionId, warnAfterMs, warnRepeatMs } = this.options;
    this.failures++;
    this.consecutiveFailures++;
    this.lastError = error;

    const status = error instanceof APIError ? error.status : undefined;
    if (status !== undefined && REJECTION_STATUSES.has(status) && !this.rejectionsLogged.has(status)) {
      this.rejectionsLogged.add(status);
      this.safeLog(
        "error",
        `Heartbeat for session ${sessionId} was rejected with status ${status}: ${error.message}. ` +
          "The session is kept and heartbeats continue.",
      );
      this.safeEmit("heartbeatError", { sessionId, status });
    } else {
      this.safeLog("debug", `Heartbeat for session ${sessionId} failed: ${error.message}`, undefined, {
        consecutiveFailures: this.consecutiveFailures,
      });
    }

    const sinceLastSuccessMs = now - this.lastOkAt;
    const due = this.lastWarnAt === undefined || now - this.lastWarnAt >= warnRepeatMs;
    if (sinceLastSuccessMs > warnAfterMs && due) {
      this.lastWarnAt = now;
      this.safeLog(
        "warn",
        `Heartbeat for session ${sessionId} has not succeeded for ${seconds(sinceLastSuccessMs)} s ` +
          `(${this.consecutiveFailures} consecutive failures; last error: ${error.message}). ` +
          "The server may terminate the session if this continues.",
      );
      this.safeEmit("heartbeatWarning", {
        sessionId,
        sinceLastSuccessMs,
        consecutiveFailures: this.consecutiveFailures,
        lastError: error,
      });
    }
  }

  private safeEmit<E extends keyof TinkerEvents>(event: E, payload: TinkerEvents[E]): void {
    try {
      this.options.emit(event, payload);
    } catch (error) {
      this.safeLog("error", `A '${event}' listener threw`, error);
    }
  }

  private safeLog(
    level: "debug" | "info" | "warn" | "error",
    message: string,
    error?: unknown,
    fields?: Record<string, unknown>,
  ): void {
    try {
      this.options.logger[level](message, error === undefined ? fields : { ...fields, error });
    } catch {
      // Logging must never take the loop down.
    }
  }
}
