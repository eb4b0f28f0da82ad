// Time and timers behind one small interface, so the heartbeat, the JWT refresh and the retry sleeps
// can be driven by a fake clock in tests at their real defaults (10 s, 120 s, 300 s) without waiting.
// Waiting on a clock (sleep, backoff, abort) is in wait.ts.

export type TimerHandle = unknown;

export interface TimerOptions {
  /**
   * Background timers (the heartbeat, JWT refresh) must not keep a finished script alive, so real
   * clocks `unref()` them. A timer someone is awaiting (a retry backoff, a poll wait) is left
   * referenced: otherwise a script whose only pending work is that wait would exit in the middle.
   */
  background?: boolean;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms, options) {
    const handle = setTimeout(fn, ms);
    // Bun and Node return an object with unref(); other runtimes may return a number.
    if (options?.background) (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
