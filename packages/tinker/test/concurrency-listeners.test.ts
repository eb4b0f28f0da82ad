// Many calls in flight on one ServiceClient share its lifetime signal. Node warns when one
// AbortSignal holds more than 10 listeners (MaxListenersExceededWarning); the SDK must not trip
// that false leak warning however many calls are running, and it must not do so by raising the
// limit. 50 samples and 50 forward passes at once, against a real tinker-local.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { ByteLevelTokenizer, Datum, ServiceClient } from "tinker-ts";

const MODEL = "tinker-local/tiny";
const CALLS = 50;
const tok = new ByteLevelTokenizer();

describe("50 concurrent calls on one client", () => {
  let server: LocalServer;
  let client: ServiceClient;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  before(async () => {
    // A short long-poll hold keeps every call's wait (and its watch on the signal) alive a while.
    server = await startServer({ port: 0, longPollHoldMs: 200 });
    client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
    process.on("warning", onWarning);
  });
  after(async () => {
    process.off("warning", onWarning);
    await client.close();
    await server.close();
  });

  it("samples 50 at once without a MaxListenersExceededWarning", async () => {
    const sampler = await client.createSamplingClient({ baseModel: MODEL });
    const prompt = tok.encode("hello");
    const results = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        sampler.sample(prompt, { samplingParams: { maxTokens: 2, seed: i, temperature: 1 } }),
      ),
    );
    assert.equal(results.length, CALLS);
    for (const r of results) assert.equal(r.sequences.length, 1);
    // Warnings are emitted on the next tick: let them arrive before looking.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
  });

  it("runs 50 forward passes at once without a MaxListenersExceededWarning", async () => {
    const training = await client.createLoraTrainingClient(MODEL, { rank: 2 });
    const datum = Datum.forNextTokenPrediction(tok.encode("abcdef"));
    const outs = await Promise.all(
      Array.from({ length: CALLS }, () => training.forward([datum], "cross_entropy")),
    );
    assert.equal(outs.length, CALLS);
    for (const o of outs) assert.ok(Number.isFinite(o.metrics["loss:sum"]));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
  });
});
