// Sampling over real HTTP: create_sampling_session (base model, checkpoint), asample with seeds,
// prompt logprobs and top-k, protobuf vs JSON results, samplers made by save_weights_for_sampler,
// usage, and ownership.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import type { SampleResponse } from "tinker-ts/wire";
import { createSession, errorDetail, get, post } from "./helpers/server-http.js";
import {
  bytesOf,
  ceDatum,
  createModel,
  decodeSample,
  forwardBackward,
  optimStep,
  PROTOBUF,
  poll,
  retrieve,
  submit,
  submitAndWait,
  TEXT,
  TINY,
} from "./helpers/training-http.js";

const KEY = "tml-local-dev";
const OTHER_KEY = "tml-other-user";

interface SampleInit {
  sampler?: string;
  prompt?: number[];
  seed?: number;
  maxTokens?: number;
  numSamples?: number;
  promptLogprobs?: boolean;
  topk?: number;
  extra?: Record<string, unknown>;
}

function sampleBody(init: SampleInit) {
  return {
    num_samples: init.numSamples ?? 1,
    prompt: { chunks: [{ type: "encoded_text", tokens: init.prompt ?? bytesOf("the cat ") }] },
    sampling_params: {
      max_tokens: init.maxTokens ?? 12,
      ...(init.seed === undefined ? {} : { seed: init.seed }),
      temperature: 1,
      top_k: -1,
      top_p: 1,
    },
    ...(init.sampler === undefined ? {} : { sampling_session_id: init.sampler }),
    seq_id: 0,
    prompt_logprobs: init.promptLogprobs ?? false,
    topk_prompt_logprobs: init.topk ?? 0,
    type: "sample",
    ...init.extra,
  };
}

describe("sampling", () => {
  let server: LocalServer;
  let sessionId: string;
  let samplerSeq = 0;
  let modelSeq = 0;

  async function sample(init: SampleInit, accept = PROTOBUF, key = KEY): Promise<SampleResponse> {
    const requestId = await submit(server.url, "/api/v1/asample", sampleBody(init), key);
    return decodeSample(await poll(server.url, requestId, { accept, key }));
  }

  async function baseSampler(): Promise<string> {
    const result = await post(server.url, "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: samplerSeq++,
      base_model: TINY,
      type: "create_sampling_session",
    });
    assert.equal(result.status, 200, result.text);
    return (result.json as { sampling_session_id: string }).sampling_session_id;
  }

  /** A model trained a little, so its samples differ from the base model's. */
  async function trainedModel(): Promise<{ modelId: string; nextSeq: number }> {
    const modelId = await createModel(server.url, sessionId, modelSeq++, { rank: 4, seed: 2 });
    let seq = 1;
    for (let i = 0; i < 3; i++) {
      await forwardBackward(server.url, modelId, seq++, [ceDatum(TEXT)]);
      await optimStep(server.url, modelId, seq++, 0.05);
    }
    return { modelId, nextSeq: seq };
  }

  /** An unnamed save_weights_for_sampler at `seqId`: a sampler frozen from the model's weights now. */
  async function ephemeralSampler(modelId: string, seqId: number): Promise<string> {
    const { sampling_session_id } = await submitAndWait<{ sampling_session_id: string }>(
      server.url,
      "/api/v1/save_weights_for_sampler",
      {
        model_id: modelId,
        seq_id: seqId,
        sampling_session_seq_id: samplerSeq++,
        type: "save_weights_for_sampler",
      },
    );
    return sampling_session_id;
  }

  before(async () => {
    server = await startServer({ apiKeys: [KEY, OTHER_KEY], longPollHoldMs: 1000 });
    sessionId = await createSession(server.url, KEY);
  });
  after(() => server.close());

  test("create_sampling_session on a base model answers the sampler id; GET samplers/{id} shows it", async () => {
    const seq = samplerSeq;
    const samplerId = await baseSampler();
    assert.equal(samplerId, `${sessionId}:sample:${seq}`);
    const info = await get(server.url, `/api/v1/samplers/${samplerId}`);
    assert.deepEqual(info.json, { sampler_id: samplerId, base_model: TINY });
    // The same request again (a retried submit) gets the same sampler; a different one is 409.
    const again = await post(server.url, "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: seq,
      base_model: TINY,
      type: "create_sampling_session",
    });
    assert.deepEqual(again.json, { type: "create_sampling_session", sampling_session_id: samplerId });
    const clash = await post(server.url, "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: seq,
      base_model: "tinker-local/small",
      type: "create_sampling_session",
    });
    assert.equal(clash.status, 409);
  });

  test("the same seed gives the same tokens; another seed other tokens", async () => {
    const sampler = await baseSampler();
    const a = await sample({ sampler, seed: 42, numSamples: 3 });
    const b = await sample({ sampler, seed: 42, numSamples: 3 });
    const c = await sample({ sampler, seed: 43, numSamples: 3 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.sequences, c.sequences);
    assert.equal(a.sequences.length, 3);
    assert.equal(a.prompt_cache_hit_tokens, 0);
    assert.equal(a.prompt_logprobs, undefined);
    for (const sequence of a.sequences) {
      assert.ok(sequence.tokens.length >= 1 && sequence.tokens.length <= 12);
      assert.equal(sequence.logprobs?.length, sequence.tokens.length);
      assert.ok(sequence.stop_reason === "length" || sequence.stop_reason === "stop");
      if (sequence.stop_reason === "length") assert.equal(sequence.tokens.length, 12);
    }
    // Sample i of a seed does not depend on how many were asked for.
    const one = await sample({ sampler, seed: 42, numSamples: 1 });
    assert.deepEqual(one.sequences[0], a.sequences[0]);
  });

  test("prompt logprobs equal the training model's forward logprobs; top-k rows are ordered", async () => {
    const { modelId, nextSeq } = await trainedModel();
    const sampler = await ephemeralSampler(modelId, nextSeq);
    const prompt = bytesOf(TEXT);
    const result = await sample({ sampler, prompt, maxTokens: 1, promptLogprobs: true, topk: 3 });
    const forward = await forwardBackward(server.url, modelId, nextSeq + 1, [ceDatum(prompt)], {
      forwardOnly: true,
    });
    const forwardLogprobs = forward.loss_fn_outputs[0]?.logprobs?.data ?? [];
    assert.equal(result.prompt_logprobs?.length, prompt.length);
    assert.equal(result.prompt_logprobs?.[0], null);
    assert.deepEqual(result.prompt_logprobs?.slice(1), forwardLogprobs);

    const topk = result.topk_prompt_logprobs ?? [];
    assert.equal(topk.length, prompt.length);
    assert.equal(topk[0], null);
    for (let i = 1; i < topk.length; i++) {
      const row = topk[i] ?? [];
      assert.equal(row.length, 3);
      assert.ok(row[0]![1] >= row[1]![1] && row[1]![1] >= row[2]![1]);
      assert.ok(row[0]![1] >= (result.prompt_logprobs?.[i] ?? Number.NaN));
    }
  });

  test("protobuf and JSON answers of one sample decode to the same values", async () => {
    const sampler = await baseSampler();
    const requestId = await submit(
      server.url,
      "/api/v1/asample",
      sampleBody({ sampler, seed: 7, numSamples: 2, promptLogprobs: true, topk: 2 }),
    );
    const proto = await poll(server.url, requestId, { accept: PROTOBUF });
    assert.equal(proto.contentType, PROTOBUF);
    const json = await retrieve(server.url, requestId, { accept: "application/json" });
    assert.equal((json.json as { type: string }).type, "sample");
    const fromProto = decodeSample(proto);
    const fromJson = decodeSample(json);
    // JSON carries float64, protobuf float32.
    const f32 = (values: (number | null)[] | undefined) =>
      values?.map((v) => (v === null ? null : Math.fround(v)));
    assert.deepEqual(
      fromJson.sequences.map((s) => ({ ...s, logprobs: f32(s.logprobs) })),
      fromProto.sequences,
    );
    assert.deepEqual(f32(fromJson.prompt_logprobs), fromProto.prompt_logprobs);
    assert.deepEqual(
      fromJson.topk_prompt_logprobs?.map((row) =>
        row === null ? null : row.map(([id, lp]) => [id, Math.fround(lp)]),
      ),
      fromProto.topk_prompt_logprobs,
    );
  });

  test("a sampler is a frozen copy: training the model on does not change its samples", async () => {
    const { modelId, nextSeq } = await trainedModel();
    const sampler = await ephemeralSampler(modelId, nextSeq);
    const before = await sample({ sampler, seed: 5, numSamples: 2 });
    const base = await sample({ sampler: await baseSampler(), seed: 5, numSamples: 2 });
    assert.notDeepEqual(before.sequences, base.sequences);
    await forwardBackward(server.url, modelId, nextSeq + 1, [ceDatum("zzzz zzzz zzzz")]);
    await optimStep(server.url, modelId, nextSeq + 2, 0.5);
    assert.deepEqual(await sample({ sampler, seed: 5, numSamples: 2 }), before);
  });

  test("sampling from a checkpoint path: by session, or directly in the request", async () => {
    const { modelId, nextSeq } = await trainedModel();
    const { path } = await submitAndWait<{ path: string }>(server.url, "/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      path: "for-sampling",
      seq_id: nextSeq,
      type: "save_weights_for_sampler",
    });
    const fromSave = await ephemeralSampler(modelId, nextSeq + 1);
    const created = await post(server.url, "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: samplerSeq++,
      model_path: path,
      type: "create_sampling_session",
    });
    assert.equal(created.status, 200, created.text);
    const byPathSession = (created.json as { sampling_session_id: string }).sampling_session_id;
    const info = await get(server.url, `/api/v1/samplers/${byPathSession}`);
    assert.deepEqual(info.json, { sampler_id: byPathSession, base_model: TINY, model_path: path });

    const expected = await sample({ sampler: fromSave, seed: 9, numSamples: 2 });
    assert.deepEqual(await sample({ sampler: byPathSession, seed: 9, numSamples: 2 }), expected);
    assert.deepEqual(await sample({ seed: 9, numSamples: 2, extra: { model_path: path } }), expected);
    const base = await sample({ sampler: await baseSampler(), seed: 9, numSamples: 2 });
    assert.deepEqual(await sample({ seed: 9, numSamples: 2, extra: { base_model: TINY } }), base);
  });

  test("sampling records prefill and sample token usage on the sampler's session", async () => {
    const sampler = await baseSampler();
    const result = await sample({ sampler, seed: 1, numSamples: 2, prompt: bytesOf("abcd") });
    const usage = server.store.usage.listBySession(sessionId).filter((u) => u.modelId === sampler);
    assert.deepEqual(
      usage.map((u) => [u.type, u.tokenCount]),
      [
        ["sampling_prefill", 4],
        ["sampling_sample", result.sequences.reduce((n, s) => n + s.tokens.length, 0)],
      ],
    );
  });

  test("input the model rejects fails the future with category user", async () => {
    const sampler = await baseSampler();
    const requestId = await submit(
      server.url,
      "/api/v1/asample",
      sampleBody({ sampler, prompt: [104, 999] }),
    );
    const result = await poll(server.url, requestId, { accept: PROTOBUF });
    assert.equal((result.json as { category: string }).category, "user");
    assert.match((result.json as { error: string }).error, /999/);
    const badTopP = await submit(
      server.url,
      "/api/v1/asample",
      sampleBody({ sampler, extra: { sampling_params: { top_p: 0, temperature: 1, top_k: -1 } } }),
    );
    assert.equal(((await poll(server.url, badTopP)).json as { category: string }).category, "user");
  });

  test("request validation: what to sample from, prompt shape, parameter types", async () => {
    const none = await post(server.url, "/api/v1/asample", sampleBody({}));
    assert.equal(none.status, 400);
    assert.match(errorDetail(none), /sampling_session_id/);
    const sampler = await baseSampler();
    const badPrompt = await post(server.url, "/api/v1/asample", {
      ...sampleBody({ sampler }),
      prompt: { chunks: 3 },
    });
    assert.equal(badPrompt.status, 400);
    assert.match(errorDetail(badPrompt), /prompt\.chunks/);
    const badSeed = await post(server.url, "/api/v1/asample", {
      ...sampleBody({ sampler }),
      sampling_params: { seed: 1.5, temperature: 1, top_k: -1, top_p: 1 },
    });
    assert.equal(badSeed.status, 400);
    assert.match(errorDetail(badSeed), /sampling_params\.seed/);
    const neither = await post(server.url, "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: samplerSeq++,
      type: "create_sampling_session",
    });
    assert.equal(neither.status, 400);
    const unknownBase = await post(server.url, "/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: samplerSeq++,
      base_model: "gpt-2",
      type: "create_sampling_session",
    });
    assert.equal(unknownBase.status, 400);
    assert.match(errorDetail(unknownBase), /tinker-local\/tiny/);
  });

  test("another user's sampler and private checkpoints are 404; public checkpoints can be sampled", async () => {
    const sampler = await baseSampler();
    const foreign = await post(server.url, "/api/v1/asample", sampleBody({ sampler }), OTHER_KEY);
    assert.equal(foreign.status, 404);
    const foreignInfo = await get(server.url, `/api/v1/samplers/${sampler}`, OTHER_KEY);
    assert.equal(foreignInfo.status, 404);

    const { modelId, nextSeq } = await trainedModel();
    const { path } = await submitAndWait<{ path: string }>(server.url, "/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      path: "maybe-public",
      seq_id: nextSeq,
      type: "save_weights_for_sampler",
    });
    const otherSession = await createSession(server.url, OTHER_KEY);
    const body = {
      session_id: otherSession,
      sampling_session_seq_id: 0,
      model_path: path,
      type: "create_sampling_session",
    };
    assert.equal((await post(server.url, "/api/v1/create_sampling_session", body, OTHER_KEY)).status, 404);
    assert.equal(
      (await post(server.url, "/api/v1/asample", sampleBody({ extra: { model_path: path } }), OTHER_KEY))
        .status,
      404,
    );
    server.store.checkpoints.setPublic(modelId, "sampler_weights/maybe-public", true);
    const created = await post(server.url, "/api/v1/create_sampling_session", body, OTHER_KEY);
    assert.equal(created.status, 200, created.text);
    const theirSampler = (created.json as { sampling_session_id: string }).sampling_session_id;
    const mine = await sample({ seed: 3, extra: { model_path: path } });
    assert.deepEqual(await sample({ sampler: theirSampler, seed: 3 }, PROTOBUF, OTHER_KEY), mine);
  });
});
