// Ordering and execution of submitted work.
//
// `SeqStream` enforces contract 5.4 for one model: requests carry `seq_id` >= 1 (create_model is
// seq 0) and run strictly in that order. A request that arrives early is held until every lower seq
// has arrived; a repeated seq is reported so the caller can answer the original request id
// (decision 6). A gap that never fills is not waited on forever: when no request of the model has
// been released for `gapTimeoutMs`, the held requests fail (the caller is told which) and are
// skipped when their turn comes, so a late arrival of the missing seq still runs.
//
// `WorkQueue` runs released work one item per event-loop turn (setImmediate), so polls,
// heartbeats and new submissions are answered between two pieces of model work.
import { badRequest } from "../errors.js";

export interface SeqEntry {
  readonly requestId: string;
  readonly kind: string;
}

export interface SeqStreamOptions {
  /** Held requests fail after this long without the stream moving. */
  gapTimeoutMs: number;
  /** How far past the next expected seq a request may be. */
  maxAhead: number;
  /** Seq ids remembered below the next expected one, to answer repeats. */
  keepBehind: number;
  /** Runs a request whose turn has come (in seq order). */
  release: (seqId: number, run: () => void) => void;
  /** Called with the held requests abandoned because `missing` never arrived. */
  abandon: (held: readonly { seqId: number; entry: SeqEntry }[], missing: number) => void;
}

export class SeqStream {
  /** The seq id whose turn is next. */
  private next = 1;
  private readonly known = new Map<number, SeqEntry>();
  private readonly held = new Map<number, () => void>();
  /** Abandoned by the gap timeout: passed over when their turn comes. */
  private readonly skipped = new Set<number>();
  private readonly appliedIds: number[] = [];
  private gapTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly modelId: string,
    private readonly options: SeqStreamOptions,
  ) {}

  /** The seq id that runs next (1 for a fresh model). */
  get nextSeqId(): number {
    return this.next;
  }

  /** The request that already took this seq id, if it is remembered. */
  lookup(seqId: number): SeqEntry | undefined {
    return this.known.get(seqId);
  }

  /** Throws a 400 unless `seqId` could still be accepted. Call after `lookup` found nothing. */
  check(seqId: number): void {
    if (this.closed) throw badRequest(`Model ${this.modelId} has been unloaded`);
    if (seqId < this.next) {
      throw badRequest(
        `seq_id ${seqId} of model ${this.modelId} is lower than the requests already run (next is ${this.next}) and is not a known request; seq_ids start at 1 after create_model and each request takes the next one`,
      );
    }
    if (seqId >= this.next + this.options.maxAhead) {
      throw badRequest(
        `seq_id ${seqId} of model ${this.modelId} is too far ahead: the next one to run is ${this.next}, and at most ${this.options.maxAhead} may wait for earlier ones`,
      );
    }
  }

  /** Accepts a new request; it runs (through `release`) once every lower seq id has run. */
  accept(seqId: number, entry: SeqEntry, run: () => void): void {
    this.check(seqId);
    this.known.set(seqId, entry);
    this.held.set(seqId, run);
    this.pump();
  }

  /** Records that the request of `seqId` did its work (for tests and diagnostics). */
  markApplied(seqId: number): void {
    this.appliedIds.push(seqId);
    if (this.appliedIds.length > this.options.keepBehind) this.appliedIds.shift();
  }

  /** Seq ids whose work ran, in the order it ran (the newest `keepBehind`). */
  applied(): number[] {
    return [...this.appliedIds];
  }

  /** Seq ids waiting for a lower one, ascending. */
  heldSeqIds(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Stops the stream; returns the requests still held so the caller can fail them. */
  close(): { seqId: number; entry: SeqEntry }[] {
    this.closed = true;
    this.clearTimer();
    const held = this.heldEntries();
    this.held.clear();
    return held;
  }

  private heldEntries(): { seqId: number; entry: SeqEntry }[] {
    return this.heldSeqIds().map((seqId) => ({ seqId, entry: this.known.get(seqId) as SeqEntry }));
  }

  private pump(): void {
    let moved = false;
    for (;;) {
      const run = this.held.get(this.next);
      if (run !== undefined) {
        this.held.delete(this.next);
        this.options.release(this.next, run);
      } else if (this.skipped.has(this.next)) {
        this.skipped.delete(this.next);
      } else {
        break;
      }
      this.known.delete(this.next - this.options.keepBehind);
      this.next += 1;
      moved = true;
    }
    if (this.held.size === 0) this.clearTimer();
    else if (moved || this.gapTimer === undefined) this.startTimer();
  }

  private startTimer(): void {
    this.clearTimer();
    this.gapTimer = setTimeout(() => this.abandonHeld(), this.options.gapTimeoutMs);
    this.gapTimer.unref();
  }

  private clearTimer(): void {
    if (this.gapTimer !== undefined) clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  private abandonHeld(): void {
    this.gapTimer = undefined;
    const held = this.heldEntries();
    for (const { seqId } of held) {
      this.held.delete(seqId);
      this.skipped.add(seqId);
    }
    if (held.length > 0) this.options.abandon(held, this.next);
  }
}

/** Runs queued work in FIFO order, one item per event-loop turn. */
export class WorkQueue {
  private readonly jobs: (() => void)[] = [];
  private scheduled = false;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly onError: (error: unknown) => void) {}

  push(job: () => void): void {
    if (this.closed) return;
    this.jobs.push(job);
    this.schedule();
  }

  get size(): number {
    return this.jobs.length + (this.running ? 1 : 0);
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued work; the item running now (if any) finishes. */
  close(): void {
    this.closed = true;
    this.jobs.length = 0;
    this.notifyIdle();
  }

  private schedule(): void {
    if (this.scheduled || this.jobs.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const job = this.jobs.shift();
      if (job === undefined || this.closed) return;
      this.running = true;
      try {
        job();
      } catch (error) {
        this.onError(error);
      } finally {
        this.running = false;
      }
      if (this.jobs.length === 0) this.notifyIdle();
      else this.schedule();
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
