// The dynamic-config refresh of a session (contract 2.1 step 5, 2.3), as the Python SDK runs it: sleep
// first (start-up already fetched the values), then fetch `client/dynamic_config` once (no retries,
// 10 s timeout), every max(refresh_interval_sec, 10) s, the interval read afresh after each fetch so
// a server that changes it changes the cadence. A failed fetch keeps the last good values. The
// timer is a background one: it never keeps the process alive.

import type { Clock, TimerHandle } from "../client/clock.js";
import type { Logger } from "../client/logger.js";
import type { DynamicConfig } from "./client-config.js";

/** Python's floor on the interval: a server cannot make clients ask more often than this. */
export const MIN_REFRESH_INTERVAL_SEC = 10;

/** What the refresh loop needs: the fetch (one attempt), time and a logger. */
export interface DynamicConfigRefreshInit {
  /** The values start-up fetched. */
  initial: DynamicConfig;
  /** One `client/dynamic_config` request, parsed; aborted by `signal` on stop. */
  fetch: (signal: AbortSignal) => Promise<DynamicConfig>;
  clock: Clock;
  logger: Logger;
}

/** Counters of the refresh loop. */
export interface DynamicConfigRefreshStats {
  /** Fetches that returned values. */
  refreshed: number;
  /** Fetches that failed (the last good values were kept). */
  failed: number;
}

/** Keeps a session's dynamic config current; `current` always holds the last good values. */
export class DynamicConfigRefresh {
  #current: DynamicConfig;
  readonly #init: DynamicConfigRefreshInit;
  readonly #stopped = new AbortController();
  #timer: TimerHandle | undefined;
  #inFlight: Promise<void> | undefined;
  readonly #stats: DynamicConfigRefreshStats = { refreshed: 0, failed: 0 };

  constructor(init: DynamicConfigRefreshInit) {
    this.#init = init;
    this.#current = init.initial;
  }

  /** The last good values. */
  get current(): DynamicConfig {
    return this.#current;
  }

  /** How many refreshes succeeded and failed so far. */
  stats(): DynamicConfigRefreshStats {
    return { ...this.#stats };
  }

  /** The wait before the next fetch, ms. */
  get intervalMs(): number {
    return Math.max(this.#current.refreshIntervalSec, MIN_REFRESH_INTERVAL_SEC) * 1000;
  }

  /** Starts the loop (the first fetch comes one interval from now). */
  start(): void {
    if (this.#stopped.signal.aborted || this.#timer !== undefined) return;
    this.#schedule();
  }

  /** Stops the loop and aborts a fetch in flight. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    if (this.#timer !== undefined) this.#init.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  #schedule(): void {
    if (this.#stopped.signal.aborted) return;
    this.#timer = this.#init.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#inFlight = this.#refreshOnce().finally(() => {
          this.#inFlight = undefined;
          this.#schedule();
        });
      },
      this.intervalMs,
      { background: true },
    );
  }

  async #refreshOnce(): Promise<void> {
    try {
      const next = await this.#init.fetch(this.#stopped.signal);
      if (this.#stopped.signal.aborted) return;
      this.#stats.refreshed++;
      if (next.refreshIntervalSec !== this.#current.refreshIntervalSec) {
        this.#init.logger.debug("Dynamic client config updated", {
          refreshIntervalSec: next.refreshIntervalSec,
        });
      }
      this.#current = next;
    } catch (error) {
      if (this.#stopped.signal.aborted) return;
      this.#stats.failed++;
      this.#init.logger.debug("Dynamic client config refresh failed; keeping the last values", { error });
    }
  }
}
