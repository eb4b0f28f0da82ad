// SamplingClient against a real tinker-local over HTTP: sampling, seeds, prompt logprobs, the wire
// it uses, 429 backpressure (same request again), 410 resubmission (a new seq id), and checks
// before sending.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  ByteLevelTokenizer,
  FutureExpiredError,
  ModelInput,
  type SamplingClient,
  ServiceClient,
  ValidationError,
} from "tinker-ts";

const MODEL = "tinker-local/tiny";
const tok = new ByteLevelTokenizer();
const prompt = tok.encode("once upon a time");
const ASAMPLE = "/api/v1/asample";
const POLL = "/api/v1/retrieve_future";

describe("SamplingClient against tinker-local", () => {
  let server: LocalServer;
  let client: ServiceClient;
  let sampler: SamplingClient;
  const bodies: unknown[] = [];
  const headers: Headers[] = [];
  /** Every wait the SDK asked its clock for (background timers excluded), in ms. */
  const waits: number[] = [];
  const recordingClock = {
    now: () => Date.now(),
    setTimeout(fn: () => void, ms: number, options?: { background?: boolean }) {
      if (!options?.background) waits.push(ms);
      const handle = setTimeout(fn, ms);
      if (options?.background) handle.unref();
      return handle;
    },
    clearTimeout(handle: unknown) {
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
  };

  before(async () => {
    server = await startServer({ port: 0, longPollHoldMs: 1000 });
    const recordingFetch: typeof fetch = (input, init) => {
      if (new URL(String(input)).pathname === ASAMPLE) {
        bodies.push(JSON.parse(String(init?.body)));
        headers.push(new Headers(init?.headers));
      }
      return fetch(input, init);
    };
    client = new ServiceClient({
      apiKey: "tml-local-dev",
      baseUrl: server.url,
      logLevel: "off",
      fetch: recordingFetch,
      clock: recordingClock,
    });
    sampler = await client.createSamplingClient({ baseModel: MODEL });
  });
  after(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    server.faults.clear();
    server.clearRequests();
    bodies.length = 0;
    headers.length = 0;
    waits.length = 0;
  });

  it("samples; the same seed gives the same sequences, another seed others", async () => {
    const params = { maxTokens: 12, seed: 11, temperature: 1 };
    const a = await sampler.sample(prompt, { numSamples: 3, samplingParams: params });
    const b = await sampler.sample(ModelInput.fromInts(prompt), { numSamples: 3, samplingParams: params });
    const c = await sampler.sample(prompt, { numSamples: 3, samplingParams: { ...params, seed: 12 } });
    assert.equal(a.sequences.length, 3);
    for (const s of a.sequences) {
      assert.ok(s.tokens.length >= 1 && s.tokens.length <= 12);
      assert.equal(s.logprobs?.length, s.tokens.length);
      assert.ok(s.stopReason === "stop" || s.stopReason === "length");
      assert.ok(s.tokens.every((t) => t >= 0 && t < 259));
    }
    assert.deepEqual(a.sequences, b.sequences);
    assert.notDeepEqual(
      a.sequences.map((s) => s.tokens),
      c.sequences.map((s) => s.tokens),
    );
  });

  it("sends the contract's JSON SampleRequest with the backpressure header and asks for protobuf", async () => {
    await sampler.sample(prompt, { samplingParams: { maxTokens: 2, stop: ["\n"] } });
    assert.deepEqual(bodies[0], {
      type: "sample",
      num_samples: 1,
      prompt: { chunks: [{ type: "encoded_text", tokens: prompt }] },
      sampling_params: { temperature: 1, top_k: -1, top_p: 1, max_tokens: 2, stop: ["\n"] },
      sampling_session_id: sampler.samplingSessionId,
      prompt_logprobs: false,
      topk_prompt_logprobs: 0,
      seq_id: (bodies[0] as { seq_id: number }).seq_id,
    });
    assert.equal(headers[0]!.get("x-tinker-sampling-backpressure"), "1");
    const poll = server.requests().find((r) => r.path === POLL)!;
    assert.equal(poll.accept, "application/x-protobuf");
  });

  it("returns prompt logprobs and top-k; computeLogprobs matches", async () => {
    const res = await sampler.sample(prompt, {
      samplingParams: { maxTokens: 1 },
      includePromptLogprobs: true,
      topkPromptLogprobs: 3,
    });
    assert.equal(res.promptLogprobs?.length, prompt.length);
    assert.equal(res.promptLogprobs?.[0], null);
    assert.equal(res.topkPromptLogprobs?.length, prompt.length);
    const row = res.topkPromptLogprobs?.[1];
    assert.ok(row && row.length === 3 && row[0]![1] >= row[1]![1]);
    assert.deepEqual(await sampler.computeLogprobs(prompt), res.promptLogprobs);
  });

  it("a 429 on submit is backpressure: the same request (same seq_id) is sent again", async () => {
    server.faults.add({ path: ASAMPLE, status: 429, times: 1 });
    const res = await sampler.sample(prompt, { samplingParams: { maxTokens: 3, seed: 5 } });
    // Contract 3.2: 1 s for a small prompt (5 s for a large one), asked of the SDK's clock. The
    // SDK waits until 1 s after the 429 as its clock saw it, so the wait it asks for is 1000 ms less
    // whatever the clock moved in between (a millisecond or so on a loaded machine): one wait just
    // under or at 1 s, none of the large prompt's 5 s.
    const backoffs = waits.filter((ms) => ms > 500 && ms <= 5000);
    assert.equal(backoffs.length, 1, `waits asked: ${waits.join(", ")}`);
    assert.ok(backoffs[0]! <= 1000, `a small prompt waits 1 s, not 5 s: ${backoffs[0]}`);
    assert.equal(res.sequences.length, 1);
    assert.deepEqual(
      server
        .requests()
        .filter((r) => r.path === ASAMPLE)
        .map((r) => r.status),
      [429, 200],
    );
    assert.equal(bodies.length, 2);
    assert.deepEqual(bodies[0], bodies[1]);
  });

  it("a 410 while polling resubmits with a new seq_id and gets the same seeded result", async () => {
    const params = { maxTokens: 6, seed: 21 };
    const expected = await sampler.sample(prompt, { samplingParams: params });
    bodies.length = 0;
    server.clearRequests();
    server.faults.add({ path: POLL, status: 410, times: 1 });
    const future = sampler.sample(prompt, { samplingParams: params });
    const res = await future;
    assert.deepEqual(res.sequences, expected.sequences);
    assert.equal(bodies.length, 2);
    const [first, second] = bodies as { seq_id: number }[];
    assert.equal(second!.seq_id, first!.seq_id + 1);
    assert.equal(future.requestIds.length, 2);
  });

  it("maxResubmits: 0 reports the 410 instead", async () => {
    const strict = await client.createSamplingClient({ baseModel: MODEL, maxResubmits: 0 });
    server.faults.add({ path: POLL, status: 410, times: 1 });
    await assert.rejects(strict.sample(prompt, { samplingParams: { maxTokens: 2 } }), FutureExpiredError);
  });

  it("JSON results by option", async () => {
    const json = await client.createSamplingClient({ baseModel: MODEL, wireFormat: "json" });
    const params = { maxTokens: 5, seed: 4 };
    const a = await json.sample(prompt, { samplingParams: params, includePromptLogprobs: true });
    const b = await sampler.sample(prompt, { samplingParams: params, includePromptLogprobs: true });
    // JSON carries the server's float64 values, protobuf float32: equal once rounded to float32.
    const f32 = (xs: readonly (number | null)[] | undefined) =>
      xs?.map((x) => (x === null ? null : Math.fround(x)));
    assert.deepEqual(
      a.sequences.map((s) => s.tokens),
      b.sequences.map((s) => s.tokens),
    );
    assert.deepEqual(f32(a.sequences[0]!.logprobs), b.sequences[0]!.logprobs);
    assert.deepEqual(f32(a.promptLogprobs), b.promptLogprobs);
    assert.ok(server.requests().some((r) => r.path === POLL && r.accept === "application/json"));
  });

  it("knows its base model and tokenizer", async () => {
    assert.equal(await sampler.getBaseModel(), MODEL);
    const other = await client.createSamplingClient({ baseModel: MODEL });
    server.clearRequests();
    assert.equal(await other.getBaseModel(), MODEL);
    const tokenizer = await sampler.getTokenizer();
    assert.equal(tokenizer.vocabSize, 259);
  });

  it("refuses bad input before sending", async () => {
    const bad: (() => unknown)[] = [
      () => sampler.sample([], {}),
      () => sampler.sample([1, 259]),
      () => sampler.sample(prompt, { numSamples: 0 }),
      () => sampler.sample(prompt, { samplingParams: { temperature: -1 } }),
      () => sampler.sample(prompt, { samplingParams: { topP: 0 } }),
      () => sampler.sample(prompt, { samplingParams: { topK: -2 } }),
      () => sampler.sample(prompt, { samplingParams: { maxTokens: 1.5 } }),
      () => sampler.sample(prompt, { samplingParams: { stop: [1, "x"] as never } }),
      () => sampler.sample(prompt, { samplingParams: { stop: [999] } }),
      () => sampler.sample(prompt, { samplingParams: { max_tokens: 3 } as never }),
      () => sampler.sample(prompt, { num_samples: 2 } as never),
    ];
    for (const call of bad) assert.throws(call, ValidationError);
    assert.deepEqual(server.requests(), []);
  });
});
