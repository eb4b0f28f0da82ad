// A SamplingClient handed to worker_threads as a descriptor samples from the same sampler on the
// same session, concurrently, against a real tinker-local: the workers' sequences equal the main
// thread's for the same seed (and a fine-tuned sampler's differ from the base model's, so "the
// same" means that sampler), no worker creates a session or a sampler, and the descriptor carries
// no key. A descriptor that is not one is a ValidationError.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { type LocalServer, startServer } from "tinker-local";
import {
  ByteLevelTokenizer,
  Datum,
  SamplingClient,
  type SamplingClientDescriptor,
  ServiceClient,
  ValidationError,
} from "tinker-ts";

const KEY = "tml-local-dev";
const MODEL = "tinker-local/tiny";
const tok = new ByteLevelTokenizer();
const PROMPTS = ["hello", "the quick", "tinker"].map((t) => tok.encode(t));
const SEED = 5;

function runWorker(descriptor: SamplingClientDescriptor): Promise<number[][][]> {
  return new Promise((resolve, reject) => {
    // Node 20 does not carry `--import tsx` into workers: register tsx's hooks first, then load the
    // TypeScript worker (--conditions=tinker-source is inherited through execArgv).
    const entry = new URL("./fixtures/sampling-worker.ts", import.meta.url).href;
    const tsx = import.meta.resolve("tsx/esm/api");
    const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(boot, {
      eval: true,
      workerData: { descriptor, apiKey: KEY, prompts: PROMPTS, seed: SEED },
    });
    let tokens: number[][][] | undefined;
    worker.on("message", (m: { tokens: number[][][] }) => {
      tokens = m.tokens;
    });
    worker.on("error", reject);
    worker.on("exit", (code) =>
      code === 0 && tokens ? resolve(tokens) : reject(new Error(`worker exited with ${code}`)),
    );
  });
}

describe("SamplingClient descriptors across worker threads (tinker-local)", () => {
  let server: LocalServer;
  let client: ServiceClient;
  let tuned: SamplingClient;
  let base: SamplingClient;
  let training: Awaited<ReturnType<ServiceClient["createLoraTrainingClient"]>>;
  before(async () => {
    server = await startServer({ port: 0, longPollHoldMs: 2000 });
    client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", telemetry: false });
    training = await client.createLoraTrainingClient(MODEL, { rank: 4, seed: 3 });
    const data = ["hello hello hello", "tinker tinker"].map((t) =>
      Datum.forNextTokenPrediction(tok.encode(t)),
    );
    for (let i = 0; i < 3; i++) {
      await training.forwardBackward(data, "cross_entropy");
      await training.optimStep({ learningRate: 0.05 });
    }
    tuned = await training.saveWeightsAndGetSamplingClient("tuned");
    base = await client.createSamplingClient({ baseModel: MODEL });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  const sampleHere = async (sampler: SamplingClient) =>
    Promise.all(
      PROMPTS.map(async (p) =>
        (
          await sampler.sample(p, { numSamples: 2, samplingParams: { maxTokens: 6, seed: SEED } })
        ).sequences.map((s) => s.tokens),
      ),
    );

  it("three workers sample concurrently through one descriptor and get the main thread's sequences", async () => {
    const descriptor = tuned.toDescriptor();
    assert.equal(descriptor.samplingSessionId, tuned.samplingSessionId);
    assert.equal(descriptor.sessionId, client.sessionId);
    assert.ok(!JSON.stringify(descriptor).includes(KEY), "no key in the descriptor");
    const roundTripped = JSON.parse(JSON.stringify(descriptor)) as SamplingClientDescriptor;
    const expected = await sampleHere(tuned);
    assert.notDeepEqual(
      await sampleHere(base),
      expected,
      "the tuned sampler samples differently from the base",
    );
    server.clearRequests();
    const results = await Promise.all([
      runWorker(descriptor),
      runWorker(descriptor),
      runWorker(roundTripped),
    ]);
    for (const tokens of results) assert.deepEqual(tokens, expected);
    const paths = server.requests().map((r) => r.path);
    assert.equal(paths.filter((p) => p === "/api/v1/asample").length, 3 * PROMPTS.length);
    assert.equal(paths.filter((p) => p === "/api/v1/create_session").length, 0, "no worker made a session");
    assert.equal(paths.filter((p) => p === "/api/v1/create_sampling_session").length, 0);
  });

  it("fromDescriptor in the same thread works too, and close() stops it", async () => {
    const again = await SamplingClient.fromDescriptor(tuned.toDescriptor(), {
      apiKey: KEY,
      logLevel: "off",
      telemetry: false,
    });
    assert.deepEqual(
      (
        await again.sample(PROMPTS[0]!, { numSamples: 2, samplingParams: { maxTokens: 6, seed: SEED } })
      ).sequences.map((s) => s.tokens),
      (await sampleHere(tuned))[0],
    );
    again.close();
    await assert.rejects(again.sample(PROMPTS[0]!, { samplingParams: { maxTokens: 2 } }).result());
  });

  it("TrainingClient.createSamplingClient(modelPath) samples the saved weights, as Python's", async () => {
    const { path } = await training.saveWeightsForSampler("tuned-again");
    const viaTraining = await training.createSamplingClient(path);
    assert.deepEqual(await sampleHere(viaTraining), await sampleHere(tuned));
    assert.equal(viaTraining.getTelemetry(), undefined, "telemetry is off for this ServiceClient");
  });

  it("something that is not a descriptor is a ValidationError naming the field, before any request", async () => {
    const good = tuned.toDescriptor();
    server.clearRequests();
    await assert.rejects(SamplingClient.fromDescriptor({} as SamplingClientDescriptor), /kind must be/);
    await assert.rejects(
      SamplingClient.fromDescriptor({ ...good, samplingSessionId: "" }),
      (e: unknown) => e instanceof ValidationError && e.field === "descriptor.samplingSessionId",
    );
    await assert.rejects(SamplingClient.fromDescriptor({ ...good, version: 2 as 1 }), /version must be 1/);
    assert.deepEqual(server.requests(), []);
  });
});
