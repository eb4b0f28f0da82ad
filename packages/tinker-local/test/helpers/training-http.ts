// HTTP helpers for the training-*/sampling-* tests: submit a request, poll its future, build
// forward_backward bodies with the SDK's wire codecs. Plain fetch; no SDK client classes.
import {
  decodeForwardBackwardOutputJson,
  decodeForwardBackwardOutputProto,
  decodeSampleResponseJson,
  decodeSampleResponseProto,
  encodeForwardBackwardRequestJson,
  encodeForwardBackwardRequestProto,
  type ForwardBackwardOutput,
  type LossFnType,
  type SampleResponse,
  type WireDatum,
  zstdCompress,
} from "tinker-ts/wire";
import { type CallResult, call, DEFAULT_KEY, post } from "./server-http.js";

export const TINY = "tinker-local/tiny";
export const PROTOBUF = "application/x-protobuf";

/** Byte-level tokens of a text (the models' tokenizer: ids 0-255 are bytes). */
export function bytesOf(text: string): number[] {
  return [...Buffer.from(text, "utf8")];
}

/** Next-token cross-entropy datum: predicts tokens[1..] from tokens[..-1]. */
export function ceDatum(text: string | number[]): WireDatum {
  const tokens = typeof text === "string" ? bytesOf(text) : text;
  const targets = tokens.slice(1);
  return {
    model_input: { chunks: [{ type: "encoded_text", tokens: tokens.slice(0, -1) }] },
    loss_fn_inputs: {
      target_tokens: { data: targets, dtype: "int64" },
      weights: { data: targets.map(() => 1), dtype: "float32" },
    },
  };
}

export const TEXT = "the cat sat on the mat.";

/** Submits a JSON request that answers `{request_id}`; throws on anything else. */
export async function submit(url: string, path: string, body: unknown, key = DEFAULT_KEY): Promise<string> {
  const result = await post(url, path, body, key);
  const requestId = (result.json as { request_id?: unknown } | undefined)?.request_id;
  if (result.status !== 200 || typeof requestId !== "string") {
    throw new Error(`${path} answered ${result.status}: ${result.text}`);
  }
  return requestId;
}

export interface PollResult {
  status: number;
  contentType: string;
  json: unknown;
  bytes: Uint8Array;
}

/** One retrieve_future call. */
export async function retrieve(
  url: string,
  requestId: string,
  options: { accept?: string; key?: string } = {},
): Promise<PollResult> {
  const response = await fetch(`${url}/api/v1/retrieve_future`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": options.key ?? DEFAULT_KEY,
      accept: options.accept ?? "application/json",
    },
    body: JSON.stringify({ request_id: requestId, allow_metadata_only: false }),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const contentType = response.headers.get("content-type") ?? "";
  let json: unknown;
  if (!contentType.includes(PROTOBUF)) {
    try {
      json = JSON.parse(Buffer.from(bytes).toString("utf8"));
    } catch {
      json = undefined;
    }
  }
  return { status: response.status, contentType, json, bytes };
}

function isTryAgain(result: PollResult): boolean {
  return (result.json as { type?: unknown } | undefined)?.type === "try_again";
}

/** Polls until the future is no longer pending (bounded: the server holds each poll). */
export async function poll(
  url: string,
  requestId: string,
  options: { accept?: string; key?: string } = {},
): Promise<PollResult> {
  // A bound on polls, not on time: servers started with a short long-poll hold (a few ms) answer
  // try_again quickly, and on a loaded machine a step can take seconds, so the bound is generous;
  // the runner's per-test timeout is what stops a real hang.
  const maxPolls = 5000;
  for (let i = 0; i < maxPolls; i++) {
    const result = await retrieve(url, requestId, options);
    if (result.status !== 200 || !isTryAgain(result)) return result;
  }
  throw new Error(`request ${requestId} still pending after ${maxPolls} polls`);
}

/** Polls a JSON-result future and returns its body; throws on failures and non-200s. */
export async function resultOf<T = Record<string, unknown>>(
  url: string,
  requestId: string,
  key = DEFAULT_KEY,
) {
  const result = await poll(url, requestId, { key });
  if (result.status !== 200 || (result.json as { error?: unknown }).error !== undefined) {
    throw new Error(`request ${requestId}: ${result.status} ${Buffer.from(result.bytes).toString("utf8")}`);
  }
  return result.json as T;
}

export async function submitAndWait<T = Record<string, unknown>>(
  url: string,
  path: string,
  body: unknown,
  key = DEFAULT_KEY,
): Promise<T> {
  return resultOf<T>(url, await submit(url, path, body, key), key);
}

export interface LoraInit {
  rank?: number;
  seed?: number;
  train_attn?: boolean;
  train_mlp?: boolean;
  train_unembed?: boolean;
}

export function createModelBody(
  sessionId: string,
  modelSeqId: number,
  lora: LoraInit = {},
  baseModel = TINY,
) {
  return {
    session_id: sessionId,
    model_seq_id: modelSeqId,
    base_model: baseModel,
    lora_config: { rank: 4, seed: 3, train_unembed: true, train_mlp: true, train_attn: true, ...lora },
    type: "create_model",
  };
}

/** create_model, waited for; returns the model id. */
export async function createModel(
  url: string,
  sessionId: string,
  modelSeqId: number,
  lora: LoraInit = {},
  key = DEFAULT_KEY,
): Promise<string> {
  const result = await submitAndWait<{ model_id: string }>(
    url,
    "/api/v1/create_model",
    createModelBody(sessionId, modelSeqId, lora),
    key,
  );
  return result.model_id;
}

export interface FbOptions {
  lossFn?: LossFnType;
  forwardOnly?: boolean;
  /** "proto" (default), "json", or "zstd" (protobuf, zstd-compressed). */
  encoding?: "proto" | "json" | "zstd" | "json-zstd";
  key?: string;
}

/** Submits one forward_backward; returns the raw answer. */
export async function postForwardBackward(
  url: string,
  modelId: string,
  seqId: number,
  data: WireDatum[],
  options: FbOptions = {},
): Promise<CallResult> {
  const request = {
    model_id: modelId,
    seq_id: seqId,
    data,
    loss_fn: options.lossFn ?? "cross_entropy",
    forward_only: options.forwardOnly === true,
  };
  const encoding = options.encoding ?? "proto";
  const headers: Record<string, string> = {};
  let body: Buffer;
  if (encoding === "json" || encoding === "json-zstd") {
    headers["content-type"] = "application/json";
    body = Buffer.from(JSON.stringify(encodeForwardBackwardRequestJson(request)));
  } else {
    headers["content-type"] = PROTOBUF;
    body = Buffer.from(encodeForwardBackwardRequestProto(request));
  }
  if (encoding === "zstd" || encoding === "json-zstd") {
    headers["content-encoding"] = "zstd";
    body = Buffer.from(await zstdCompress(body));
  }
  return call(url, "POST", "/api/v1/forward_backward", { key: options.key ?? DEFAULT_KEY, body, headers });
}

/** Decodes a forward_backward result in whichever format it came. */
export function decodeOutput(result: PollResult): ForwardBackwardOutput {
  if (result.status !== 200) throw new Error(`status ${result.status}`);
  if (result.contentType.includes(PROTOBUF)) return decodeForwardBackwardOutputProto(result.bytes);
  if ((result.json as { error?: unknown }).error !== undefined) {
    throw new Error(`failed: ${JSON.stringify(result.json)}`);
  }
  return decodeForwardBackwardOutputJson(result.json);
}

export function decodeSample(result: PollResult): SampleResponse {
  if (result.status !== 200) throw new Error(`status ${result.status}`);
  if (result.contentType.includes(PROTOBUF)) return decodeSampleResponseProto(result.bytes);
  if ((result.json as { error?: unknown }).error !== undefined) {
    throw new Error(`failed: ${JSON.stringify(result.json)}`);
  }
  return decodeSampleResponseJson(result.json);
}

/** forward_backward submitted and polled (protobuf result). */
export async function forwardBackward(
  url: string,
  modelId: string,
  seqId: number,
  data: WireDatum[],
  options: FbOptions = {},
): Promise<ForwardBackwardOutput> {
  const submitted = await postForwardBackward(url, modelId, seqId, data, options);
  const requestId = (submitted.json as { request_id?: string } | undefined)?.request_id;
  if (submitted.status !== 200 || requestId === undefined) {
    throw new Error(`forward_backward answered ${submitted.status}: ${submitted.text}`);
  }
  return decodeOutput(await poll(url, requestId, { accept: PROTOBUF, key: options.key }));
}

export async function optimStep(
  url: string,
  modelId: string,
  seqId: number,
  learningRate = 0.01,
  key = DEFAULT_KEY,
) {
  return submitAndWait<{ metrics: Record<string, number> }>(
    url,
    "/api/v1/optim_step",
    { adam_params: { learning_rate: learningRate }, model_id: modelId, seq_id: seqId, type: "optim_step" },
    key,
  );
}

export async function saveWeights(
  url: string,
  modelId: string,
  seqId: number,
  name: string,
  extra: object = {},
) {
  return submitAndWait<{ path: string }>(url, "/api/v1/save_weights", {
    model_id: modelId,
    path: name,
    seq_id: seqId,
    overwrite: false,
    type: "save_weights",
    ...extra,
  });
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
