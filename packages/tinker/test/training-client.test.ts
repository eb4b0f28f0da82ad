// TrainingClient against a real tinker-local over HTTP (in process, port 0): training reduces the
// loss, both wire formats agree, pipelined calls keep their order, chunked calls equal one chunk,
// custom losses push the gradient the right way, and checkpoints resume exactly.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, type ServerOptions, startServer } from "tinker-local";
import {
  ByteLevelTokenizer,
  ConflictError,
  Datum,
  type ForwardBackwardResult,
  ServiceClient,
  type TrainingClient,
  ValidationError,
} from "tinker-ts";

const MODEL = "tinker-local/tiny";
const tok = new ByteLevelTokenizer();
const TEXTS = ["hello tinker", "the quick brown fox", "abcabcabc", "tinker-local", "zyx wvu", "a b c d e f"];
const batch = (texts = TEXTS.slice(0, 3)) => texts.map((t) => Datum.forNextTokenPrediction(tok.encode(t)));

function logprobs(result: ForwardBackwardResult): number[][] {
  return result.lossFnOutputs.map((o) => o.logprobs!.toArray());
}

function fbPaths(server: LocalServer): string[] {
  return server
    .requests()
    .filter((r) => r.path === "/api/v1/forward_backward" || r.path === "/api/v1/optim_step")
    .map((r) => r.path.slice("/api/v1/".length));
}

async function open(options: ServerOptions = {}) {
  const server = await startServer({ port: 0, longPollHoldMs: 2000, ...options });
  const client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
  return {
    server,
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

describe("TrainingClient against tinker-local", () => {
  let env: Awaited<ReturnType<typeof open>>;
  before(async () => {
    env = await open();
  });
  after(() => env.close());

  const lora = (extra = {}) => env.client.createLoraTrainingClient(MODEL, { rank: 4, seed: 7, ...extra });

  it("optimStep with learningRate 3.4e38 is a ValidationError and nothing reaches the server", async () => {
    const training = await lora();
    const server = env.server;
    server.clearRequests();
    assert.throws(
      () => training.optimStep({ learningRate: 3.4e38 }),
      (e: unknown) => e instanceof ValidationError && e.field === "adamParams.learningRate",
    );
    assert.deepEqual(fbPaths(server), []);
    // The client is still usable: the turn the refused call would have taken was never taken.
    const [fb] = await Promise.all([
      training.forwardBackward(batch(), "cross_entropy"),
      training.optimStep({ learningRate: 0.01 }),
    ]);
    assert.ok(Number.isFinite(fb.metrics["loss:sum"]));
    assert.deepEqual(fbPaths(server), ["forward_backward", "optim_step"]);
  });

  it("training steps reduce the loss", async () => {
    const training = await lora();
    assert.match(training.modelId, /:train:\d+$/);
    assert.equal(training.baseModel, MODEL);
    const data = batch();
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      const [fb] = await Promise.all([
        training.forwardBackward(data, "cross_entropy"),
        training.optimStep({ learningRate: 0.02 }),
      ]);
      losses.push(fb.metrics["loss:sum"]!);
    }
    assert.ok(losses[5]! < losses[0]! * 0.7, `loss did not fall enough: ${losses.join(", ")}`);
    const after = await training.forward(data, "cross_entropy");
    assert.ok(after.metrics["loss:sum"]! < losses[5]!);
    assert.equal(after.lossFnOutputs.length, 3);
    assert.equal(after.lossFnOutputs[0]!.logprobs!.shape[0], tok.encode(TEXTS[0]!).length - 1);
  });

  it("protobuf and JSON give the same results, each on its own wire", async () => {
    const proto = await lora();
    const json = await lora({ wireFormat: "json" });
    const data = batch();
    env.server.clearRequests();
    const run = async (t: TrainingClient) => {
      const fb = await t.forwardBackward(data, "cross_entropy");
      await t.optimStep({ learningRate: 0.01 });
      const fwd = await t.forward(data, "cross_entropy");
      return { fb, fwd };
    };
    const a = await run(proto);
    const protoRequests = env.server.requests();
    env.server.clearRequests();
    const b = await run(json);
    const jsonRequests = env.server.requests();
    assert.deepEqual(logprobs(a.fb), logprobs(b.fb));
    assert.deepEqual(logprobs(a.fwd), logprobs(b.fwd));
    assert.deepEqual(a.fb.metrics, b.fb.metrics);
    const fbOf = (rs: typeof protoRequests) => rs.find((r) => r.path === "/api/v1/forward_backward")!;
    const pollOf = (rs: typeof protoRequests) => rs.filter((r) => r.path === "/api/v1/retrieve_future");
    assert.equal(fbOf(protoRequests).contentType, "application/x-protobuf");
    assert.match(fbOf(jsonRequests).contentType ?? "", /application\/json/);
    assert.ok(pollOf(protoRequests).some((r) => r.accept === "application/x-protobuf"));
    assert.ok(pollOf(jsonRequests).every((r) => r.accept === "application/json"));
  });

  it("forwardBackward then optimStep without awaiting runs in order and equals awaiting each", async () => {
    const awaited = await lora();
    const pipelined = await lora();
    const data = batch();
    for (let i = 0; i < 3; i++) {
      await awaited.forwardBackward(data, "cross_entropy");
      await awaited.optimStep({ learningRate: 0.01 });
    }
    env.server.clearRequests();
    const futures = [];
    for (let i = 0; i < 3; i++) {
      futures.push(
        pipelined.forwardBackward(data, "cross_entropy"),
        pipelined.optimStep({ learningRate: 0.01 }),
      );
    }
    const results = await Promise.all(futures);
    assert.equal(results.length, 6);
    assert.deepEqual(fbPaths(env.server), [
      "forward_backward",
      "optim_step",
      "forward_backward",
      "optim_step",
      "forward_backward",
      "optim_step",
    ]);
    const [x, y] = await Promise.all([
      awaited.forward(data, "cross_entropy"),
      pipelined.forward(data, "cross_entropy"),
    ]);
    assert.deepEqual(logprobs(x), logprobs(y));
  });

  it("a custom loss equal to cross-entropy trains exactly like cross-entropy; the opposite loss goes the other way", async () => {
    const viaCustom = await lora();
    const viaCe = await lora();
    const opposite = await lora();
    const data = batch();
    const before = logprobs(await viaCe.forward(data, "cross_entropy"));
    const custom = await viaCustom.forwardBackwardCustom(data, (datums, lps) => {
      assert.equal(datums.length, 3);
      return {
        loss: -lps.reduce((s, lp) => s + lp.reduce((a, b) => a + b, 0), 0),
        grads: lps.map((lp) => Array.from(lp, () => -1)),
        metrics: { "custom:mean": 1 },
      };
    });
    const ce = await viaCe.forwardBackward(data, "cross_entropy");
    assert.ok(Math.abs(custom.loss - ce.metrics["loss:sum"]!) < 1e-3);
    assert.equal(custom.metrics["loss:sum"], custom.loss);
    assert.equal(custom.metrics["custom:mean"], 1);
    assert.deepEqual(logprobs(custom), before, "custom results carry the forward pass's logprobs");
    await opposite.forwardBackwardCustom(data, (_d, lps) => ({
      loss: 0,
      grads: lps.map((lp) => Array.from(lp, () => 1)),
    }));
    await Promise.all([viaCustom, viaCe, opposite].map((t) => t.optimStep({ learningRate: 0.02 })));
    const [a, b, c] = await Promise.all(
      [viaCustom, viaCe, opposite].map((t) => t.forward(data, "cross_entropy")),
    );
    assert.deepEqual(logprobs(a!), logprobs(b!));
    const total = (r: ForwardBackwardResult) =>
      logprobs(r)
        .flat()
        .reduce((s, v) => s + v, 0);
    const start = before.flat().reduce((s, v) => s + v, 0);
    assert.ok(total(b!) > start, "cross-entropy raises the targets' logprobs");
    assert.ok(total(c!) < start, "the opposite gradient lowers them");
  });

  it("a custom loss that throws still fills its seq ids, so later calls run", async () => {
    const training = await lora();
    const data = batch();
    const failing = training.forwardBackwardCustom(data, () => {
      throw new Error("my loss broke");
    });
    const step = training.optimStep();
    await assert.rejects(failing, /my loss broke/);
    const res = await step.result({ timeout: 10_000 });
    assert.equal(res.metrics["step:max"], 1);
    await assert.rejects(
      training.forwardBackwardCustom(data, () => ({ loss: 1, grads: [[1]] })),
      (e: unknown) => e instanceof ValidationError,
    );
    await training.optimStep();
  });

  it("computeLogprobs on saved weights equals forward's logprobs", async () => {
    const training = await lora();
    const data = batch();
    await training.forwardBackward(data, "cross_entropy");
    await training.optimStep({ learningRate: 0.02 });
    const sampler = await training.saveWeightsAndGetSamplingClient();
    const named = await training.saveWeightsAndGetSamplingClient("for-logprobs");
    const fwd = await training.forward(data, "cross_entropy");
    for (let i = 0; i < TEXTS.slice(0, 3).length; i++) {
      const tokens = tok.encode(TEXTS[i]!);
      const lp = await sampler.computeLogprobs(tokens);
      assert.equal(lp[0], null);
      assert.deepEqual(lp.slice(1), logprobs(fwd)[i]);
      assert.deepEqual(await named.computeLogprobs(tokens), lp);
    }
    assert.equal(await sampler.getBaseModel(), MODEL);
    assert.ok((await sampler.getTokenizer()) instanceof ByteLevelTokenizer);
  });

  it("save, load with optimizer and resume continue exactly; names conflict unless overwrite", async () => {
    const original = await lora();
    const data = batch();
    const step = async (t: TrainingClient) => {
      await t.forwardBackward(data, "cross_entropy");
      await t.optimStep({ learningRate: 0.02 });
    };
    await step(original);
    await step(original);
    const saved = await original.saveState("mid", { ttlSeconds: 3600 });
    assert.equal(saved.path, `tinker://${original.modelId}/weights/mid`);
    await step(original);
    await step(original);
    const resumed = await env.client.createTrainingClientFromState(saved.path, { withOptimizer: true });
    const weightsOnly = await env.client.createTrainingClientFromState(saved.path);
    assert.equal(resumed.baseModel, MODEL);
    await step(resumed);
    await step(resumed);
    await step(weightsOnly);
    await step(weightsOnly);
    const [a, b, c] = await Promise.all(
      [original, resumed, weightsOnly].map((t) => t.forward(data, "cross_entropy")),
    );
    assert.deepEqual(logprobs(a!), logprobs(b!));
    assert.notDeepEqual(logprobs(a!), logprobs(c!), "without the optimizer state Adam restarts");

    const savesBefore = env.server.requests().filter((r) => r.path === "/api/v1/save_weights").length;
    await assert.rejects(original.saveState("mid"), ConflictError);
    assert.deepEqual(
      env.server
        .requests()
        .filter((r) => r.path === "/api/v1/save_weights")
        .slice(savesBefore)
        .map((r) => r.status),
      [409],
      "409 is not retried: one request",
    );
    const overwritten = await original.saveState("mid", { overwrite: true });
    assert.equal(overwritten.path, saved.path);
    const loaded = await original.loadStateWithOptimizer(saved.path);
    assert.equal(loaded.path, saved.path);
  });

  it("getInfo and getTokenizer describe the model", async () => {
    const training = await lora();
    const info = await training.getInfo();
    assert.equal(info.modelId, training.modelId);
    assert.equal(info.modelName, MODEL);
    assert.equal(info.loraRank, 4);
    assert.equal(info.isLora, true);
    const tokenizer = await training.getTokenizer();
    assert.equal(tokenizer.decode(tokenizer.encode("héllo")), "héllo");
  });

  it("bad input is refused before anything is sent", async () => {
    const training = await lora();
    env.server.clearRequests();
    const good = Datum.forNextTokenPrediction([1, 2, 3]);
    const noWeights = Datum.create({ modelInput: [1, 2], lossFnInputs: { target_tokens: [2, 3] } });
    const bad: (() => unknown)[] = [
      () => training.forwardBackward([], "cross_entropy"),
      () => training.forwardBackward([good], "mse" as "cross_entropy"),
      () => training.forwardBackward([noWeights], "cross_entropy"),
      () => training.forwardBackward([good], "ppo"),
      () => training.forwardBackward([Datum.forNextTokenPrediction([1, 300, 2])], "cross_entropy"),
      () => training.forwardBackward([good], "cross_entropy", { beta: Number.NaN }),
      () => training.optimStep({ learningRate: -1 }),
      () => training.optimStep({ beta1: 1 }),
      () => training.optimStep({ learningRatee: 1 } as never),
      () => training.saveState("a/b"),
      () => training.saveState("ok", { ttlSeconds: 0 }),
      () => training.loadState("weights/mid"),
    ];
    for (const call of bad) assert.throws(call, ValidationError);
    await assert.rejects(
      env.client.createLoraTrainingClient(MODEL, { trainMlp: false, trainAttn: false, trainUnembed: false }),
      (e: unknown) => e instanceof ValidationError && /At least one/.test(e.message),
    );
    await assert.rejects(env.client.createLoraTrainingClient(MODEL, { rank: 0 }), ValidationError);
    await assert.rejects(env.client.createSamplingClient({}), ValidationError);
    await assert.rejects(env.client.createSamplingClient({ modelPath: "/tmp/x" }), ValidationError);
    // Refused ServiceClient calls are reported to telemetry as user errors (as the Python SDK
    // does); nothing else may reach the server.
    const sent = env.server.requests().map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(
      sent.filter((line) => line !== "POST /api/v1/telemetry"),
      [],
    );
  });
});

describe("TrainingClient chunking and server flags", () => {
  const data = batch(TEXTS);

  async function trainOnce(options: ServerOptions) {
    const env = await open(options);
    try {
      const training = await env.client.createLoraTrainingClient(MODEL, { rank: 4, seed: 3 });
      env.server.clearRequests();
      const fb = await training.forwardBackward(data, "cross_entropy");
      const requests = env.server.requests().filter((r) => r.path === "/api/v1/forward_backward");
      await training.optimStep({ learningRate: 0.02 });
      const fwd = await training.forward(data, "cross_entropy");
      return { fb, fwd, requests };
    } finally {
      await env.close();
    }
  }

  it("a multi-chunk forwardBackward equals the single-chunk one (parallel, sequential, zstd)", async () => {
    const single = await trainOnce({});
    assert.equal(single.requests.length, 1);
    for (const clientConfig of [
      { fwdbwd_max_chunk_len: 2 },
      { fwdbwd_max_chunk_len: 2, parallel_fwdbwd_chunks: false },
      { fwdbwd_max_chunk_len: 4, proto_compress_fwdbwd: true },
    ]) {
      const chunked = await trainOnce({ clientConfig });
      const expectedChunks = Math.ceil(TEXTS.length / clientConfig.fwdbwd_max_chunk_len);
      assert.equal(chunked.requests.length, expectedChunks, JSON.stringify(clientConfig));
      if (clientConfig.proto_compress_fwdbwd) {
        assert.ok(chunked.requests.every((r) => r.contentEncoding === "zstd"));
      }
      assert.deepEqual(logprobs(chunked.fb), logprobs(single.fb));
      const rel =
        Math.abs(chunked.fb.metrics["loss:sum"]! - single.fb.metrics["loss:sum"]!) /
        single.fb.metrics["loss:sum"]!;
      assert.ok(rel < 1e-9, `loss:sum differs by ${rel}`);
      const a = logprobs(chunked.fwd).flat();
      const b = logprobs(single.fwd).flat();
      assert.equal(a.length, b.length);
      for (let i = 0; i < a.length; i++)
        assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `logprob ${i}: ${a[i]} vs ${b[i]}`);
    }
  });

  it("restores from a checkpoint through create-via-load when the server asks for it", async () => {
    const env = await open({ clientConfig: { create_model_via_load_weights: true } });
    try {
      const training = await env.client.createLoraTrainingClient(MODEL, { rank: 4, seed: 3 });
      await training.forwardBackward(data, "cross_entropy");
      await training.optimStep({ learningRate: 0.02 });
      const { path } = await training.saveState("ck");
      env.server.clearRequests();
      const restored = await env.client.createTrainingClientFromState(path, { withOptimizer: true });
      const paths = env.server.requests().map((r) => r.path);
      assert.ok(paths.includes("/api/v1/load_weights"));
      assert.ok(!paths.includes("/api/v1/create_model") && !paths.includes("/api/v1/weights_info"));
      assert.equal(restored.modelId, `${env.client.sessionId}:train:1`);
      assert.equal(restored.baseModel, MODEL);
      const step = async (t: TrainingClient) => {
        await t.forwardBackward(data, "cross_entropy");
        await t.optimStep({ learningRate: 0.02 });
        return logprobs(await t.forward(data, "cross_entropy"));
      };
      assert.deepEqual(await step(restored), await step(training));
    } finally {
      await env.close();
    }
  });
});
