// A 402 (payment required) is not an error to retry but a pause to wait out (contract 1.6): both
// the submit retries and the poll loop sleep 5 s at a time while the billing window lasts. The
// window starts at the first 402 and ends the pause for good after `maxPauseMs`; a 402 more than
// five minutes after the previous one starts a new window.

/** The waits of a billing pause, shared by submit and poll. */
export const BILLING_PAUSE = {
  sleepMs: 5000,
  /** A 402 seen more than this after the previous one starts a new pause window. */
  windowResetMs: 5 * 60_000,
  /** The default of `billing_exception_max_pause_duration_sec` (1 h). */
  defaultMaxPauseMs: 3_600_000,
} as const;

/** The pause window of one submit or one poll loop. */
export class BillingPause {
  readonly #maxPauseMs: number;
  #start: number | undefined;
  #last: number | undefined;

  constructor(maxPauseMs: number = BILLING_PAUSE.defaultMaxPauseMs) {
    this.#maxPauseMs = maxPauseMs;
  }

  /** Records a 402 at time `t`; true while the pause may go on (sleep and try again). */
  allows(t: number): boolean {
    if (
      this.#start === undefined ||
      this.#last === undefined ||
      t - this.#last > BILLING_PAUSE.windowResetMs
    ) {
      this.#start = t;
    }
    this.#last = t;
    return t - this.#start < this.#maxPauseMs;
  }
}
