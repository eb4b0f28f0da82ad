// Protobuf forms of contract 4.17 in the SDK's directions: the request it sends, the two results
// it reads. They go through the direct writer and reader (proto-writer.ts, proto-reader.ts), so the
// SDK's request path never loads protobuf-es and its generated messages (about 10 MiB of a
// process's memory). tinker-local's directions, built with protobuf-es, are in
// proto-server-codec.ts; the protobuf-es forms of these ones live on in proto-reference.ts as
// their reference.

import {
  normalizeOutputType,
  readForwardBackwardOutput,
  readSampleResponse,
  TOPK_EMPTY_LOGPROB,
} from "./proto-reader.js";
import { writeForwardBackwardRequest } from "./proto-writer.js";
import type { ForwardBackwardOutput, ForwardBackwardRequest, SampleResponse } from "./types.js";
import { checkDatum, checkLossFnConfig, type Fail, failValidation, isPlainObject } from "./validate.js";

// ---- ForwardBackwardRequest ----

export function checkRequestHeader(req: ForwardBackwardRequest, fail: Fail): void {
  if (!isPlainObject(req)) fail("expected a ForwardBackwardRequest object", "request");
  if (typeof req.model_id !== "string" || req.model_id === "") fail("must be a non-empty string", "model_id");
  if (!Number.isInteger(req.seq_id) || req.seq_id < 0 || req.seq_id > 2 ** 31 - 1) {
    fail(`must be a non-negative int32, got ${req.seq_id}`, "seq_id");
  }
  if (typeof req.loss_fn !== "string" || (req.loss_fn as string) === "")
    fail("must be a non-empty string", "loss_fn");
  if (!Array.isArray(req.data)) fail("must be an array of datums", "data");
  if (req.loss_fn_config != null) checkLossFnConfig(req.loss_fn_config, "loss_fn_config", fail);
}

/**
 * Encodes one forward_backward request (one chunk). Structural problems raise ValidationError.
 * The bytes are protobuf-es's (proto-reference.ts), written directly (proto-writer.ts).
 */
export function encodeForwardBackwardRequestProto(req: ForwardBackwardRequest): Uint8Array {
  checkRequestHeader(req, failValidation);
  req.data.forEach((d, i) => {
    checkDatum(d, `data[${i}]`, failValidation);
  });
  return writeForwardBackwardRequest(req);
}

/**
 * Encodes a request whose datums the caller has already checked (TrainingClient checks every
 * datum when `forwardBackward` is called, so each datum is walked once, not again here). Only the
 * request's own fields are checked.
 */
export function encodeCheckedForwardBackwardRequestProto(req: ForwardBackwardRequest): Uint8Array {
  checkRequestHeader(req, failValidation);
  return writeForwardBackwardRequest(req);
}

export { normalizeOutputType, TOPK_EMPTY_LOGPROB };

/** Decodes a forward_backward result straight from the bytes (proto-reader.ts). */
export function decodeForwardBackwardOutputProto(bytes: Uint8Array): ForwardBackwardOutput {
  return readForwardBackwardOutput(bytes);
}

/** Decodes a sample result straight from the bytes (proto-reader.ts). */
export function decodeSampleResponseProto(bytes: Uint8Array): SampleResponse {
  return readSampleResponse(bytes);
}
