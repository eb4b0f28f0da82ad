// A loss written once with the custom-loss toolbox trains a real tinker-local model exactly as the
// same loss with a hand-written gradient, and exactly as the built-in cross-entropy when it is
// cross-entropy; a loss that cannot be differentiated fails the call and leaves the model as it was.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  addAll,
  ByteLevelTokenizer,
  constant,
  Datum,
  differentiableLoss,
  type ForwardBackwardResult,
  type LossTensor,
  ServiceClient,
  ValidationError,
} from "tinker-ts";

const MODEL = "tinker-local/tiny";
const tok = new ByteLevelTokenizer();
const data = ["hello tinker", "the quick brown fox", "abcabcabc"].map((t) =>
  Datum.forNextTokenPrediction(tok.encode(t)),
);
const lps = (r: ForwardBackwardResult) => r.lossFnOutputs.map((o) => o.logprobs!.toArray());

describe("differentiableLoss through forwardBackwardCustom against tinker-local", () => {
  let server: LocalServer;
  let client: ServiceClient;
  before(async () => {
    server = await startServer({ port: 0, longPollHoldMs: 2000 });
    client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
  });
  after(async () => {
    await client.close();
    await server.close();
  });
  const lora = () => client.createLoraTrainingClient(MODEL, { rank: 4, seed: 11 });

  it("a differentiable cross-entropy trains exactly like the built-in cross_entropy", async () => {
    const [viaToolbox, viaBuiltin] = await Promise.all([lora(), lora()]);
    const custom = await viaToolbox.forwardBackwardCustom(
      data,
      differentiableLoss((_d, logprobs) => addAll(logprobs.map((lp) => lp.sum())).neg()),
    );
    const builtin = await viaBuiltin.forwardBackward(data, "cross_entropy");
    assert.ok(Math.abs(custom.loss - builtin.metrics["loss:sum"]!) < 1e-3);
    await Promise.all([viaToolbox, viaBuiltin].map((t) => t.optimStep({ learningRate: 0.02 })));
    const [a, b] = await Promise.all([viaToolbox, viaBuiltin].map((t) => t.forward(data, "cross_entropy")));
    assert.deepEqual(lps(a!), lps(b!));
  });

  it("a clipped importance-sampling loss gives the same model as its hand-written gradient, and moves it", async () => {
    const [viaToolbox, byHand] = await Promise.all([lora(), lora()]);
    const start = lps(await viaToolbox.forward(data, "cross_entropy"));
    // Sampler logprobs a little off the model's, so the ratio is not 1 and the clip bites somewhere.
    const sampler = start.map((row) => row.map((v, t) => v + (t % 3 === 0 ? 0.5 : -0.05)));
    const advantages = [1, -0.5, 2];
    const withToolbox = differentiableLoss((_d, logprobs) => ({
      loss: addAll(
        logprobs.map((lp, i) => {
          const ratio = lp.sub(constant(sampler[i]!)).exp();
          return ratio.clamp(0, 1.2).mul(advantages[i]!).sum();
        }),
      ).neg(),
      metrics: { "clip:mean": 1.2 },
    }));
    const handWritten = (_d: readonly Datum[], logprobs: Float32Array[]) => {
      let loss = 0;
      const grads = logprobs.map((lp, i) =>
        Array.from(lp, (v, t) => {
          const ratio = Math.exp(v - sampler[i]![t]!);
          loss -= Math.min(ratio, 1.2) * advantages[i]!;
          return ratio <= 1.2 ? -advantages[i]! * ratio : 0;
        }),
      );
      return { loss, grads };
    };
    const [a, b] = await Promise.all([
      viaToolbox.forwardBackwardCustom(data, withToolbox),
      byHand.forwardBackwardCustom(data, handWritten),
    ]);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-9, `${a.loss} vs ${b.loss}`);
    assert.equal(a.metrics["clip:mean"], 1.2);
    await Promise.all([viaToolbox, byHand].map((t) => t.optimStep({ learningRate: 0.02 })));
    const [after1, after2] = await Promise.all(
      [viaToolbox, byHand].map((t) => t.forward(data, "cross_entropy")),
    );
    assert.deepEqual(lps(after1!), lps(after2!));
    assert.notDeepEqual(lps(after1!), start, "the step changed the model");
  });

  it("a non-scalar loss is a ValidationError and the model is unchanged", async () => {
    const training = await lora();
    const start = lps(await training.forward(data, "cross_entropy"));
    await assert.rejects(
      training.forwardBackwardCustom(
        data,
        differentiableLoss((_d, logprobs) => logprobs[0]!.exp() as LossTensor),
      ),
      (e: unknown) => e instanceof ValidationError && /reduce it with/.test(e.message),
    );
    await training.optimStep({ learningRate: 0.02 });
    assert.deepEqual(lps(await training.forward(data, "cross_entropy")), start);
  });
});
