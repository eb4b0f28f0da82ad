// A counting semaphore for `sample_max_concurrent_requests` (contract 3.2): at most that many
// sample() calls of one client are in flight; the rest wait in call order.

/** A counting semaphore; `acquire()` resolves with a release function (calling it twice is a no-op). */
export class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  /** `size` permits (at least 1). */
  constructor(size: number) {
    this.#free = Math.max(1, size);
  }
  /** Waits for a permit; the returned function gives it back. */
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
