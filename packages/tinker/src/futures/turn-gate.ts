// Per-client ordering of training requests (contract 5.4). Every call takes its seq ids when it is
// made (synchronously, so call order is seq order) and a turn: its submit may start only once every
// earlier call has finished submitting (has its request id, or has given up). Polling happens outside
// the gate, so forwardBackward (seq n) and optimStep (seq n+1) can be in flight together while the
// server runs them in seq order.

export interface Turn {
  /** The reserved seq ids, consecutive. */
  readonly seqIds: readonly number[];
  /** Resolves when every earlier turn has been released. */
  wait(): Promise<void>;
  /** Lets the next turn start. Idempotent; must be called on every path, failures included. */
  release(): void;
}

export class TurnGate {
  #tail: Promise<void> = Promise.resolve();
  #next: number;

  /** @param firstSeq the seq id of the first reservation (1 after create_model, contract 2.7). */
  constructor(firstSeq = 1) {
    this.#next = firstSeq;
  }

  /** The seq id the next reservation gets. */
  get nextSeqId(): number {
    return this.#next;
  }

  reserve(count = 1): Turn {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`count must be >= 1, got ${count}`);
    const seqIds = Array.from({ length: count }, (_, i) => this.#next + i);
    this.#next += count;
    const previous = this.#tail;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tail = released;
    return {
      seqIds,
      wait: () => previous,
      release: () => release(),
    };
  }
}
