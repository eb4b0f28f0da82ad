// A budget of bytes in flight (contract 1.7's dispatch "semaphores"). A request is admitted while
// the remaining balance is >= 0, and then takes its whole size, so the balance may go negative: one
// request larger than the whole budget still gets through, alone. Waiters are admitted in arrival
// order, so a large request is not starved by a stream of small ones.

import { watchAbort } from "../client/abort-watch.js";
import { abortError } from "../client/wait.js";

interface Waiter {
  bytes: number;
  admit: () => void;
}

export class ByteBudget {
  #balance: number;
  readonly #queue: Waiter[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isFinite(capacity) || capacity < 0) {
      throw new RangeError(`a byte budget must be a number >= 0, got ${capacity}`);
    }
    this.#balance = capacity;
  }

  /** What is left; negative while an oversized request is in flight. */
  get balance(): number {
    return this.#balance;
  }

  /** Requests waiting for room. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Waits for room, takes `bytes`, and returns the function that gives them back (idempotent).
   * An aborted `signal` removes the waiter and rejects; nothing is taken then.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const size = Math.max(0, bytes);
    const release = this.#releaser(size);
    if (this.#queue.length === 0 && this.#balance >= 0) {
      this.#balance -= size;
      return Promise.resolve(release);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      let unwatch = () => {};
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(abortError(signal));
        this.#drain();
      };
      const waiter: Waiter = {
        bytes: size,
        admit: () => {
          unwatch();
          resolve(release);
        },
      };
      unwatch = watchAbort(signal, onAbort);
      this.#queue.push(waiter);
    });
  }

  /** Runs `fn` holding `bytes`; they are given back however `fn` ends. */
  async with<T>(bytes: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(bytes, signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(bytes: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#balance += bytes;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#balance >= 0) {
      const next = this.#queue.shift();
      if (!next) return;
      this.#balance -= next.bytes;
      next.admit();
    }
  }
}
