// Ordering and execution of submitted work.
//
// `SeqStream` enforces contract 5.4 for one model: requests carry `seq_id` >= 1 (create_model is
// seq 0) and run strictly in that order. A request that arrives early is held until every lower seq
// has arrived; a repeated seq is reported so the caller can answer the original request id
// (decision 6). A gap that never fills is not waited on forever: when no request of the model has
// been released for `gapTimeoutMs`, the held requests fail (the caller is told which) and are
// skipped when their turn comes, so a late arrival of the missing seq still runs. What is held is
// bounded per model, by count and by body bytes: beyond either, a request that would be held is
// refused with a 429 (the client retries it, and by then the missing seq has usually arrived).
//
// `LaneQueue` runs released work one job at a time per model, models side by side; the model work
// runs in worker threads (worker-pool.ts), so polls, heartbeats and new submissions are answered
// while it computes.
import { badRequest, HttpError } from "../errors.js";

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
  /** Requests held behind a gap at most; one more is refused with a 429. */
  maxHeld: number;
  /** Body bytes held behind a gap at most; a request past this is refused with a 429. */
  maxHeldBytes: number;
  /** Runs a request whose turn has come (in seq order). */
  release: (seqId: number, run: () => void) => void;
  /** Called with the held requests abandoned because `missing` never arrived. */
  abandon: (held: readonly { seqId: number; entry: SeqEntry }[], missing: number) => void;
}

export class SeqStream {
  /** The seq id whose turn is next. */
  private next = 1;
  private readonly known = new Map<number, SeqEntry>();
  private readonly held = new Map<number, { run: () => void; bytes: number }>();
  private heldBytes = 0;
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

  /**
   * Throws a 429 when a request of `bytes` at `seqId` would have to be held and the model's held
   * requests are at their bound. Call after `check`.
   */
  checkRoom(seqId: number, bytes: number): void {
    if (seqId === this.next) return;
    const { maxHeld, maxHeldBytes } = this.options;
    const why =
      this.held.size + 1 > maxHeld
        ? `${this.held.size} requests are already held`
        : this.heldBytes + bytes > maxHeldBytes
          ? `${this.heldBytes} + ${bytes} bytes of held requests would pass the limit of ${maxHeldBytes} bytes`
          : undefined;
    if (why === undefined) return;
    throw new HttpError(
      429,
      `seq_id ${seqId} of model ${this.modelId} cannot be held: ${why} while waiting for seq_id ${this.next} (at most ${maxHeld} requests and ${maxHeldBytes} bytes may wait per model); send seq_id ${this.next}, then retry`,
      { "retry-after": "1" },
    );
  }

  /**
   * Accepts a new request of `bytes` body bytes; it runs (through `release`) once every lower seq
   * id has run.
   */
  accept(seqId: number, entry: SeqEntry, run: () => void, bytes = 0): void {
    this.check(seqId);
    this.checkRoom(seqId, bytes);
    this.known.set(seqId, entry);
    this.held.set(seqId, { run, bytes });
    this.heldBytes += bytes;
    this.pump();
  }

  /** Body bytes of the requests held now. */
  get heldByteCount(): number {
    return this.heldBytes;
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
    this.heldBytes = 0;
    return held;
  }

  private heldEntries(): { seqId: number; entry: SeqEntry }[] {
    return this.heldSeqIds().map((seqId) => ({ seqId, entry: this.known.get(seqId) as SeqEntry }));
  }

  private pump(): void {
    let moved = false;
    for (;;) {
      const held = this.held.get(this.next);
      if (held !== undefined) {
        this.held.delete(this.next);
        this.heldBytes -= held.bytes;
        this.options.release(this.next, held.run);
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
    this.heldBytes = 0;
    if (held.length > 0) this.options.abandon(held, this.next);
  }
}

/**
 * Runs queued jobs one at a time per lane (a lane is a model: its jobs run in the order they were
 * pushed, each after the previous one finished, awaited), with lanes running side by side. The
 * model work itself runs in the worker pool, so while a lane awaits, the event loop answers polls,
 * heartbeats and new submissions.
 */
export class LaneQueue {
  private readonly lanes = new Map<string, (() => unknown)[]>();
  private readonly runningJobs = new Set<Promise<void>>();
  private queued = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly onError: (error: unknown) => void) {}

  push(lane: string, job: () => unknown): void {
    if (this.closed) return;
    let jobs = this.lanes.get(lane);
    const start = jobs === undefined;
    if (jobs === undefined) {
      jobs = [];
      this.lanes.set(lane, jobs);
    }
    jobs.push(job);
    this.queued += 1;
    // A new lane starts on the next turn, so a handler answers before its work begins.
    if (start) setImmediate(() => void this.drain(lane));
  }

  /** Jobs queued or running. */
  get size(): number {
    return this.queued + this.runningJobs.size;
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued jobs; resolves once the jobs running now have finished. */
  close(): Promise<void> {
    this.closed = true;
    this.lanes.clear();
    this.queued = 0;
    this.notifyIdle();
    return Promise.all([...this.runningJobs]).then(() => undefined);
  }

  private async drain(lane: string): Promise<void> {
    for (;;) {
      const jobs = this.lanes.get(lane);
      const job = jobs?.shift();
      if (jobs === undefined || job === undefined) {
        this.lanes.delete(lane);
        break;
      }
      this.queued -= 1;
      const running = (async () => {
        try {
          await job();
        } catch (error) {
          this.onError(error);
        }
      })();
      this.runningJobs.add(running);
      await running;
      this.runningJobs.delete(running);
      if (this.closed) return;
    }
    if (this.size === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
