// The engine off the event loop: model work runs in worker threads, so the main thread answers
// heartbeats and polls while a step computes; a saturated pool reports `paused_capacity` and
// pushes back on `asample` with 429, which the SDK rides out; and pool sizes 1 and 2 give the same
// bits. Every check here is by ordering (a step held inside its worker until the test releases
// it), never by clock.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { ByteLevelTokenizer, Datum, ServiceClient } from "tinker-ts";
import { createSession, post } from "./helpers/server-http.js";
import {
  bytesOf,
  ceDatum,
  createModel,
  decodeOutput,
  poll,
  postForwardBackward,
  retrieve,
  TEXT,
  TINY,
} from "./helpers/training-http.js";

const KEY = "tml-local-dev";
const SMALL = "tinker-local/small";

/** Submits a forward_backward and returns its request id. */
async function submitFb(url: string, modelId: string, seqId: number, texts: string[]): Promise<string> {
  const answer = await postForwardBackward(url, modelId, seqId, texts.map(ceDatum));
  const requestId = (answer.json as { request_id?: string }).request_id;
  assert.equal(answer.status, 200, answer.text);
  assert.equal(typeof requestId, "string");
  return requestId as string;
}

function tryAgainOf(json: unknown): { type?: string; queue_state?: string; queue_state_reason?: string } {
  return json as { type?: string; queue_state?: string; queue_state_reason?: string };
}

describe("engine: the worker pool keeps the main thread free", () => {
  let server: LocalServer;
  before(async () => {
    // Short holds: a poll of a running request answers try_again almost at once.
    server = await startServer({ port: 0, workers: 1, longPollHoldMs: 5 });
  });
  after(async () => server.close());

  test("while a long training step runs in the pool, 20 heartbeats and 20 retrieve_future polls are answered before it completes", async () => {
    const sessionId = await createSession(server.url);
    const modelId = await createModel(server.url, sessionId, 0);
    const gate = server.models.holdNextWork();
    const texts = Array.from({ length: 8 }, (_, i) => `${TEXT} ${i} ${TEXT}`);
    const requestId = await submitFb(server.url, modelId, 1, texts);
    await gate.reached;
    assert.equal(server.futures.state(requestId), "running");

    const beats = Array.from({ length: 20 }, () =>
      post(server.url, "/api/v1/session_heartbeat", { session_id: sessionId, type: "session_heartbeat" }),
    );
    const polls = Array.from({ length: 20 }, () => retrieve(server.url, requestId));
    const beatAnswers = await Promise.all(beats);
    const pollAnswers = await Promise.all(polls);
    // Every answer came back while the step was still in its worker.
    assert.equal(server.futures.state(requestId), "running");
    for (const beat of beatAnswers) assert.equal(beat.status, 200, beat.text);
    for (const answer of pollAnswers) {
      assert.equal(answer.status, 200);
      const body = tryAgainOf(answer.json);
      assert.equal(body.type, "try_again");
      assert.equal(body.queue_state, "active", "a running step is not waiting for capacity");
    }

    gate.release();
    // Polls hold 5 ms here; wait for the work itself rather than counting polls on a loaded machine.
    await server.models.idle();
    const output = decodeOutput(await poll(server.url, requestId, { accept: "application/x-protobuf" }));
    assert.equal(output.loss_fn_outputs.length, texts.length);
    assert.ok(Number.isFinite(output.metrics["loss:sum"]));
    assert.equal(server.futures.state(requestId), "done");
  });
});

describe("engine: a saturated pool reports paused_capacity and answers asample with 429", () => {
  let server: LocalServer;
  let client: ServiceClient;
  before(async () => {
    server = await startServer({ port: 0, workers: 1, maxQueuedWork: 1, longPollHoldMs: 5 });
    client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  test("futures waiting for a busy worker say paused_capacity; asample with backpressure gets 429; the SDK rides it out", async () => {
    const tok = new ByteLevelTokenizer();
    const prompt = tok.encode("once upon a time");
    const params = { maxTokens: 8, seed: 17, temperature: 1 };
    const sampler = await client.createSamplingClient({ baseModel: TINY });
    // The reference: the same seeded request on an idle pool.
    const expected = await sampler.sample(prompt, { numSamples: 2, samplingParams: params });

    const sessionId = await createSession(server.url);
    const modelA = await createModel(server.url, sessionId, 0);
    const modelB = await createModel(server.url, sessionId, 1);
    const gate = server.models.holdNextWork();
    const first = await submitFb(server.url, modelA, 1, [TEXT]);
    await gate.reached;
    // B's step has its turn (it is B's first request) but the only worker is busy with A's.
    const second = await submitFb(server.url, modelB, 1, [TEXT]);
    while (server.models.waitingForWorkers() === 0) await new Promise((resolve) => setImmediate(resolve));

    const waiting = tryAgainOf((await retrieve(server.url, second)).json);
    assert.equal(waiting.type, "try_again");
    assert.equal(waiting.queue_state, "paused_capacity");
    assert.match(waiting.queue_state_reason ?? "", /1 model worker\(s\) are busy/);
    assert.equal(tryAgainOf((await retrieve(server.url, first)).json).queue_state, "active");

    // A client that handles backpressure gets 429, the contract's shape: a JSON detail.
    const pushedBack = await post(server.url, "/api/v1/asample", {
      num_samples: 1,
      prompt: { chunks: [{ type: "encoded_text", tokens: bytesOf("the cat ") }] },
      sampling_params: { max_tokens: 2, seed: 1 },
      base_model: TINY,
      type: "sample",
    });
    assert.equal(pushedBack.status, 200, "without the backpressure header, asample is queued");
    const raw = await fetch(`${server.url}/api/v1/asample`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": KEY,
        "x-tinker-sampling-backpressure": "1",
      },
      body: JSON.stringify({
        num_samples: 1,
        prompt: { chunks: [{ type: "encoded_text", tokens: bytesOf("the cat ") }] },
        sampling_params: { max_tokens: 2, seed: 1 },
        base_model: TINY,
        type: "sample",
      }),
    });
    assert.equal(raw.status, 429);
    assert.equal(raw.headers.get("retry-after"), "1");
    assert.match(((await raw.json()) as { detail: string }).detail, /at capacity/);

    // The SDK sends the header; it is pushed back, waits, resubmits the same request.
    server.clearRequests();
    const ridden = sampler.sample(prompt, { numSamples: 2, samplingParams: params });
    while (!server.requests().some((r) => r.path === "/api/v1/asample" && r.status === 429)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    gate.release();
    const result = await ridden;
    assert.deepEqual(result.sequences, expected.sequences, "same seed, same samples, after the 429");
    const statuses = server
      .requests()
      .filter((r) => r.path === "/api/v1/asample")
      .map((r) => r.status);
    assert.equal(statuses[0], 429);
    assert.equal(statuses.at(-1), 200);

    assert.ok(Number.isFinite(decodeOutput(await poll(server.url, first)).metrics["loss:sum"]));
    assert.ok(Number.isFinite(decodeOutput(await poll(server.url, second)).metrics["loss:sum"]));
  });
});

/** Trains two independent models side by side with the SDK and samples from each. */
async function trainTwoModels(workers: number) {
  const server = await startServer({ port: 0, workers });
  const client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
  try {
    const tok = new ByteLevelTokenizer();
    const texts = ["the cat sat on the mat.", "a dog ran in the park.", "birds sing at dawn."];
    const data = texts.map((text) => Datum.forNextTokenPrediction(tok.encode(text)));
    const run = async (seed: number) => {
      const training = await client.createLoraTrainingClient(SMALL, { rank: 4, seed });
      const losses: number[] = [];
      for (let step = 0; step < 3; step++) {
        const fb = training.forwardBackward(data, "cross_entropy");
        const opt = training.optimStep({ learningRate: 0.01 });
        losses.push((await fb).metrics["loss:sum"] as number);
        await opt;
      }
      const sampler = await training.saveWeightsAndGetSamplingClient();
      const sample = await sampler.sample(tok.encode("the "), {
        numSamples: 2,
        samplingParams: { maxTokens: 8, seed: 5, temperature: 1 },
      });
      return { losses, sequences: sample.sequences.map((s) => s.tokens) };
    };
    return await Promise.all([run(1), run(2)]);
  } finally {
    await client.close();
    await server.close();
  }
}

test("engine: pool sizes 1 and 2 give bit-identical losses and samples", async () => {
  const one = await trainTwoModels(1);
  const two = await trainTwoModels(2);
  // Float64 bits, not approximate equality: the same computation, wherever it ran.
  const bits = (values: number[]) =>
    values.map((v) => Buffer.from(new Float64Array([v]).buffer).toString("hex"));
  for (const i of [0, 1]) {
    assert.deepEqual(bits(two[i]!.losses), bits(one[i]!.losses));
    assert.deepEqual(two[i]!.sequences, one[i]!.sequences);
  }
  // The two models differ (different seeds), so the comparison is not trivially true.
  assert.notDeepEqual(one[0]!.losses, one[1]!.losses);
});
