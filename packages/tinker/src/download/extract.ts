// Safe extraction of a checkpoint archive (a tar, possibly gzip-compressed) into a directory the
// caller made for it. tar-stream parses the format (ustar, pax and GNU long names); the safety rules
// are ours, and every refusal names the entry and the rule:
//  - only regular files and directories; symlinks, hard links, devices and fifos are refused
//    (a link is how an archive reaches outside the target, so none is allowed, not even "inside");
//  - no absolute names, no drive letters, no backslashes, no '..' segments, no control characters;
//  - no entry twice, no file where a directory is needed;
//  - the archive must be complete: tar-stream fails on a cut-off entry, and we also require the
//    end-of-archive zero blocks, so an archive cut exactly between two entries is caught too.
// Files are written with mode 0644 and directories 0755 whatever the archive says.

import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { TinkerError } from "../client/errors.js";

/** The archive is unsafe, incomplete or not a tar. Nothing of it is kept. */
export class ArchiveError extends TinkerError {
  override name = "ArchiveError";
}

export interface ExtractedArchive {
  /** Relative paths of the regular files written, with '/' separators, in archive order. */
  files: string[];
  /** Relative paths of the directories created by directory entries. */
  directories: string[];
  /** Bytes of file content written. */
  bytes: number;
}

const BLOCK = 512;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The relative path an entry name stands for, as '/'-separated segments; throws ArchiveError when
 * the name could point outside the target. Returns [] for the archive root (`.` or `./`).
 */
export function safeEntrySegments(name: string): string[] {
  const show = JSON.stringify(name);
  if (name === "") throw new ArchiveError("The archive has an entry with an empty name");
  if (CONTROL.test(name)) throw new ArchiveError(`Refusing entry ${show}: its name has control characters`);
  if (name.includes("\\")) throw new ArchiveError(`Refusing entry ${show}: its name has a backslash`);
  if (name.startsWith("/") || isAbsolute(name) || /^[A-Za-z]:/.test(name)) {
    throw new ArchiveError(`Refusing entry ${show}: absolute paths are not allowed in a checkpoint archive`);
  }
  const segments = name.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw new ArchiveError(`Refusing entry ${show}: '..' would write outside the target directory`);
  }
  return segments;
}

function kindOf(type: string | null | undefined): string {
  switch (type) {
    case "symlink":
      return "a symbolic link";
    case "link":
      return "a hard link";
    case "character-device":
    case "block-device":
      return "a device";
    case "fifo":
      return "a fifo";
    default:
      return `an entry of type '${type ?? "unknown"}'`;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Yields `source` unchanged, gunzipped when it starts with the gzip magic bytes. */
async function* decompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.byteLength === 0) first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => iterator,
  };
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    yield* rest;
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const input = Readable.from(all(), { objectMode: false });
    const gunzip = createGunzip();
    let inputError: unknown;
    input.on("error", (error) => {
      inputError = error;
      gunzip.destroy(error);
    });
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Uint8Array;
    } catch (error) {
      if (inputError !== undefined) throw inputError;
      throw new ArchiveError(`The archive's gzip data is damaged or cut off: ${errorMessage(error)}`, {
        cause: error,
      });
    } finally {
      input.destroy();
    }
    return;
  }
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new ArchiveError(
      "The archive is zstd-compressed; only plain and gzip-compressed tar are supported",
    );
  }
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) {
    throw new ArchiveError(
      "The archive is bzip2-compressed; only plain and gzip-compressed tar are supported",
    );
  }
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) {
    throw new ArchiveError("The archive is xz-compressed; only plain and gzip-compressed tar are supported");
  }
  yield* all();
}

/** Tracks how many tar bytes went by and whether the last block was all zeros (end marker). */
class TailWatcher {
  total = 0;
  private tail = new Uint8Array(0);

  see(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    const joined = new Uint8Array(Math.min(BLOCK, this.tail.byteLength + chunk.byteLength));
    const fromChunk = Math.min(chunk.byteLength, joined.byteLength);
    const fromTail = joined.byteLength - fromChunk;
    joined.set(this.tail.subarray(this.tail.byteLength - fromTail), 0);
    joined.set(chunk.subarray(chunk.byteLength - fromChunk), fromTail);
    this.tail = joined;
  }

  endsWithZeroBlock(): boolean {
    return this.tail.byteLength === BLOCK && this.tail.every((b) => b === 0);
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function waitForDrainOrClose(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolveWait) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolveWait();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

async function writeEntryFile(
  entry: AsyncIterable<Uint8Array>,
  path: string,
  name: string,
  expected: number,
): Promise<number> {
  const out = createWriteStream(path, { flags: "wx", mode: 0o644 });
  const opened = new Promise<void>((ok, fail) => {
    out.once("open", () => ok());
    out.once("error", fail);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw new ArchiveError(`The archive contains ${JSON.stringify(name)} more than once`);
    if (code === "EISDIR")
      throw new ArchiveError(`The archive has both a directory and a file named ${JSON.stringify(name)}`);
    throw error;
  }
  let written = 0;
  try {
    for await (const chunk of entry) {
      written += chunk.byteLength;
      if (!out.write(chunk)) await waitForDrainOrClose(out);
    }
  } catch (error) {
    throw new ArchiveError(
      `The archive is cut off inside entry ${JSON.stringify(name)} (${written} of ${expected} bytes)`,
      { cause: error },
    );
  } finally {
    await new Promise<void>((ok, fail) => {
      out.end((error?: Error | null) => (error ? fail(error) : ok()));
    });
  }
  if (written !== expected) {
    throw new ArchiveError(`Entry ${JSON.stringify(name)} is cut off: ${written} of ${expected} bytes`);
  }
  return written;
}

async function makeDirectory(root: string, segments: string[], name: string): Promise<string> {
  const path = join(root, ...segments);
  try {
    await mkdir(path, { recursive: true, mode: 0o755 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") {
      throw new ArchiveError(`Entry ${JSON.stringify(name)} needs a directory where the archive put a file`);
    }
    throw error;
  }
  return path;
}

export interface ExtractOptions {
  /** Called when extraction fails, to stop the source (e.g. abort the download). */
  cancelSource?: () => void;
}

/**
 * Extracts the tar bytes of `source` into the existing, empty directory `root`. Throws ArchiveError
 * on anything unsafe or incomplete; the caller removes `root` then.
 */
export async function extractTar(
  source: AsyncIterable<Uint8Array>,
  root: string,
  options: ExtractOptions = {},
): Promise<ExtractedArchive> {
  const absRoot = resolve(root);
  // Loaded on first use, not with the SDK: only downloads need it, and it costs memory to load.
  const { extract: tarExtract } = await import("tar-stream");
  const extract = tarExtract();
  const watcher = new TailWatcher();
  let feedError: unknown;

  const feed = (async () => {
    try {
      for await (const chunk of decompressed(source)) {
        if (extract.destroyed) break;
        watcher.see(chunk);
        if (!extract.write(chunk)) await waitForDrainOrClose(extract);
      }
      if (!extract.destroyed) extract.end();
    } catch (error) {
      feedError = error;
      extract.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();

  const result: ExtractedArchive = { files: [], directories: [], bytes: 0 };
  const seen = new Set<string>();
  let minimumBytes = 0;
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const segments = safeEntrySegments(header.name);
      const type = header.type === "contiguous-file" ? "file" : header.type;
      if (type !== "file" && type !== "directory") {
        const link = header.linkname ? ` -> ${JSON.stringify(header.linkname)}` : "";
        throw new ArchiveError(
          `Refusing entry ${JSON.stringify(header.name)}${link}: it is ${kindOf(header.type)}; ` +
            "a checkpoint archive may hold only regular files and directories",
        );
      }
      const size = header.size ?? 0;
      minimumBytes += BLOCK + (type === "file" ? padded(size) : 0);
      if (segments.length === 0) {
        if (type === "file")
          throw new ArchiveError(`Refusing entry ${JSON.stringify(header.name)}: a file with no name`);
        entry.resume();
        continue;
      }
      const rel = segments.join("/");
      const target = join(absRoot, ...segments);
      // Belt and braces: the segment rules above already keep every path inside the root.
      if (relative(absRoot, target).startsWith(`..${sep}`) || !target.startsWith(absRoot + sep)) {
        throw new ArchiveError(
          `Refusing entry ${JSON.stringify(header.name)}: it resolves outside the target`,
        );
      }
      if (type === "directory") {
        await makeDirectory(absRoot, segments, header.name);
        result.directories.push(rel);
        entry.resume();
        continue;
      }
      if (seen.has(rel))
        throw new ArchiveError(`The archive contains ${JSON.stringify(header.name)} more than once`);
      seen.add(rel);
      if (segments.length > 1) await makeDirectory(absRoot, segments.slice(0, -1), header.name);
      result.bytes += await writeEntryFile(entry, target, header.name, size);
      result.files.push(rel);
    }
  } catch (error) {
    // A failure of the feed (a broken download, an abort) comes first and reaches this loop in some
    // form; anything else is the extraction's, and the feed is only stopped because of it.
    const earlyFeedError = feedError;
    const fromFeed = earlyFeedError !== undefined;
    extract.destroy();
    options.cancelSource?.();
    await feed;
    if (earlyFeedError instanceof TinkerError) throw earlyFeedError;
    if (error instanceof TinkerError) throw error;
    if (fromFeed)
      throw new ArchiveError(`Reading the archive failed: ${errorMessage(error)}`, { cause: error });
    throw new ArchiveError(`The archive is not a valid tar or is cut off: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  await feed;
  if (feedError !== undefined) {
    if (feedError instanceof TinkerError) throw feedError;
    throw new ArchiveError(`Reading the archive failed: ${errorMessage(feedError)}`, { cause: feedError });
  }
  if (watcher.total === 0) throw new ArchiveError("The archive is empty (0 bytes)");
  if (!watcher.endsWithZeroBlock() || watcher.total < minimumBytes + BLOCK) {
    throw new ArchiveError(
      `The archive is cut off: it ends after ${watcher.total} bytes without the tar end-of-archive marker`,
    );
  }
  return result;
}
