// The protobuf-es forms of the hot messages, kept as the reference the direct codec is held to:
// the property tests (test/wire-proto-direct.test.ts) check that proto-writer.ts and
// proto-reader.ts give exactly what these give, byte for byte and value for value, and the
// benchmark (bench/codec.ts) shows both side by side. Nothing in the SDK's request path calls
// them. They build protobuf-es message objects and let `toBinary`/`fromBinary` do the work, as
// the codec did before the direct writer and reader.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { base64Decode } from "./base64.js";
import {
  bigintToNumber,
  bytesToFloat32,
  bytesToInt32,
  bytesToInt64,
  int32ToBytes,
  int64ToBytes,
} from "./bytes.js";
import { WireDecodeError } from "./errors.js";
import * as pb from "./gen/tinker_public_pb.js";
import { checkRequestHeader } from "./proto-codec.js";
import {
  batchedDatumCount,
  datumByteRange,
  normalizeOutputType,
  pushDatumsFromColumns,
  TOPK_EMPTY_LOGPROB,
} from "./proto-reader.js";
import { bytesToValues, dtypeToProto, elementSize, parse, valuesToBytes } from "./proto-server-codec.js";
import type {
  ForwardBackwardOutput,
  ForwardBackwardRequest,
  ModelInputChunk,
  SampledSequence,
  SampleResponse,
  TopkRow,
  WireTensorData,
} from "./types.js";
import { checkDatum, failValidation, product, setOwn, tensorShape } from "./validate.js";

function tensorToProto(td: WireTensorData): pb.Tensor {
  const shape = tensorShape(td).map(BigInt);
  if (td.sparse_crow_indices && td.sparse_col_indices) {
    return create(pb.TensorSchema, {
      dtype: dtypeToProto(td.dtype),
      shape,
      encoding: {
        case: "sparseCsr",
        value: create(pb.SparseCsrSchema, {
          values: valuesToBytes(td.data, td.dtype),
          crowIndices: int64ToBytes(td.sparse_crow_indices),
          colIndices: int64ToBytes(td.sparse_col_indices),
        }),
      },
    });
  }
  return create(pb.TensorSchema, {
    dtype: dtypeToProto(td.dtype),
    shape,
    encoding: { case: "dense", value: valuesToBytes(td.data, td.dtype) },
  });
}

function chunkToProto(chunk: ModelInputChunk, what: string): pb.Chunk {
  switch (chunk.type) {
    case "encoded_text":
      return create(pb.ChunkSchema, {
        chunk: {
          case: "encodedText",
          value: create(pb.EncodedTextChunkSchema, { tokens: int32ToBytes(chunk.tokens) }),
        },
      });
    case "image":
      return create(pb.ChunkSchema, {
        chunk: {
          case: "image",
          value: create(pb.ImageChunkSchema, {
            data: base64Decode(chunk.data)!,
            format: chunk.format,
            ...(chunk.expected_tokens != null ? { expectedTokens: chunk.expected_tokens } : {}),
          }),
        },
      });
    case "dmel":
      return create(pb.ChunkSchema, {
        chunk: { case: "dmel", value: create(pb.DmelChunkSchema, { dmel: base64Decode(chunk.dmel)! }) },
      });
    case "image_asset_pointer":
      return failValidation(
        "image_asset_pointer chunks cannot be sent to forward_backward (the protobuf body has no form for them); load the image and use an image chunk with its bytes",
        what,
      );
  }
}

/** Encodes one forward_backward request (one chunk). Structural problems raise ValidationError. */
export function referenceEncodeForwardBackwardRequest(req: ForwardBackwardRequest): Uint8Array {
  checkRequestHeader(req, failValidation);
  const data = req.data.map((d, i) => {
    const what = `data[${i}]`;
    checkDatum(d, what, failValidation);
    const lossFnInputs: Record<string, pb.Tensor> = {};
    for (const [key, td] of Object.entries(d.loss_fn_inputs)) setOwn(lossFnInputs, key, tensorToProto(td));
    return create(pb.DatumSchema, {
      modelInput: d.model_input.chunks.map((c, j) => chunkToProto(c, `${what}.model_input.chunks[${j}]`)),
      lossFnInputs,
    });
  });
  const msg = create(pb.ForwardBackwardRequestSchema, {
    modelId: req.model_id,
    seqId: req.seq_id,
    data,
    lossFn: req.loss_fn,
    lossFnConfig: { ...(req.loss_fn_config ?? {}) },
    forwardOnly: req.forward_only === true,
  });
  return toBinary(pb.ForwardBackwardRequestSchema, msg);
}

function batchedTensorFromProto(
  bt: pb.BatchedTensor,
  numDatums: number | undefined,
  what: string,
): WireTensorData[] {
  const offsets = bytesToInt64(bt.offsets, `${what}.offsets`);
  const count = batchedDatumCount(offsets, numDatums, what);
  const trailing = bt.trailingShape.map((d, i) => bigintToNumber(d, `${what}.trailing_shape[${i}]`));
  const inner = product(trailing);
  const size = elementSize(bt.dtype);
  const out: WireTensorData[] = [];
  for (let i = 0; i < count; i++) {
    const [start, end] = datumByteRange(offsets, i, bt.data.byteLength, size, what);
    const { data, dtype } = bytesToValues(bt.data.subarray(start, end), bt.dtype, what);
    if (inner === 0 ? data.length !== 0 : data.length % inner !== 0) {
      throw new WireDecodeError(
        `datum ${i} has ${data.length} elements, not a multiple of trailing shape [${trailing.join(", ")}]`,
        what,
      );
    }
    out.push({ data, dtype, shape: [inner === 0 ? 0 : data.length / inner, ...trailing] });
  }
  return out;
}

export function referenceDecodeForwardBackwardOutput(bytes: Uint8Array): ForwardBackwardOutput {
  const msg = parse("ForwardBackwardOutput", () => fromBinary(pb.ForwardBackwardOutputSchema, bytes));
  const outputs: Record<string, WireTensorData>[] = [];
  msg.lossFnOutputs.forEach((rec, r) => {
    const what = `loss_fn_outputs[${r}]`;
    const declared = bigintToNumber(rec.numDatums, `${what}.num_datums`);
    const keys = Object.keys(rec.fields);
    // num_datums 0 means "not filled in": the first field's datum count stands in for it.
    const expected = declared > 0 ? declared : undefined;
    const columns = keys.map((key) =>
      batchedTensorFromProto(rec.fields[key]!, expected, `${what}.fields.${key}`),
    );
    pushDatumsFromColumns(outputs, keys, columns, expected, what);
  });
  return {
    loss_fn_output_type: normalizeOutputType(msg.lossFnOutputType),
    loss_fn_outputs: outputs,
    metrics: { ...msg.metrics },
  };
}

function isEmptyCell(token: number, logprob: number): boolean {
  return token === 0 && logprob === TOPK_EMPTY_LOGPROB;
}

function topkFromProto(t: pb.TopkPromptLogprobs): TopkRow[] {
  const ids = bytesToInt32(t.tokenIds, "topk_prompt_logprobs.token_ids");
  const lps = bytesToFloat32(t.logprobs, "topk_prompt_logprobs.logprobs");
  const n = t.promptLength;
  const k = t.k;
  if (ids.length !== n * k || lps.length !== n * k) {
    throw new WireDecodeError(
      `expected ${n}×${k} = ${n * k} cells, got ${ids.length} token ids and ${lps.length} logprobs`,
      "topk_prompt_logprobs",
    );
  }
  const rows: TopkRow[] = [];
  for (let i = 0; i < n; i++) {
    const base = i * k;
    if (k === 0 || isEmptyCell(ids[base]!, lps[base]!)) {
      rows.push(null);
      continue;
    }
    let end = k;
    while (end > 0 && isEmptyCell(ids[base + end - 1]!, lps[base + end - 1]!)) end--;
    const row: [number, number][] = [];
    for (let j = 0; j < end; j++) row.push([ids[base + j]!, lps[base + j]!]);
    rows.push(row);
  }
  return rows;
}

export function referenceDecodeSampleResponse(bytes: Uint8Array): SampleResponse {
  const msg = parse("SampleResponse", () => fromBinary(pb.SampleResponseSchema, bytes));
  const sequences = msg.sequences.map((s, i): SampledSequence => {
    const what = `sequences[${i}]`;
    let stop_reason: SampledSequence["stop_reason"];
    if (s.stopReason === pb.StopReason.STOP) stop_reason = "stop";
    else if (s.stopReason === pb.StopReason.LENGTH) stop_reason = "length";
    else
      throw new WireDecodeError(
        `unknown stop_reason ${s.stopReason} (0 = stop, 1 = length)`,
        `${what}.stop_reason`,
      );
    const seq: SampledSequence = { stop_reason, tokens: bytesToInt32(s.tokens, `${what}.tokens`) };
    if (s.logprobs !== undefined) seq.logprobs = bytesToFloat32(s.logprobs, `${what}.logprobs`);
    return seq;
  });
  const res: SampleResponse = { sequences, prompt_cache_hit_tokens: msg.promptCacheHitTokens };
  if (msg.promptLogprobs !== undefined) {
    res.prompt_logprobs = bytesToFloat32(msg.promptLogprobs, "prompt_logprobs").map((v) =>
      Number.isNaN(v) ? null : v,
    );
  }
  if (msg.topkPromptLogprobs !== undefined) res.topk_prompt_logprobs = topkFromProto(msg.topkPromptLogprobs);
  return res;
}
