// Batches of a conversation file, epoch after epoch, each epoch in its own seeded order. Where the
// data stands is a small value (`DataPosition`) that the resume record keeps; the batch after a
// position depends only on the file, the options and the position, so a resumed run reads exactly
// the batches an uninterrupted one would.

import type { Datum } from "tinker-ts";
import { RecipeError } from "../run/errors.js";
import { mixSeeds } from "../run/rng.js";
import { emptyStats, type RenderOptions, type RenderStats, renderRecord } from "./conversation-data.js";
import type { JsonlFile } from "./jsonl-file.js";
import { permutation } from "./order.js";

/** How batches are cut: a number of records, or a budget of tokens. */
export type BatchSize =
  | {
      /** Records per batch, a positive integer. */
      examples: number;
    }
  | {
      /**
       * Token budget per batch; a batch holds at least one record, so a longer record is a batch of
       * its own.
       */
      tokens: number;
    };

/** Where the data stands: the epoch and how many records of its order were used. */
export interface DataPosition {
  /** 0-based epoch. */
  epoch: number;
  /** Records of this epoch's order already used. */
  cursor: number;
}

/** One batch and where the data stands after it. */
export interface Batch {
  /** The datums. */
  data: Datum[];
  /** Counts (examples, tokens, truncation, skips). */
  stats: RenderStats;
  /** The position after this batch. */
  next: DataPosition;
}

/** Options of `ConversationBatches`. */
export interface BatchOptions extends RenderOptions {
  /** Records per batch, or tokens per batch. */
  batchSize: BatchSize;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffles. */
  seed: number;
}

function checkBatchSize(size: BatchSize): void {
  const n = "examples" in size ? size.examples : size.tokens;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RecipeError(`the batch size must be a positive integer, got ${JSON.stringify(size)}`);
}

/**
 * Batches of a JSONL conversation file. By examples, a batch is the next `examples` records of the
 * epoch's order (fewer when some are skipped, or at the end of an epoch). By tokens, records are
 * added while the batch stays within the budget (at least one per batch). Batches never span two
 * epochs. Memory: the file's index (12 bytes per record) plus one epoch's order (4 bytes per record).
 */
export class ConversationBatches {
  #orderEpoch = -1;
  #order: Uint32Array = new Uint32Array(0);

  /** Batches of `file` (it must hold at least one record). */
  constructor(
    /** The conversations, one JSON record a line. */
    readonly file: JsonlFile,
    /** Batch size, shuffling seed and rendering, fixed for the life of the batcher. */
    readonly options: BatchOptions,
  ) {
    checkBatchSize(options.batchSize);
    if (file.length === 0) throw new RecipeError(`${file.path} holds no records`);
  }

  /** Records per epoch. */
  get records(): number {
    return this.file.length;
  }

  #orderOf(epoch: number): Uint32Array {
    if (epoch !== this.#orderEpoch) {
      const shuffle = this.options.shuffle ?? true;
      this.#order = permutation(this.file.length, shuffle ? mixSeeds(this.options.seed, epoch) : undefined);
      this.#orderEpoch = epoch;
    }
    return this.#order;
  }

  /** The batch at `position`. */
  next(position: DataPosition): Batch {
    let { epoch, cursor } = position;
    if (cursor >= this.file.length) {
      epoch++;
      cursor = 0;
    }
    const order = this.#orderOf(epoch);
    const stats = emptyStats();
    const data: Datum[] = [];
    const size = this.options.batchSize;
    if ("examples" in size) {
      const end = Math.min(order.length, cursor + size.examples);
      for (; cursor < end; cursor++) {
        for (const r of renderRecord(this.file, order[cursor]!, this.options, stats)) data.push(r.datum);
      }
    } else {
      while (cursor < order.length) {
        const before = { ...stats };
        const rendered = renderRecord(this.file, order[cursor]!, this.options, stats);
        if (rendered.length > 0 && data.length > 0 && stats.tokens > size.tokens) {
          Object.assign(stats, before); // the record goes into the next batch instead
          break;
        }
        cursor++;
        for (const r of rendered) data.push(r.datum);
        if (stats.tokens >= size.tokens) break;
      }
    }
    return { data, stats, next: { epoch, cursor } };
  }

  /** Batches in `epochs` epochs from the start (by tokens this renders every record once per epoch). */
  countSteps(epochs: number): number {
    const size = this.options.batchSize;
    if ("examples" in size) return epochs * Math.ceil(this.file.length / size.examples);
    let steps = 0;
    let position: DataPosition = { epoch: 0, cursor: 0 };
    while (position.epoch < epochs) {
      position = this.next(position).next;
      steps++;
      if (position.cursor >= this.file.length) position = { epoch: position.epoch + 1, cursor: 0 };
    }
    return steps;
  }
}
