// The throttles one ServiceClient shares across its training and sampling clients (contract 1.7,
// 3.2): byte budgets for forward_backward and asample submissions, a cap on asample POSTs in
// flight, and the sampling backoff a 429 sets, each held only until the submit is acknowledged;
// and the in-flight response budget, which a `complete_metadata` poll answer reserves from until
// its future's payload has been fetched.

import { abortableSleep, type SleepFn, throwIfAborted } from "../client/wait.js";
import type { ClientConfig } from "../session/client-config.js";
import { ByteBudget } from "./byte-budget.js";

export const SAMPLE_DISPATCH = {
  /** asample POSTs in flight at once. */
  maxInFlight: 400,
  /** …within `recentMs` of a 429. */
  maxInFlightAfter429: 10,
  /** Byte estimates count this many times within `recentMs` of a 429. */
  bytesFactorAfter429: 20,
  recentMs: 10_000,
  /** A backoff is waited out in steps of at most this. */
  backoffStepMs: 1000,
} as const;

export class DispatchThrottles {
  readonly fwdbwdBytes: ByteBudget;
  readonly sampleBytes: ByteBudget;
  /** `inflight_response_bytes_semaphore_size` (50 MiB): announced result payloads being fetched. */
  readonly responseBytes: ByteBudget;
  readonly #now: () => number;
  #sampleInFlight = 0;
  readonly #inFlightWaiters: (() => void)[] = [];
  #last429: number | undefined;
  #backoffUntil = 0;

  constructor(config: ClientConfig, now: () => number) {
    this.fwdbwdBytes = new ByteBudget(config.fwdbwdDispatchBytesSemaphoreSize);
    this.sampleBytes = new ByteBudget(config.sampleDispatchBytesSemaphoreSize);
    this.responseBytes = new ByteBudget(config.inflightResponseBytesSemaphoreSize);
    this.#now = now;
  }

  /** asample POSTs currently in flight (for tests and diagnostics). */
  get sampleInFlight(): number {
    return this.#sampleInFlight;
  }

  #recent429(): boolean {
    return this.#last429 !== undefined && this.#now() - this.#last429 < SAMPLE_DISPATCH.recentMs;
  }

  /** Records a 429 on asample: a global backoff of `waitMs`, and tighter limits for a while. */
  sampleRateLimited(waitMs: number): void {
    const t = this.#now();
    this.#last429 = t;
    this.#backoffUntil = Math.max(this.#backoffUntil, t + waitMs);
  }

  /**
   * Waits out a sampling backoff, then for an in-flight slot and for `promptBytes` (×20 after a
   * recent 429) of the sample budget. Returns the release, to call once the POST is answered.
   */
  async acquireSample(promptBytes: number, sleep: SleepFn, signal?: AbortSignal): Promise<() => void> {
    for (let wait = this.#backoffUntil - this.#now(); wait > 0; wait = this.#backoffUntil - this.#now()) {
      await abortableSleep(sleep, Math.min(wait, SAMPLE_DISPATCH.backoffStepMs), signal);
    }
    if (this.#inFlightWaiters.length === 0 && this.#sampleInFlight < this.#inFlightLimit()) {
      this.#sampleInFlight++;
    } else {
      throwIfAborted(signal);
      // Wait in arrival order; a release hands its slot straight to the first waiter (so one
      // release wakes one waiter, not all of them: with 1,000 calls queued behind 400 slots, waking
      // every waiter on every release allocated a promise per waiter per release, 69 MB in a burst).
      await new Promise<void>((resolve) => this.#inFlightWaiters.push(resolve));
    }
    let releaseBytes: () => void;
    try {
      const factor = this.#recent429() ? SAMPLE_DISPATCH.bytesFactorAfter429 : 1;
      releaseBytes = await this.sampleBytes.acquire(promptBytes * factor, signal);
    } catch (error) {
      this.#releaseSlot();
      throw error;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      releaseBytes();
      this.#releaseSlot();
    };
  }

  #inFlightLimit(): number {
    return this.#recent429() ? SAMPLE_DISPATCH.maxInFlightAfter429 : SAMPLE_DISPATCH.maxInFlight;
  }

  #releaseSlot(): void {
    this.#sampleInFlight--;
    // The limit may have risen since (a 429 window ended): admit every waiter that fits now.
    while (this.#inFlightWaiters.length > 0 && this.#sampleInFlight < this.#inFlightLimit()) {
      this.#sampleInFlight++;
      (this.#inFlightWaiters.shift() as () => void)();
    }
  }
}
