// End to end through the SDK and tinker-local: train a few steps, save, download the checkpoint
// archive, and check that the adapter tensors in it are exactly the weights that training produced.
// "Exactly" is checked against an independent replay: the same model, seed and batches trained
// directly with tinker-local's model layer (training is deterministic to the bit).

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createModel, type LocalServer, readSafetensors, startServer } from "tinker-local";
import { Datum, ServiceClient } from "tinker-ts";

const KEY = "tml-checkpoint-e2e";
const MODEL = "tinker-local/tiny";
const LORA = { rank: 4, seed: 11 };
const LEARNING_RATE = 0.01;

/** Three fixed batches of next-token prediction on short byte strings. */
const BATCHES: number[][][] = [
  [
    [104, 101, 108, 108, 111],
    [119, 111, 114, 108, 100, 33],
  ],
  [[116, 105, 110, 107, 101, 114]],
  [
    [97, 98, 99, 100],
    [120, 121, 122, 122, 121],
  ],
];

describe("a trained checkpoint, downloaded", () => {
  let server: LocalServer;
  let work: string;
  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY] });
    work = mkdtempSync(join(tmpdir(), "ckpt-e2e-"));
  });
  after(async () => {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("holds exactly the LoRA weights the server trained", async () => {
    const service = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    let path: string;
    try {
      const training = await service.createLoraTrainingClient(MODEL, LORA);
      for (const batch of BATCHES) {
        const data = batch.map((tokens) => Datum.forNextTokenPrediction(tokens));
        await Promise.all([
          training.forwardBackward(data, "cross_entropy"),
          training.optimStep({ learningRate: LEARNING_RATE }),
        ]);
      }
      ({ path } = await training.saveState("e2e"));
      const rest = service.createRestClient();
      const downloaded = await rest.downloadCheckpoint(path, join(work, "ckpt"));
      assert.deepEqual([...downloaded.files].sort(), ["adapter_config.json", "adapter_model.safetensors"]);
    } finally {
      await service.close();
    }

    const got = readSafetensors(
      new Uint8Array(readFileSync(join(work, "ckpt", "adapter_model.safetensors"))),
    );

    // The replay, with the model layer directly and the SDK's defaults for everything not given.
    const replay = createModel(MODEL, {
      rank: LORA.rank,
      seed: LORA.seed,
      train_attn: true,
      train_mlp: true,
      train_unembed: true,
    });
    try {
      for (const batch of BATCHES) {
        replay.forwardBackward(
          batch.map((tokens) => ({
            tokens: tokens.slice(0, -1),
            lossFnInputs: {
              target_tokens: { dtype: "int64" as const, data: tokens.slice(1) },
              weights: { dtype: "float32" as const, data: tokens.slice(1).map(() => 1) },
            },
          })),
          "cross_entropy",
        );
        replay.optimStep({ learning_rate: LEARNING_RATE });
      }
      const expected = readSafetensors(replay.saveWeights());
      assert.deepEqual([...got.tensors.keys()].sort(), [...expected.tensors.keys()].sort());
      let trainedB = 0;
      for (const [name, tensor] of expected.tensors) {
        const mine = got.tensors.get(name);
        assert.ok(mine, name);
        assert.deepEqual(mine.shape, tensor.shape, name);
        assert.deepEqual(mine.data, tensor.data, `${name} differs from the replayed training`);
        if (name.includes("lora_B") && tensor.data.some((v) => v !== 0)) trainedB++;
      }
      // LoRA B starts at zero: non-zero B matrices show the weights were really trained.
      assert.ok(trainedB > 0, "no lora_B tensor moved away from zero");
    } finally {
      replay.dispose();
    }
    // And the archive is the run's checkpoint the server lists.
    assert.match(path, /^tinker:\/\/[^/]+\/weights\/e2e$/);
  });
});
