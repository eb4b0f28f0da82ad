// Splitting one forward_backward call into requests (contract 3.1). The byte estimate is the
// official client's, not the encoded size: it only has to keep requests near the server's budget,
// and computing it must not cost an encode.

import { ValidationError } from "../client/errors.js";
import { base64DecodedLength } from "./base64.js";
import type { WireDatum, WireTensorData } from "./types.js";

/** Defaults of the server flags `fwdbwd_max_chunk_len` / `fwdbwd_max_chunk_bytes_count` (contract 2.2). */
export const DEFAULT_FWDBWD_MAX_CHUNK_LEN = 1024;
/** Default most estimated bytes per forward/backward request (server flag `fwdbwd_max_chunk_bytes_count`). */
export const DEFAULT_FWDBWD_MAX_CHUNK_BYTES = 5_000_000;

/** How `chunkForwardBackwardData` splits a batch into requests; the server's flags when absent. */
export interface ChunkLimits {
  /** Most datums per request. */
  maxChunkLen?: number;
  /** Most estimated bytes per request; a single datum over it still gets a request of its own. */
  maxChunkBytes?: number;
}

const DTYPE_BYTES = { int64: 8, float32: 4 } as const;

function tensorBytes(td: WireTensorData): number {
  const values = td.data.length * DTYPE_BYTES[td.dtype];
  const indices = (td.sparse_crow_indices?.length ?? 0) + (td.sparse_col_indices?.length ?? 0);
  return values + indices * 8;
}

/** 4 bytes per token, image/dmel byte length, raw tensor bytes, 8 bytes per sparse index. */
export function estimateDatumBytes(datum: WireDatum): number {
  let total = 0;
  for (const chunk of datum.model_input.chunks) {
    switch (chunk.type) {
      case "encoded_text":
        total += chunk.tokens.length * 4;
        break;
      case "image":
        total += base64DecodedLength(chunk.data);
        break;
      case "dmel":
        total += base64DecodedLength(chunk.dmel);
        break;
      case "image_asset_pointer":
        // No bytes travel for a pointer; forward_backward rejects it anyway.
        break;
    }
  }
  for (const td of Object.values(datum.loss_fn_inputs)) total += tensorBytes(td);
  return total;
}

function checkLimit(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(`${name} must be a positive integer, got ${value}`, name);
  }
  return value;
}

/**
 * Cuts `data` into consecutive chunks of at most `maxChunkLen` datums and, where possible, at most
 * `maxChunkBytes` estimated bytes. Order is kept; an empty input gives no chunks.
 */
export function chunkForwardBackwardData<T extends WireDatum>(
  data: readonly T[],
  limits: ChunkLimits = {},
): T[][] {
  const maxLen = checkLimit(limits.maxChunkLen ?? DEFAULT_FWDBWD_MAX_CHUNK_LEN, "maxChunkLen");
  const maxBytes = checkLimit(limits.maxChunkBytes ?? DEFAULT_FWDBWD_MAX_CHUNK_BYTES, "maxChunkBytes");
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const datum of data) {
    const bytes = estimateDatumBytes(datum);
    if (current.length > 0 && (current.length >= maxLen || currentBytes + bytes > maxBytes)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(datum);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
