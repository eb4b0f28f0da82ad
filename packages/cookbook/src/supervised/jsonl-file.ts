// A JSONL file too big to hold in memory, read one record at a time. Opening it makes one pass
// that notes where each non-blank line starts and how long it is: 12 bytes per line (a float64
// offset and a uint32 length), whatever the line holds. After that any record is one positioned
// read, so records can be visited in any order (a shuffled epoch) without loading the file.

import { closeSync, openSync, readSync } from "node:fs";
import { RecipeError } from "../run/errors.js";

const CHUNK = 1 << 20;

/** Grows a typed array by doubling. */
class Growable<T extends Float64Array | Uint32Array> {
  array: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.array = make(1024);
  }
  push(v: number): void {
    if (this.length === this.array.length) {
      const bigger = this.make(this.array.length * 2);
      bigger.set(this.array);
      this.array = bigger;
    }
    this.array[this.length++] = v;
  }
  trimmed(): T {
    return this.array.subarray(0, this.length) as T;
  }
}

/** The records (non-blank lines) of a JSONL file, by index. */
export class JsonlFile {
  readonly #fd: number;
  readonly #starts: Float64Array;
  readonly #lengths: Uint32Array;
  /** Bytes of the file when it was indexed. */
  readonly bytes: number;

  private constructor(
    /** The file that was indexed. */
    readonly path: string,
    fd: number,
    starts: Float64Array,
    lengths: Uint32Array,
    bytes: number,
  ) {
    this.#fd = fd;
    this.#starts = starts;
    this.#lengths = lengths;
    this.bytes = bytes;
  }

  /** Opens and indexes `path` (one streaming pass, 1 MiB at a time). */
  static open(path: string): JsonlFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new RecipeError(`cannot open ${path}: ${(e as Error).message}`);
    }
    const starts = new Growable((n) => new Float64Array(n));
    const lengths = new Growable((n) => new Uint32Array(n));
    const buf = Buffer.allocUnsafe(CHUNK);
    let offset = 0;
    let lineStart = 0;
    let blank = true;
    const endLine = (end: number) => {
      if (!blank) {
        starts.push(lineStart);
        lengths.push(end - lineStart);
      }
      lineStart = end + 1;
      blank = true;
    };
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, offset);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      let i = 0;
      while (i < n) {
        if (blank) {
          // Only the start of a line is scanned byte by byte (to tell blank lines); the rest of
          // it is skipped by indexOf, which is what keeps the pass fast.
          let c = chunk[i]!;
          while (c === 0x20 || c === 0x09 || c === 0x0d) {
            if (++i === n) break;
            c = chunk[i]!;
          }
          if (i === n) break;
          if (c !== 0x0a) blank = false;
        }
        const nl = chunk.indexOf(0x0a, i);
        if (nl === -1) break;
        endLine(offset + nl);
        i = nl + 1;
      }
      offset += n;
    }
    endLine(offset);
    return new JsonlFile(path, fd, starts.trimmed(), lengths.trimmed(), offset);
  }

  /** How many records. */
  get length(): number {
    return this.#starts.length;
  }

  /** Bytes of memory the index takes (12 per record). */
  get indexBytes(): number {
    return this.#starts.byteLength + this.#lengths.byteLength;
  }

  /** Record `i` parsed as JSON; a broken line is a RecipeError naming its byte offset. */
  record(i: number): unknown {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.length)
      throw new RecipeError(`record ${i} is out of range (the file has ${this.length})`);
    const length = this.#lengths[i]!;
    const start = this.#starts[i]!;
    const buf = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = readSync(this.#fd, buf, read, length - read, start + read);
      if (n === 0) throw new RecipeError(`${this.path} changed while it was read (record ${i} is cut short)`);
      read += n;
    }
    try {
      return JSON.parse(buf.toString("utf8"));
    } catch (e) {
      throw new RecipeError(
        `${this.path}: record ${i} (at byte ${start}) is not JSON: ${(e as Error).message}`,
      );
    }
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}
