// A run's folder: the resume record (`checkpoint.json`) and the metrics log (`metrics.jsonl`).
// The record is written to a temporary file, fsynced and renamed over the old one, so a process
// killed at any moment leaves either the previous record or the new one, never half of one.
// The metrics log is cut back to the length the record noted, so a resumed run does not log the
// steps it redoes twice.

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { RecipeError } from "./errors.js";

/** File names inside a run folder. */
export const RUN_FILES = Object.freeze({
  /** The resume record (a {@link ResumeRecord}, JSON), rewritten atomically after each checkpoint. */
  record: "checkpoint.json",
  /** One JSON line of metrics per step, appended. */
  metrics: "metrics.jsonl",
});

/** What a loop needs to continue after a restart. */
export interface ResumeRecord<Position = unknown> {
  /** Format version of this record. */
  version: 1;
  /** Which loop wrote it (`supervised`, `rl`); a folder is not shared between loops. */
  loop: string;
  /** The settings that must not change across a restart, as the loop saw them. */
  fingerprint: string;
  /** Steps (or iterations) completed and saved. */
  step: number;
  /** `tinker://…/weights/<name>`: weights and optimizer state after `step`. */
  statePath: string;
  /** Where the data continues (loop-specific). */
  position: Position;
  /** State of the loop's random number generator after `step`. */
  rngState: number;
  /** Bytes of `metrics.jsonl` that hold steps up to `step`. */
  metricsBytes: number;
  /** True once the run finished; a rerun then trains nothing. */
  done: boolean;
  /** Final records: `tinker://…/sampler_weights/<name>` of the final weights, to sample from. */
  samplerPath?: string;
}

/** Creates the folder when missing and returns the paths inside it. */
export function openRunDir(dir: string): { record: string; metrics: string } {
  mkdirSync(dir, { recursive: true });
  return { record: join(dir, RUN_FILES.record), metrics: join(dir, RUN_FILES.metrics) };
}

/** The record in `path`, or undefined when there is none yet. */
export function readRecord<P>(path: string, loop: string, fingerprint: string): ResumeRecord<P> | undefined {
  if (!existsSync(path)) return undefined;
  const record = JSON.parse(readFileSync(path, "utf8")) as ResumeRecord<P>;
  if (record.version !== 1 || record.loop !== loop)
    throw new RecipeError(
      `${path} was written by another loop or version (${record.loop} v${record.version}); use a new run folder`,
    );
  if (record.fingerprint !== fingerprint)
    throw new RecipeError(
      `${path} belongs to a run with other settings; restart with the same settings or use a new run folder\n  saved:   ${record.fingerprint}\n  now:     ${fingerprint}`,
    );
  return record;
}

/** Writes the record atomically (temporary file, fsync, rename). */
export function writeRecord(path: string, record: ResumeRecord): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Appends metric rows to a JSONL file, one per step; each line is fsynced before it counts. */
export class MetricsLog {
  readonly #fd: number;
  #bytes: number;

  /** Opens `path`, cutting it to `keepBytes` (what the resume record vouches for; 0 for a new run). */
  constructor(
    /** The JSONL file the rows are appended to. */
    readonly path: string,
    keepBytes: number,
  ) {
    if (!existsSync(path)) closeSync(openSync(path, "w"));
    if (statSync(path).size > keepBytes) truncateSync(path, keepBytes);
    this.#bytes = statSync(path).size;
    this.#fd = openSync(path, "a");
  }

  /** Bytes written so far (the length to note in a resume record). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends one row. */
  write(row: Record<string, unknown>): void {
    const line = `${JSON.stringify(row)}\n`;
    writeSync(this.#fd, line);
    this.#bytes += Buffer.byteLength(line);
  }

  /** Flushes to disk (before a record that counts these bytes is written). */
  sync(): void {
    fsyncSync(this.#fd);
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}

/** The rows of a metrics file. */
export function readMetrics(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
