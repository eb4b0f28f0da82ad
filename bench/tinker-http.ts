// Plain-fetch calls to a tinker-local server for the http and memory benchmarks: sessions, models,
// forward_backward over protobuf, optim_step, unload_model, and future polling. No SDK client
// classes, so what is timed is the server plus one fetch.
import { DEFAULT_LOCAL_API_KEY } from "tinker-local";
import {
  decodeForwardBackwardOutputProto,
  encodeForwardBackwardRequestProto,
  type ForwardBackwardOutput,
  type WireDatum,
} from "tinker-ts/wire";

export const TINY = "tinker-local/tiny";
const PROTOBUF = "application/x-protobuf";
const KEY = DEFAULT_LOCAL_API_KEY;

async function postJson(url: string, path: string, body: unknown, accept = "application/json") {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": KEY, accept },
    body: JSON.stringify(body),
  });
  return response;
}

async function expectJson<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${what} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

export async function createSession(url: string): Promise<string> {
  const response = await postJson(url, "/api/v1/create_session", {
    tags: ["bench"],
    user_metadata: {},
    sdk_version: "0.25.0",
    type: "create_session",
  });
  return (await expectJson<{ session_id: string }>(response, "create_session")).session_id;
}

export async function heartbeat(url: string, sessionId: string): Promise<void> {
  const response = await postJson(url, "/api/v1/session_heartbeat", {
    session_id: sessionId,
    type: "session_heartbeat",
  });
  await expectJson(response, "session_heartbeat");
}

/** Long-polls a future until it is done; the body is JSON unless `protobuf` is asked for. */
async function retrieve(url: string, requestId: string, protobuf: boolean): Promise<Uint8Array | unknown> {
  // Each poll is held by the server until the work finishes (or 25 s pass), so few polls are needed.
  for (let i = 0; i < 20; i++) {
    const response = await postJson(
      url,
      "/api/v1/retrieve_future",
      { request_id: requestId, allow_metadata_only: false },
      protobuf ? PROTOBUF : "application/json",
    );
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (response.status !== 200) {
      throw new Error(`retrieve_future answered ${response.status}: ${Buffer.from(bytes).toString("utf8")}`);
    }
    if ((response.headers.get("content-type") ?? "").includes(PROTOBUF)) return bytes;
    const json = JSON.parse(Buffer.from(bytes).toString("utf8")) as { type?: string; error?: string };
    if (json.type === "try_again") continue;
    if (json.error !== undefined) throw new Error(`request ${requestId} failed: ${json.error}`);
    return json;
  }
  throw new Error(`request ${requestId} still pending after 20 polls`);
}

async function submitJson(url: string, path: string, body: unknown): Promise<unknown> {
  const ack = await expectJson<{ request_id: string }>(await postJson(url, path, body), path);
  return retrieve(url, ack.request_id, false);
}

export interface LoraConfig {
  rank: number;
  seed?: number;
  train_attn?: boolean;
  train_mlp?: boolean;
  train_unembed?: boolean;
}

export async function createModel(
  url: string,
  sessionId: string,
  modelSeqId: number,
  lora: LoraConfig,
  baseModel = TINY,
): Promise<string> {
  const result = (await submitJson(url, "/api/v1/create_model", {
    session_id: sessionId,
    model_seq_id: modelSeqId,
    base_model: baseModel,
    lora_config: { seed: 1, train_attn: true, train_mlp: true, train_unembed: true, ...lora },
    type: "create_model",
  })) as { model_id: string };
  return result.model_id;
}

/** `count + 1` byte tokens of a repeated text (the models' tokens are bytes). */
export function textTokens(text: string, count: number): number[] {
  const repeated = text.repeat(Math.ceil((count + 1) / text.length));
  return [...Buffer.from(repeated, "utf8")].slice(0, count + 1);
}

/** Next-token cross-entropy datum: predicts tokens[1..] from tokens[..-1], every target weighted 1. */
export function wireDatum(tokens: readonly number[]): WireDatum {
  const targets = tokens.slice(1);
  return {
    model_input: { chunks: [{ type: "encoded_text", tokens: tokens.slice(0, -1) }] },
    loss_fn_inputs: {
      target_tokens: { data: targets, dtype: "int64" },
      weights: { data: targets.map(() => 1), dtype: "float32" },
    },
  };
}

/** One forward_backward: protobuf body, submit, then poll with Accept: protobuf and decode. */
export async function forwardBackward(
  url: string,
  modelId: string,
  seqId: number,
  data: WireDatum[],
): Promise<ForwardBackwardOutput> {
  const body = encodeForwardBackwardRequestProto({
    model_id: modelId,
    seq_id: seqId,
    data,
    loss_fn: "cross_entropy",
  });
  const response = await fetch(`${url}/api/v1/forward_backward`, {
    method: "POST",
    headers: { "content-type": PROTOBUF, "x-api-key": KEY },
    body,
  });
  const ack = await expectJson<{ request_id: string }>(response, "forward_backward");
  const result = await retrieve(url, ack.request_id, true);
  if (!(result instanceof Uint8Array))
    throw new Error(`forward_backward answered JSON: ${JSON.stringify(result)}`);
  return decodeForwardBackwardOutputProto(result);
}

export async function optimStep(url: string, modelId: string, seqId: number): Promise<void> {
  await submitJson(url, "/api/v1/optim_step", {
    adam_params: { learning_rate: 1e-3 },
    model_id: modelId,
    seq_id: seqId,
    type: "optim_step",
  });
}

export async function unloadModel(url: string, modelId: string): Promise<void> {
  await submitJson(url, "/api/v1/unload_model", { model_id: modelId, type: "unload_model" });
}
