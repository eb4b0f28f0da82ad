// Golden wire fixtures from the official Python SDK (an independent reference: tinker-local shares
// our codec, so integration tests alone cannot catch a codec that both sides get wrong).
//
// fixtures/wire-golden.json: bytes the official SDK itself produced (conformance/golden/
// make_wire_fixtures.py; conformance/run.mjs checks the file still equals its output) for run A's
// forward_backward bodies of the shared observed-requests.md, and protobuf responses with the
// SDK's own reading of them. fixtures/observed-json-requests.json: the JSON requests that recording
// lists, in order. Everything goes through the public entry points (`tinker-ts/wire` codecs, the
// clients), so it holds whichever codec implements them.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  Datum,
  ModelInput,
  type SamplingClient,
  SDK_VERSION,
  ServiceClient,
  TensorData,
  type TrainingClient,
} from "tinker-ts";
import {
  decodeForwardBackwardOutputProto,
  decodeForwardBackwardRequestProto,
  decodeSampleResponseProto,
  encodeForwardBackwardRequestProto,
  type ForwardBackwardRequest,
  type WireTensorData,
} from "tinker-ts/wire";
import {
  canonicalProto,
  FORWARD_BACKWARD_REQUEST_SHAPE,
  fromHex,
  hexOf,
  withRequestHeader,
} from "./helpers/proto-canonical.js";

type Tensor = { data: number[]; dtype: "int64" | "float32"; shape: number[] };
interface GoldenRequest {
  name: string;
  bytes: number;
  hex: string;
  input: {
    model_id: string;
    seq_id: number;
    loss_fn: string;
    forward_only: boolean;
    loss_fn_config?: Record<string, number>;
    data: { tokens: number[]; loss_fn_inputs: Record<string, Tensor> }[];
  };
}
interface Golden {
  forward_backward_requests: GoldenRequest[];
  forward_backward_outputs: {
    name: string;
    hex: string;
    sdk_reads: {
      loss_fn_output_type: string;
      metrics: Record<string, number>;
      loss_fn_outputs: Record<string, Tensor>[];
    };
  }[];
  sample_responses: {
    name: string;
    hex: string;
    sdk_reads: {
      sequences: { stop_reason: string; tokens: number[]; logprobs: number[] | null }[];
      prompt_logprobs: (number | null)[] | null;
      topk_prompt_logprobs: ([number, number][] | null)[] | null;
      prompt_cache_hit_tokens: number;
    };
  }[];
}

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
const golden = fixture("wire-golden.json") as Golden;

/** The request on the wire, as our wire types spell it. */
function wireRequest(input: GoldenRequest["input"]): ForwardBackwardRequest {
  return {
    model_id: input.model_id,
    seq_id: input.seq_id,
    loss_fn: input.loss_fn as ForwardBackwardRequest["loss_fn"],
    ...(input.loss_fn_config ? { loss_fn_config: input.loss_fn_config } : {}),
    forward_only: input.forward_only,
    data: input.data.map((d) => ({
      model_input: { chunks: [{ type: "encoded_text", tokens: d.tokens }] },
      loss_fn_inputs: d.loss_fn_inputs,
    })),
  };
}

/** The same request built as a user builds it, for the clients. */
function userData(input: GoldenRequest["input"]): Datum[] {
  return input.data.map((d) =>
    Datum.create({
      modelInput: ModelInput.fromInts(d.tokens),
      lossFnInputs: Object.fromEntries(
        Object.entries(d.loss_fn_inputs).map(([k, t]) => [k, TensorData.from(t.data, { dtype: t.dtype })]),
      ),
    }),
  );
}

const canonicalHex = (bytes: Uint8Array) => hexOf(canonicalProto(bytes, FORWARD_BACKWARD_REQUEST_SHAPE));

function tensorView(t: WireTensorData): Tensor {
  return { data: t.data, dtype: t.dtype as Tensor["dtype"], shape: t.shape ?? [t.data.length] };
}

describe("golden forward_backward bodies: our encoder writes the official SDK's bytes", () => {
  it("run A's first body is the recorded 360 bytes", () => {
    assert.equal(golden.forward_backward_requests[0]!.bytes, 360);
    assert.equal(fromHex(golden.forward_backward_requests[0]!.hex).length, 360);
  });

  for (const g of golden.forward_backward_requests) {
    it(`${g.name}: the same bytes (map entries in one order)`, () => {
      const ours = encodeForwardBackwardRequestProto(wireRequest(g.input));
      assert.equal(ours.length, g.bytes);
      assert.equal(canonicalHex(ours), canonicalHex(fromHex(g.hex)));
    });

    it(`${g.name}: our decoder reads the SDK's bytes as the input`, () => {
      const read = decodeForwardBackwardRequestProto(fromHex(g.hex));
      assert.deepEqual(
        {
          model_id: read.model_id,
          seq_id: read.seq_id,
          loss_fn: read.loss_fn,
          forward_only: read.forward_only,
          loss_fn_config: read.loss_fn_config,
          data: read.data.map((d) => ({
            tokens: d.model_input.chunks.flatMap((c) => (c.type === "encoded_text" ? c.tokens : [])),
            loss_fn_inputs: Object.fromEntries(
              Object.entries(d.loss_fn_inputs).map(([k, t]) => [k, tensorView(t)]),
            ),
          })),
        },
        { ...g.input, loss_fn_config: g.input.loss_fn_config ?? {} },
      );
    });
  }
});

describe("golden responses: our decoders read what the official SDK reads", () => {
  for (const g of golden.forward_backward_outputs) {
    it(`ForwardBackwardOutput, ${g.name}`, () => {
      const out = decodeForwardBackwardOutputProto(fromHex(g.hex));
      assert.deepEqual(
        {
          loss_fn_output_type: out.loss_fn_output_type,
          metrics: out.metrics,
          loss_fn_outputs: out.loss_fn_outputs.map((d) =>
            Object.fromEntries(Object.entries(d).map(([k, t]) => [k, tensorView(t)])),
          ),
        },
        g.sdk_reads,
      );
    });
  }
  for (const g of golden.sample_responses) {
    it(`SampleResponse, ${g.name}`, () => {
      const res = decodeSampleResponseProto(fromHex(g.hex));
      assert.deepEqual(
        {
          sequences: res.sequences.map((s) => ({
            stop_reason: s.stop_reason,
            tokens: s.tokens,
            logprobs: s.logprobs ?? null,
          })),
          prompt_logprobs: res.prompt_logprobs ?? null,
          topk_prompt_logprobs: res.topk_prompt_logprobs ?? null,
          prompt_cache_hit_tokens: res.prompt_cache_hit_tokens,
        },
        g.sdk_reads,
      );
    });
  }
});

// ---- The whole of run A through tinker-ts, against a real tinker-local ----

interface ObservedRequest {
  what: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  protobuf?: { golden: number; seq_id?: number };
  poll_type?: string;
  poll_accept?: string;
}
const observed = (fixture("observed-json-requests.json") as { requests: ObservedRequest[] }).requests;

interface Sent {
  method: string;
  url: URL;
  headers: Headers;
  body: Uint8Array | undefined;
  /** The request id the server answered a submit with. */
  requestId?: string;
}

function fill(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === "string") return value.replace(/<[a-z_0-9]+>/g, (m) => vars[m] ?? m);
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  }
  return value;
}

const TWIN = "Qwen/Qwen3-4B-Instruct-2507";
const STATE = "golden-state";
const SAMPLER = "golden-sampler";
const HEARTBEAT = "/api/v1/session_heartbeat";

describe("run A of observed-requests.md through tinker-ts: the same requests on the wire", () => {
  let server: LocalServer;
  let service: ServiceClient;
  const sent: Sent[] = [];
  const vars: Record<string, string> = {};

  before(async () => {
    server = await startServer({ port: 0, models: [TWIN] });
    // Records what the SDK put on the wire, then sends it for real.
    const recordingFetch: typeof fetch = async (input, init) => {
      const body = init?.body;
      const entry: Sent = {
        method: init?.method ?? "GET",
        url: new URL(String(input)),
        headers: new Headers(init?.headers),
        body:
          body === undefined || body === null
            ? undefined
            : typeof body === "string"
              ? new TextEncoder().encode(body)
              : new Uint8Array(body as ArrayBufferLike),
      };
      sent.push(entry);
      const res = await fetch(input, init);
      if (entry.url.pathname !== "/api/v1/retrieve_future" && res.ok) {
        const json = (await res
          .clone()
          .json()
          .catch(() => null)) as { request_id?: unknown } | null;
        if (typeof json?.request_id === "string") entry.requestId = json.request_id;
      }
      return res;
    };
    service = new ServiceClient({
      apiKey: "tml-local-dev",
      baseUrl: server.url,
      logLevel: "off",
      fetch: recordingFetch,
      heartbeat: { intervalMs: 200 },
    });
    const data = userData(golden.forward_backward_requests[0]!.input);

    await service.openSession();
    await service.getServerCapabilities();
    const training: TrainingClient = await service.createLoraTrainingClient(TWIN, { rank: 8, seed: 0 });
    await training.getInfo();
    await training.forwardBackward(data, "cross_entropy");
    await training.forward(data, "cross_entropy");
    await training.optimStep({ learningRate: 5e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    await training.forwardBackward(data, "cross_entropy");
    const statePath = (await training.saveState(STATE)).path;
    const samplerPath = (await training.saveWeightsForSampler(SAMPLER)).path;
    const sampler: SamplingClient = await service.createSamplingClient({ modelPath: samplerPath });
    const prompt = ModelInput.fromInts([101, 7592, 1010, 2088, 2003]);
    await sampler.sample(prompt, {
      numSamples: 2,
      samplingParams: { maxTokens: 6, seed: 1234, temperature: 1 },
    });
    await sampler.computeLogprobs(prompt);
    const restored = await service.createTrainingClientFromState(statePath);
    const rest = service.createRestClient();
    const sessionId = await service.openSession();
    await rest.listTrainingRuns({ limit: 100, offset: 0 });
    await rest.getTrainingRun(training.modelId);
    await rest.listCheckpoints(training.modelId);
    await rest.listUserCheckpoints({ limit: 100, offset: 0 });
    await rest.getSession(sessionId);
    await rest.listSessions({ limit: 100, offset: 0 });
    await rest.deleteCheckpoint(statePath);
    // The heartbeat runs on its own clock: wait for one after everything else (no time asserted).
    const before = sent.length;
    while (!sent.slice(before).some((s) => s.url.pathname === HEARTBEAT)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    Object.assign(vars, {
      "<sdk_version>": SDK_VERSION,
      "<session_id>": sessionId,
      "<model_0>": training.modelId,
      "<model_1>": restored.modelId,
      "<sampler_session>": sampler.samplingSessionId,
      "<state_name>": STATE,
      "<sampler_name>": SAMPLER,
      "<state_path>": statePath,
      "<sampler_path>": samplerPath,
    });
  });
  after(async () => {
    await service?.close();
    await server?.close();
  });

  /** Each observed request, matched in order to the next sent request with its method and path. */
  const matched = new Map<ObservedRequest, Sent>();
  function match(o: ObservedRequest): Sent {
    const hit = matched.get(o);
    if (hit) return hit;
    let from = 0;
    for (const prev of observed) {
      if (prev === o) break;
      const at = matched.get(prev); // an earlier request that was not found does not hide this one
      if (at) from = sent.indexOf(at) + 1;
    }
    const path = fill(o.path, vars) as string;
    const found = sent.slice(from).find((s) => s.method === o.method && s.url.pathname === path);
    assert.ok(found, `no ${o.method} ${path} after the previous observed request`);
    matched.set(o, found);
    return found;
  }

  for (const o of observed) {
    it(`${o.what}: ${o.method} ${o.path}`, () => {
      const s = match(o);
      const h = s.headers;
      assert.equal(h.get("x-api-key"), "tml-local-dev");
      assert.equal(h.has("authorization"), false);
      assert.equal(h.has("x-idempotency-key"), o.method !== "GET", "X-Idempotency-Key on every non-GET");
      for (const [name, value] of Object.entries(o.headers ?? {})) assert.equal(h.get(name), value, name);
      if (o.query !== undefined) {
        assert.deepEqual(Object.fromEntries(s.url.searchParams), fill(o.query, vars));
      }
      if (o.body !== undefined) {
        assert.equal(h.get("content-type"), "application/json");
        const body = JSON.parse(new TextDecoder().decode(s.body)) as unknown;
        assert.deepEqual(body, fill(o.body, vars));
      } else if (o.protobuf !== undefined) {
        assert.equal(h.get("content-type"), "application/x-protobuf");
        const g = golden.forward_backward_requests[o.protobuf.golden]!;
        const expected = withRequestHeader(
          fromHex(g.hex),
          vars["<model_0>"]!,
          o.protobuf.seq_id ?? g.input.seq_id,
        );
        assert.ok(s.body);
        assert.equal(canonicalHex(s.body), canonicalHex(expected));
      } else {
        assert.equal(s.body, undefined, "no body");
      }
      if (o.poll_type !== undefined) {
        assert.ok(s.requestId, "the submit was answered with a request id");
        const polls = sent.filter(
          (p) =>
            p.url.pathname === "/api/v1/retrieve_future" &&
            (JSON.parse(new TextDecoder().decode(p.body)) as { request_id: string }).request_id ===
              s.requestId,
        );
        assert.ok(polls.length >= 1, "polled at least once");
        polls.forEach((p, i) => {
          const pollBody = JSON.parse(new TextDecoder().decode(p.body)) as Record<string, unknown>;
          assert.deepEqual(Object.keys(pollBody).sort(), ["allow_metadata_only", "request_id"]);
          assert.equal(typeof pollBody.allow_metadata_only, "boolean");
          assert.equal(p.headers.get("x-tinker-request-type"), o.poll_type);
          assert.equal(p.headers.get("x-tinker-request-iteration"), String(i));
          assert.equal(p.headers.get("accept"), o.poll_accept);
        });
        assert.equal(
          (JSON.parse(new TextDecoder().decode(polls[0]!.body)) as Record<string, unknown>)
            .allow_metadata_only,
          true,
          "the first poll allows a metadata-only answer",
        );
      }
    });
  }
});
