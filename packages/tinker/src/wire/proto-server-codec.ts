// Protobuf forms of contract 4.17 in tinker-local's directions: it decodes the request the SDK
// sends and encodes the two results. These build protobuf-es messages; the SDK's own directions
// (proto-codec.ts) do not, so only a server or a test loads protobuf-es.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { base64Encode } from "./base64.js";
import {
  bigintToNumber,
  bytesToBfloat16,
  bytesToFloat32,
  bytesToInt32,
  bytesToInt64,
  float32ToBytes,
  int32ToBytes,
  int64ToBytes,
} from "./bytes.js";
import { WireDecodeError } from "./errors.js";
import * as pb from "./gen/tinker_public_pb.js";
import { TOPK_EMPTY_LOGPROB } from "./proto-reader.js";
import type {
  ForwardBackwardOutput,
  ForwardBackwardRequest,
  ImageFormat,
  LossFnType,
  ModelInputChunk,
  SampledSequence,
  SampleResponse,
  TensorDtype,
  TopkRow,
  WireDatum,
  WireTensorData,
} from "./types.js";
import { failValidation, product, setOwn, tensorShape } from "./validate.js";

/** Runs a protobuf-es decode, turning its errors into WireDecodeError. */
export function parse<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof WireDecodeError) throw err;
    throw new WireDecodeError(`malformed protobuf: ${(err as Error).message}`, what, { cause: err });
  }
}

export function dtypeToProto(dtype: TensorDtype): pb.DType {
  return dtype === "int64" ? pb.DType.INT64 : pb.DType.FLOAT32;
}

export function valuesToBytes(values: ArrayLike<number>, dtype: TensorDtype): Uint8Array {
  return dtype === "int64" ? int64ToBytes(values) : float32ToBytes(values);
}

/** Widening rules of contract 4.5: INT32 → int64, BFLOAT16 → float32. */
export function bytesToValues(
  bytes: Uint8Array,
  dtype: pb.DType,
  what: string,
): { data: number[]; dtype: TensorDtype } {
  switch (dtype) {
    case pb.DType.FLOAT32:
      return { data: bytesToFloat32(bytes, what), dtype: "float32" };
    case pb.DType.BFLOAT16:
      return { data: bytesToBfloat16(bytes, what), dtype: "float32" };
    case pb.DType.INT64:
      return { data: bytesToInt64(bytes, what), dtype: "int64" };
    case pb.DType.INT32:
      return { data: bytesToInt32(bytes, what), dtype: "int64" };
    default:
      throw new WireDecodeError(
        `unsupported dtype ${dtype} (expected FLOAT32, BFLOAT16, INT64 or INT32)`,
        what,
      );
  }
}

export function elementSize(dtype: pb.DType): number {
  return dtype === pb.DType.INT64 ? 8 : dtype === pb.DType.BFLOAT16 ? 2 : 4;
}

// ---- Tensor ----

function tensorFromProto(t: pb.Tensor, what: string): WireTensorData {
  const shape = t.shape.map((d, i) => {
    const n = bigintToNumber(d, `${what}.shape[${i}]`);
    if (n < 0) throw new WireDecodeError(`negative dimension ${n}`, `${what}.shape[${i}]`);
    return n;
  });
  if (t.encoding.case === "sparseCsr") {
    const csr = t.encoding.value;
    const { data, dtype } = bytesToValues(csr.values, t.dtype, `${what}.sparse_csr.values`);
    const crow = bytesToInt64(csr.crowIndices, `${what}.sparse_csr.crow_indices`);
    const col = bytesToInt64(csr.colIndices, `${what}.sparse_csr.col_indices`);
    if (shape.length !== 2) throw new WireDecodeError("sparse CSR needs a 2-D shape", `${what}.shape`);
    if (
      crow.length !== shape[0]! + 1 ||
      crow[crow.length - 1] !== data.length ||
      col.length !== data.length
    ) {
      throw new WireDecodeError(
        `CSR index lengths do not fit: ${shape[0]} rows, ${crow.length} row pointers, ${col.length} columns, ${data.length} values`,
        `${what}.sparse_csr`,
      );
    }
    return { data, dtype, shape, sparse_crow_indices: crow, sparse_col_indices: col };
  }
  const bytes = t.encoding.case === "dense" ? t.encoding.value : new Uint8Array(0);
  const { data, dtype } = bytesToValues(bytes, t.dtype, `${what}.dense`);
  if (shape.length === 0) return { data, dtype };
  if (product(shape) !== data.length) {
    throw new WireDecodeError(
      `shape [${shape.join(", ")}] needs ${product(shape)} elements but the tensor has ${data.length}`,
      what,
    );
  }
  return { data, dtype, shape };
}

// ---- Chunks ----

function chunkFromProto(chunk: pb.Chunk, what: string): ModelInputChunk {
  switch (chunk.chunk.case) {
    case "encodedText":
      return {
        type: "encoded_text",
        tokens: bytesToInt32(chunk.chunk.value.tokens, `${what}.encoded_text.tokens`),
      };
    case "image": {
      const img = chunk.chunk.value;
      return {
        type: "image",
        data: base64Encode(img.data),
        format: img.format as ImageFormat,
        ...(img.expectedTokens !== undefined ? { expected_tokens: img.expectedTokens } : {}),
      };
    }
    case "dmel":
      return { type: "dmel", dmel: base64Encode(chunk.chunk.value.dmel) };
    default:
      throw new WireDecodeError("chunk has none of encoded_text, image or dmel set", what);
  }
}

// ---- ForwardBackwardRequest ----

/**
 * Decodes a forward_backward body. `loss_fn` is returned as sent (the server decides whether it
 * knows it); `forward_only` and `loss_fn_config` are always present.
 */
export function decodeForwardBackwardRequestProto(bytes: Uint8Array): ForwardBackwardRequest & {
  /** True for a forward pass without gradients. */
  forward_only: boolean;
  /** The loss's settings; empty when none were sent. */
  loss_fn_config: Record<string, number>;
} {
  const msg = parse("ForwardBackwardRequest", () => fromBinary(pb.ForwardBackwardRequestSchema, bytes));
  const data: WireDatum[] = msg.data.map((d, i) => {
    const loss_fn_inputs: Record<string, WireTensorData> = {};
    for (const [key, t] of Object.entries(d.lossFnInputs)) {
      setOwn(loss_fn_inputs, key, tensorFromProto(t, `data[${i}].loss_fn_inputs.${key}`));
    }
    return {
      loss_fn_inputs,
      model_input: {
        chunks: d.modelInput.map((c, j) => chunkFromProto(c, `data[${i}].model_input.chunks[${j}]`)),
      },
    };
  });
  return {
    model_id: msg.modelId,
    seq_id: msg.seqId,
    data,
    loss_fn: msg.lossFn as LossFnType,
    loss_fn_config: { ...msg.lossFnConfig },
    forward_only: msg.forwardOnly,
  };
}

// ---- ForwardBackwardOutput ----

/** The dense values of a tensor, expanding CSR. */
function denseValues(td: WireTensorData): number[] {
  if (!td.sparse_crow_indices || !td.sparse_col_indices) return td.data;
  const [rows = 0, cols = 0] = td.shape ?? [];
  const out = new Array<number>(rows * cols).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let k = td.sparse_crow_indices[r]!; k < td.sparse_crow_indices[r + 1]!; k++) {
      out[r * cols + td.sparse_col_indices[k]!] = td.data[k]!;
    }
  }
  return out;
}

/** Datums that share field names, dtypes and trailing shapes go into one ArrayRecord. */
function recordSignature(outputs: Record<string, WireTensorData>, what: string): string {
  return Object.keys(outputs)
    .sort()
    .map((key) => {
      const shape = tensorShape(outputs[key]!);
      if (shape.length === 0) {
        failValidation("output tensors need at least one dimension", `${what}.${key}`);
      }
      return `${key}|${outputs[key]!.dtype}|${shape.slice(1).join(",")}`;
    })
    .join(";");
}

function recordToProto(outputs: Record<string, WireTensorData>[]): pb.ArrayRecord {
  const fields: Record<string, pb.BatchedTensor> = {};
  const first = outputs[0]!;
  for (const key of Object.keys(first)) {
    const { dtype } = first[key]!;
    const trailing = tensorShape(first[key]!).slice(1);
    const parts = outputs.map((o) => valuesToBytes(denseValues(o[key]!), dtype));
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const data = new Uint8Array(total);
    const offsets = [0];
    let at = 0;
    for (const part of parts) {
      data.set(part, at);
      at += part.byteLength;
      offsets.push(at);
    }
    setOwn(
      fields,
      key,
      create(pb.BatchedTensorSchema, {
        data,
        offsets: int64ToBytes(offsets),
        dtype: dtypeToProto(dtype),
        trailingShape: trailing.map(BigInt),
      }),
    );
  }
  return create(pb.ArrayRecordSchema, { fields, numDatums: BigInt(outputs.length) });
}

/** Encodes a result (tinker-local's side). Ragged outputs are split into several records. */
export function encodeForwardBackwardOutputProto(out: ForwardBackwardOutput): Uint8Array {
  const records: pb.ArrayRecord[] = [];
  let group: Record<string, WireTensorData>[] = [];
  let groupSig: string | undefined;
  out.loss_fn_outputs.forEach((o, i) => {
    const sig = recordSignature(o, `loss_fn_outputs[${i}]`);
    if (groupSig !== undefined && sig !== groupSig) {
      records.push(recordToProto(group));
      group = [];
    }
    group.push(o);
    groupSig = sig;
  });
  if (group.length > 0) records.push(recordToProto(group));
  const msg = create(pb.ForwardBackwardOutputSchema, {
    lossFnOutputType: out.loss_fn_output_type,
    lossFnOutputs: records,
    metrics: { ...out.metrics },
  });
  return toBinary(pb.ForwardBackwardOutputSchema, msg);
}

// ---- SampleResponse ----

function stopReasonToProto(reason: SampledSequence["stop_reason"], what: string): pb.StopReason {
  if (reason === "stop") return pb.StopReason.STOP;
  if (reason === "length") return pb.StopReason.LENGTH;
  return failValidation(`stop_reason must be "stop" or "length", got ${JSON.stringify(reason)}`, what);
}

function topkToProto(rows: TopkRow[], k: number | undefined): pb.TopkPromptLogprobs {
  const width = k ?? rows.reduce((m, row) => Math.max(m, row?.length ?? 0), 0);
  const n = rows.length;
  const tokenIds = new Array<number>(n * width).fill(0);
  const logprobs = new Array<number>(n * width).fill(TOPK_EMPTY_LOGPROB);
  rows.forEach((row, i) => {
    if (!row) return;
    if (row.length > width) {
      failValidation(`has ${row.length} entries but k is ${width}`, `topk_prompt_logprobs[${i}]`);
    }
    row.forEach(([token, logprob], j) => {
      tokenIds[i * width + j] = token;
      logprobs[i * width + j] = logprob;
    });
  });
  return create(pb.TopkPromptLogprobsSchema, {
    tokenIds: int32ToBytes(tokenIds),
    logprobs: float32ToBytes(logprobs),
    k: width,
    promptLength: n,
  });
}

/**
 * Encodes a sample result (tinker-local's side). `null` prompt logprobs become NaN; top-k rows are
 * padded to `topkK` (default: the longest row) with empty cells.
 */
export function encodeSampleResponseProto(res: SampleResponse, options: { topkK?: number } = {}): Uint8Array {
  const msg = create(pb.SampleResponseSchema, {
    sequences: res.sequences.map((s, i) =>
      create(pb.SampledSequenceSchema, {
        stopReason: stopReasonToProto(s.stop_reason, `sequences[${i}].stop_reason`),
        tokens: int32ToBytes(s.tokens),
        ...(s.logprobs ? { logprobs: float32ToBytes(s.logprobs) } : {}),
      }),
    ),
    promptCacheHitTokens: res.prompt_cache_hit_tokens ?? 0,
    ...(res.prompt_logprobs
      ? { promptLogprobs: float32ToBytes(res.prompt_logprobs.map((v) => v ?? Number.NaN)) }
      : {}),
    ...(res.topk_prompt_logprobs
      ? { topkPromptLogprobs: topkToProto(res.topk_prompt_logprobs, options.topkK) }
      : {}),
  });
  return toBinary(pb.SampleResponseSchema, msg);
}
