// zstd for forward_backward bodies (sent compressed when the server's `proto_compress_fwdbwd` is
// on). The codec is @bokuweb/zstd-wasm: the reference C library compiled to wasm, shipped inside
// the npm package (no install script, no download). It is the only candidate we found that
// compresses without a native build or a download, and it decompresses 2–3x faster than the
// pure-JS fzstd on 10 MB bodies (bench/zstd.ts, docs/wire.md). It is imported on first use only, so
// callers that never compress never load it.
//
// Before any bytes reach the wasm decoder, the frames are walked here: that gives the output size
// up front (a declared content size, or a bound from the block headers), refuses bodies that would
// inflate past `maxOutputBytes`, and lets concatenated or size-less frames decode one by one, which
// the library's one-shot call cannot do.

import { TinkerError } from "../client/errors.js";
import { WireDecodeError } from "./errors.js";

interface ZstdCodec {
  init(path?: string): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
  decompress(buf: Uint8Array, opts?: { defaultHeapSize?: number }): Uint8Array;
}

let codec: Promise<ZstdCodec> | undefined;

async function loadCodec(): Promise<ZstdCodec> {
  codec ??= (async () => {
    const mod = (await import("@bokuweb/zstd-wasm")) as unknown as ZstdCodec & { default?: ZstdCodec };
    const api = typeof mod.compress === "function" ? mod : mod.default;
    if (!api) throw new Error("module has no compress/decompress exports");
    await api.init();
    return api;
  })();
  try {
    return await codec;
  } catch (err) {
    codec = undefined;
    throw new TinkerError(`could not load the zstd codec (@bokuweb/zstd-wasm): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Compression level of `zstdCompress` (zstd's own default: fast, a fair ratio). */
export const DEFAULT_ZSTD_LEVEL = 3;
/** Default ceiling for decompressed output: well above any forward_backward body a server accepts. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 1 << 30;

/** One zstd frame holding `bytes`, with its content size recorded in the header. */
export async function zstdCompress(bytes: Uint8Array, options: { level?: number } = {}): Promise<Uint8Array> {
  const api = await loadCodec();
  try {
    return api.compress(bytes, options.level ?? DEFAULT_ZSTD_LEVEL);
  } catch (err) {
    throw new TinkerError(`zstd compression failed: ${(err as Error).message}`, { cause: err });
  }
}

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK = 128 * 1024;

/** One frame found by `scanZstdFrames`: where it is and how big it may decompress. */
export interface ZstdFrameInfo {
  /** Byte offset of the frame's first byte. */
  start: number;
  /** Byte offset just past the frame. */
  end: number;
  /** A skippable frame (user data, decompresses to nothing). */
  skippable: boolean;
  /** As declared in the frame header, when it is. */
  contentSize?: number;
  /** An upper bound of the decompressed size, from the block headers. */
  maxContentSize: number;
}

function fail(message: string): never {
  throw new WireDecodeError(`invalid zstd data: ${message}`, "zstd");
}

/** Walks the frames of a zstd stream (RFC 8878 section 3.1) without decompressing anything. */
export function scanZstdFrames(bytes: Uint8Array): ZstdFrameInfo[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (pos: number, n: number): void => {
    if (pos + n > bytes.length) fail(`truncated at byte ${bytes.length} (needed ${pos + n})`);
  };
  const frames: ZstdFrameInfo[] = [];
  let pos = 0;
  if (bytes.length === 0) fail("empty input");
  while (pos < bytes.length) {
    need(pos, 4);
    const magic = view.getUint32(pos, true);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(pos, 8);
      const end = pos + 8 + view.getUint32(pos + 4, true);
      need(end, 0);
      frames.push({ start: pos, end, skippable: true, maxContentSize: 0 });
      pos = end;
      continue;
    }
    if (magic !== FRAME_MAGIC) fail(`no zstd frame magic at byte ${pos}`);
    const start = pos;
    need(pos, 5);
    const fhd = bytes[pos + 4]!;
    if (fhd & 0x08) fail("reserved bit set in frame header");
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd >> 5) & 1;
    const hasChecksum = (fhd >> 2) & 1;
    const dictIdBytes = [0, 1, 2, 4][fhd & 3]!;
    pos += 5;
    let windowSize = 0;
    if (!singleSegment) {
      need(pos, 1);
      const wd = bytes[pos]!;
      const base = 2 ** ((wd >> 3) + 10);
      windowSize = base + (base / 8) * (wd & 7);
      pos += 1;
    }
    pos += dictIdBytes;
    const fcsBytes = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!;
    need(pos, fcsBytes);
    let contentSize: number | undefined;
    if (fcsBytes === 1) contentSize = bytes[pos]!;
    else if (fcsBytes === 2) contentSize = view.getUint16(pos, true) + 256;
    else if (fcsBytes === 4) contentSize = view.getUint32(pos, true);
    else if (fcsBytes === 8)
      contentSize = view.getUint32(pos, true) + view.getUint32(pos + 4, true) * 2 ** 32;
    pos += fcsBytes;
    if (singleSegment) windowSize = contentSize ?? 0;
    const blockMax = Math.min(windowSize, MAX_BLOCK);
    let bound = 0;
    for (;;) {
      need(pos, 3);
      const header = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16);
      const last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      pos += 3;
      if (type !== 2 && size > blockMax)
        fail(`block at byte ${pos - 3} is larger than the frame's maximum block size`);
      if (type === 0) {
        bound += size;
        pos += size;
      } else if (type === 1) {
        bound += size;
        pos += 1;
      } else if (type === 2) {
        bound += blockMax;
        pos += size;
      } else {
        fail(`reserved block type at byte ${pos - 3}`);
      }
      need(pos, 0);
      if (last) break;
    }
    if (hasChecksum) pos += 4;
    need(pos, 0);
    // The library allocates the declared size up front; a tiny frame declaring gigabytes must not
    // get that far.
    if (contentSize !== undefined && contentSize > bound) {
      fail(`frame at byte ${start} declares ${contentSize} bytes but its blocks hold at most ${bound}`);
    }
    frames.push({
      start,
      end: pos,
      skippable: false,
      ...(contentSize !== undefined ? { contentSize } : {}),
      maxContentSize: contentSize ?? bound,
    });
  }
  return frames;
}

/**
 * Decompresses every frame of `bytes` and concatenates the results. Throws WireDecodeError for data
 * that is not zstd, is corrupt, or would decompress to more than `maxOutputBytes`.
 */
export async function zstdDecompress(
  bytes: Uint8Array,
  options: { maxOutputBytes?: number } = {},
): Promise<Uint8Array> {
  const max = options.maxOutputBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const frames = scanZstdFrames(bytes).filter((f) => !f.skippable);
  const declared = frames.reduce((n, f) => n + (f.contentSize ?? 0), 0);
  if (declared > max) fail(`declares ${declared} decompressed bytes, more than the limit of ${max}`);
  const api = await loadCodec();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const frame of frames) {
    if (frame.maxContentSize === 0) continue;
    const room = max - total;
    let part: Uint8Array;
    try {
      part = api.decompress(bytes.subarray(frame.start, frame.end), {
        defaultHeapSize: Math.max(1, Math.min(frame.maxContentSize, room)),
      });
    } catch (err) {
      fail(
        `frame at byte ${frame.start} does not decompress (corrupt, or larger than ${room} bytes): ${(err as Error).message}`,
      );
    }
    if (frame.contentSize !== undefined && part.length !== frame.contentSize) {
      fail(`frame at byte ${frame.start} gave ${part.length} bytes but declares ${frame.contentSize}`);
    }
    total += part.length;
    if (total > max) fail(`decompresses to more than the limit of ${max} bytes`);
    parts.push(part);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
