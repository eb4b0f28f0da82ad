// JSON forms (the only ones up to SDK 0.18, the default up to 0.24). Encoders return plain objects
// for JSON.stringify; decoders take parsed JSON and check it as strictly as the official client's
// response validation does.
//
// Forward-only in JSON: the body is the forward_backward body with `"forward_only": true` at the top
// level, beside model_id and seq_id, mirroring field 6 of the protobuf request. It is omitted when
// false, so a plain forward_backward body is byte-for-byte the pre-0.25 one. The decoder also takes
// the flag inside `forward_backward_input`, and the old `/api/v1/forward` body
// (`{"forward_input": {...}, "model_id", "seq_id"}`) as forward-only.

import type {
  ForwardBackwardOutput,
  ForwardBackwardRequest,
  LossFnConfig,
  LossFnType,
  SampledSequence,
  SampleResponse,
  TopkRow,
  WireDatum,
  WireTensorData,
} from "./types.js";
import {
  checkDatum,
  checkLossFnConfig,
  checkTensorData,
  checkTokens,
  type Fail,
  failDecode,
  failValidation,
  isPlainObject,
  setOwn,
} from "./validate.js";

/** The JSON body of `forward_backward` (and of `forward`, with `forward_only`), contract 4.4. */
export interface ForwardBackwardRequestJsonBody {
  /** The batch and its loss. */
  forward_backward_input: {
    /** The datums, in plain-object form. */
    data: WireDatum[];
    /** The loss function's name. */
    loss_fn: string;
    /** The loss's settings; absent means the server's defaults. */
    loss_fn_config?: LossFnConfig;
  };
  /** The training run's model id. */
  model_id: string;
  /** This chunk's place in the model's order. */
  seq_id: number;
  /** Present (and true) for a forward pass without gradients. */
  forward_only?: true;
}

function checkHeader(model_id: unknown, seq_id: unknown, fail: Fail): void {
  if (typeof model_id !== "string" || model_id === "") fail("must be a non-empty string", "model_id");
  if (typeof seq_id !== "number" || !Number.isInteger(seq_id) || seq_id < 0 || seq_id > 2 ** 31 - 1) {
    fail(`must be a non-negative int32, got ${JSON.stringify(seq_id)}`, "seq_id");
  }
}

/**
 * The JSON body of one forward_backward request. Checks everything first and throws
 * `ValidationError` naming the bad field (empty model id, bad seq id, malformed datum).
 */
export function encodeForwardBackwardRequestJson(
  req: ForwardBackwardRequest,
): ForwardBackwardRequestJsonBody {
  checkHeader(req.model_id, req.seq_id, failValidation);
  if (typeof req.loss_fn !== "string" || (req.loss_fn as string) === "")
    failValidation("must be a non-empty string", "loss_fn");
  if (!Array.isArray(req.data)) failValidation("must be an array of datums", "data");
  req.data.forEach((d, i) => {
    checkDatum(d, `data[${i}]`, failValidation);
  });
  const input: ForwardBackwardRequestJsonBody["forward_backward_input"] = {
    data: req.data.map(datumToJson),
    loss_fn: req.loss_fn,
  };
  if (req.loss_fn_config != null)
    input.loss_fn_config = checkLossFnConfig(req.loss_fn_config, "loss_fn_config", failValidation);
  const body: ForwardBackwardRequestJsonBody = {
    forward_backward_input: input,
    model_id: req.model_id,
    seq_id: req.seq_id,
  };
  if (req.forward_only === true) body.forward_only = true;
  return body;
}

/** Class instances (TensorData, ModelInput) become the plain objects JSON.stringify would write. */
function datumToJson(d: WireDatum): WireDatum {
  const loss_fn_inputs: Record<string, WireTensorData> = {};
  for (const [key, td] of Object.entries(d.loss_fn_inputs)) setOwn(loss_fn_inputs, key, tensorToJson(td));
  return { loss_fn_inputs, model_input: { chunks: d.model_input.chunks.map((c) => ({ ...c })) } };
}

function tensorToJson(td: WireTensorData): WireTensorData {
  const out: WireTensorData = { data: td.data, dtype: td.dtype };
  if (td.shape) out.shape = td.shape;
  if (td.sparse_crow_indices) out.sparse_crow_indices = td.sparse_crow_indices;
  if (td.sparse_col_indices) out.sparse_col_indices = td.sparse_col_indices;
  return out;
}

/**
 * Reads a forward_backward (or legacy `forward`) JSON body, as a server does. Throws
 * `WireDecodeError` with the path of the first bad field.
 */
export function decodeForwardBackwardRequestJson(body: unknown): ForwardBackwardRequest & {
  /** True for a forward pass (legacy `forward_input` or `forward_only`). */
  forward_only: boolean;
} {
  if (!isPlainObject(body)) failDecode("expected a JSON object", "body");
  const legacyForward = isPlainObject(body.forward_input);
  const input = legacyForward ? body.forward_input : body.forward_backward_input;
  if (!isPlainObject(input)) failDecode("expected an object", "forward_backward_input");
  checkHeader(body.model_id, body.seq_id, failDecode);
  const where = legacyForward ? "forward_input" : "forward_backward_input";
  if (typeof input.loss_fn !== "string" || input.loss_fn === "")
    failDecode("must be a non-empty string", `${where}.loss_fn`);
  if (!Array.isArray(input.data)) failDecode("must be an array of datums", `${where}.data`);
  const data = input.data.map((d, i) => checkDatum(d, `${where}.data[${i}]`, failDecode));
  const req: ForwardBackwardRequest & { forward_only: boolean } = {
    model_id: body.model_id as string,
    seq_id: body.seq_id as number,
    data,
    loss_fn: input.loss_fn as LossFnType,
    forward_only: legacyForward || body.forward_only === true || input.forward_only === true,
  };
  if (input.loss_fn_config != null) {
    req.loss_fn_config = checkLossFnConfig(input.loss_fn_config, `${where}.loss_fn_config`, failDecode);
  }
  return req;
}

// ---- ForwardBackwardOutput ----

/**
 * The JSON form of a forward_backward result. Throws `ValidationError` on NaN or Infinity (JSON
 * cannot carry them).
 */
export function encodeForwardBackwardOutputJson(out: ForwardBackwardOutput): ForwardBackwardOutput {
  return {
    loss_fn_output_type: out.loss_fn_output_type,
    loss_fn_outputs: out.loss_fn_outputs.map((o, i) => {
      const rec: Record<string, WireTensorData> = {};
      for (const [key, td] of Object.entries(o)) {
        // JSON has no NaN or Infinity; refusing here beats a silent `null` in the body.
        setOwn(rec, key, checkTensorData(tensorToJson(td), `loss_fn_outputs[${i}].${key}`, failValidation));
      }
      return rec;
    }),
    metrics: checkLossFnConfig(out.metrics, "metrics", failValidation),
  };
}

/**
 * Reads a forward_backward result from JSON. Throws `WireDecodeError` with the path of the first
 * bad field.
 */
export function decodeForwardBackwardOutputJson(body: unknown): ForwardBackwardOutput {
  if (!isPlainObject(body)) failDecode("expected a JSON object", "ForwardBackwardOutput");
  if (typeof body.loss_fn_output_type !== "string") failDecode("must be a string", "loss_fn_output_type");
  if (!Array.isArray(body.loss_fn_outputs)) failDecode("must be an array", "loss_fn_outputs");
  const loss_fn_outputs = body.loss_fn_outputs.map((o, i) => {
    if (!isPlainObject(o)) failDecode("expected an object of name → TensorData", `loss_fn_outputs[${i}]`);
    const rec: Record<string, WireTensorData> = {};
    for (const [key, td] of Object.entries(o)) {
      setOwn(
        rec,
        key,
        checkTensorData(td, `loss_fn_outputs[${i}].${key}`, failDecode, { forbidExtraFields: true }),
      );
    }
    return rec;
  });
  return {
    loss_fn_output_type: body.loss_fn_output_type,
    loss_fn_outputs,
    metrics: checkLossFnConfig(body.metrics, "metrics", failDecode),
  };
}

// ---- SampleResponse ----

/** The JSON form always carries `type: "sample"`; NaN prompt logprobs are written as null. */
export function encodeSampleResponseJson(res: SampleResponse): SampleResponse & {
  /** Always `sample` in the JSON form. */
  type: "sample";
} {
  const out: SampleResponse & { type: "sample" } = {
    type: "sample",
    sequences: res.sequences.map((s) => {
      const seq: SampledSequence = { stop_reason: s.stop_reason, tokens: s.tokens };
      if (s.logprobs) seq.logprobs = s.logprobs;
      return seq;
    }),
    prompt_cache_hit_tokens: res.prompt_cache_hit_tokens ?? 0,
  };
  if (res.prompt_logprobs) {
    out.prompt_logprobs = res.prompt_logprobs.map((v) => (v === null || Number.isNaN(v) ? null : v));
  }
  if (res.topk_prompt_logprobs) out.topk_prompt_logprobs = res.topk_prompt_logprobs;
  return out;
}

function checkNumbers(value: unknown, path: string, allowNull: boolean): (number | null)[] {
  if (!Array.isArray(value)) failDecode("must be an array of numbers", path);
  value.forEach((v, i) => {
    if (!(typeof v === "number" || (allowNull && v === null))) {
      failDecode(
        `expected a number${allowNull ? " or null" : ""}, got ${JSON.stringify(v)}`,
        `${path}[${i}]`,
      );
    }
  });
  return value as (number | null)[];
}

function checkTopkRow(row: unknown, path: string): TopkRow {
  if (row === null) return null;
  if (!Array.isArray(row)) failDecode("must be a list of [token_id, logprob] pairs or null", path);
  row.forEach((pair, j) => {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      typeof pair[0] !== "number" ||
      !Number.isInteger(pair[0]) ||
      typeof pair[1] !== "number"
    ) {
      failDecode(`expected a [token_id, logprob] pair, got ${JSON.stringify(pair)}`, `${path}[${j}]`);
    }
  });
  return row as [number, number][];
}

/** Reads a sample result from JSON. Throws `WireDecodeError` with the path of the first bad field. */
export function decodeSampleResponseJson(body: unknown): SampleResponse {
  if (!isPlainObject(body)) failDecode("expected a JSON object", "SampleResponse");
  if (body.type !== undefined && body.type !== "sample") {
    failDecode(`expected "sample", got ${JSON.stringify(body.type)}`, "type");
  }
  if (!Array.isArray(body.sequences)) failDecode("must be an array", "sequences");
  const sequences = body.sequences.map((s, i): SampledSequence => {
    const path = `sequences[${i}]`;
    if (!isPlainObject(s)) failDecode("expected an object", path);
    if (s.stop_reason !== "stop" && s.stop_reason !== "length") {
      failDecode(`must be "stop" or "length", got ${JSON.stringify(s.stop_reason)}`, `${path}.stop_reason`);
    }
    const seq: SampledSequence = {
      stop_reason: s.stop_reason,
      tokens: checkTokens(s.tokens, `${path}.tokens`, failDecode),
    };
    if (s.logprobs != null) seq.logprobs = checkNumbers(s.logprobs, `${path}.logprobs`, false) as number[];
    return seq;
  });
  const hit = body.prompt_cache_hit_tokens ?? 0;
  if (typeof hit !== "number" || !Number.isInteger(hit) || hit < 0) {
    failDecode(`must be a non-negative integer, got ${JSON.stringify(hit)}`, "prompt_cache_hit_tokens");
  }
  const res: SampleResponse = { sequences, prompt_cache_hit_tokens: hit };
  if (body.prompt_logprobs != null)
    res.prompt_logprobs = checkNumbers(body.prompt_logprobs, "prompt_logprobs", true);
  if (body.topk_prompt_logprobs != null) {
    if (!Array.isArray(body.topk_prompt_logprobs)) failDecode("must be an array", "topk_prompt_logprobs");
    res.topk_prompt_logprobs = body.topk_prompt_logprobs.map((row, i) =>
      checkTopkRow(row, `topk_prompt_logprobs[${i}]`),
    );
  }
  return res;
}
