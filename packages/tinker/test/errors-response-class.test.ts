// Errors in the right class (issue 9, item 4). A malformed server answer is a
// ResponseValidationError wherever it arrives (training, sampling), never the ValidationError of
// bad user input nor an APIConnectionError; a value the server may legitimately send (a -Infinity
// logprob) is not checked as if the user had sent it; the futures and the event registry throw
// TinkerErrors; `SamplingParams` from "tinker-ts" is what sample() takes. The server answers come
// from a real tinker-local whose fault injection replaces one retrieve_future answer.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  APIConnectionError,
  Datum,
  ResponseValidationError,
  type SamplingParams,
  ServiceClient,
  TinkerError,
  TinkerFuture,
  ValidationError,
} from "tinker-ts";
import { toResult } from "../src/clients/training/forward-backward.js";
import { decodeForwardBackwardOutputProto } from "../src/wire/proto-codec.js";
import { encodeForwardBackwardOutputProto } from "../src/wire/proto-server-codec.js";

const MODEL = "tinker-local/tiny";
const POLL = "/api/v1/retrieve_future";

/** Not a user-input error and not a transport error: the one class of a malformed answer. */
function isResponseError(error: unknown): boolean {
  return (
    error instanceof ResponseValidationError &&
    !(error instanceof ValidationError) &&
    !(error instanceof APIConnectionError)
  );
}

describe("a malformed server answer is a ResponseValidationError everywhere", () => {
  let server: LocalServer;
  let client: ServiceClient;

  before(async () => {
    server = await startServer({ port: 0 });
    client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
  });
  after(async () => {
    await client.close();
    await server.close();
  });
  afterEach(() => server.faults.clear());

  it("training: a forward result with the wrong shape", async () => {
    const training = await client.createLoraTrainingClient(MODEL, { rank: 4, seed: 1, wireFormat: "json" });
    server.faults.add({
      path: POLL,
      status: 200,
      body: { loss_fn_output_type: "ArrayRecord", loss_fn_outputs: "not a list", metrics: {} },
    });
    const data = [Datum.forNextTokenPrediction([104, 105, 10])];
    await assert.rejects(training.forward(data, "cross_entropy"), isResponseError);
    // The next call is answered by the real server again: the client is not left broken.
    const ok = await training.forward(data, "cross_entropy");
    assert.equal(ok.lossFnOutputs.length, 1);
  });

  it("sampling: a sample result with the wrong shape", async () => {
    const sampler = await client.createSamplingClient({ baseModel: MODEL, wireFormat: "json" });
    server.faults.add({ path: POLL, status: 200, body: { type: "sample", sequences: [{ tokens: "abc" }] } });
    const params: SamplingParams = { maxTokens: 2, temperature: 0 };
    await assert.rejects(sampler.sample([104, 105], { samplingParams: params }), isResponseError);
  });

  it("sampling: computeLogprobs answered without the prompt logprobs it asked for", async () => {
    const sampler = await client.createSamplingClient({ baseModel: MODEL, wireFormat: "json" });
    server.faults.add({
      path: POLL,
      status: 200,
      body: { type: "sample", sequences: [{ tokens: [1], stop_reason: "length" }] },
    });
    await assert.rejects(sampler.computeLogprobs([104, 105, 106]), isResponseError);
  });
});

describe("server output is not checked as user input", () => {
  it("a -Infinity logprob in a forward result comes back as it is", () => {
    // What a server sends for a token it gives probability 0: valid protobuf, a valid answer.
    const bytes = encodeForwardBackwardOutputProto({
      loss_fn_output_type: "ArrayRecord",
      loss_fn_outputs: [
        { logprobs: { data: [-0.5, Number.NEGATIVE_INFINITY], dtype: "float32", shape: [2] } },
      ],
      metrics: { "loss:sum": 1 },
    });
    const result = toResult(decodeForwardBackwardOutputProto(bytes));
    assert.deepEqual(result.lossFnOutputs[0]!.logprobs!.toArray(), [-0.5, Number.NEGATIVE_INFINITY]);
  });

  it("the same value from the user is still refused before sending", () => {
    assert.throws(
      () =>
        Datum.fromWire({
          model_input: { chunks: [{ type: "encoded_text", tokens: [1, 2] }] },
          loss_fn_inputs: {
            target_tokens: { data: [2, 3], dtype: "int64", shape: [2] },
            weights: { data: [1, Number.NEGATIVE_INFINITY], dtype: "float32", shape: [2] },
          },
        }),
      (error: unknown) =>
        error instanceof ValidationError && /NaN and Infinity cannot be sent/.test(error.message),
    );
  });
});

describe("futures and events throw TinkerErrors", () => {
  it("an unknown future event, a bad timeout and a missing request id", async () => {
    const future = new TinkerFuture(async () => 1, "test");
    assert.throws(
      () => future.on("bogus" as "queueState", () => {}),
      (error: unknown) => error instanceof ValidationError && error.field === "event",
    );
    const pending = new TinkerFuture(() => new Promise<number>(() => {}), "pending");
    await assert.rejects(pending.result({ timeout: -1 }), ValidationError);
    await assert.rejects(future.submitted(), (error: unknown) => error instanceof TinkerError);
  });

  it("an unknown ServiceClient event names the known ones", () => {
    const service = new ServiceClient({
      apiKey: "tml-local-dev",
      baseUrl: "http://127.0.0.1:9",
      logLevel: "off",
    });
    assert.throws(
      () => service.on("bogus" as "heartbeatError", () => {}),
      (error: unknown) =>
        error instanceof ValidationError && error.field === "event" && /heartbeatWarning/.test(error.message),
    );
  });
});
