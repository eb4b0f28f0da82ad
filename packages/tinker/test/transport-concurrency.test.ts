// 1,000 sample() calls at once on one ServiceClient, over the default Node transport, against a
// real tinker-local: every call gets its result and Node emits no warning (no
// MaxListenersExceededWarning from the client's lifetime signal, which every request, poll and wait
// of the client watches). The server queues instead of answering 429, so the burst is all in flight
// at the HTTP layer rather than spread out by the sampling backoff.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { ServiceClient } from "tinker-ts";

const CALLS = 1000;

describe("1,000 concurrent sample() calls on the Node transport", () => {
  let server: LocalServer;
  let client: ServiceClient;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  before(async () => {
    server = await startServer({ port: 0, maxQueuedWork: 100_000 });
    client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
    process.on("warning", onWarning);
  });
  after(async () => {
    process.off("warning", onWarning);
    await client.close();
    await server.close();
  });

  it("all 1,000 return a sequence and no warning event is emitted", async () => {
    const sampler = await client.createSamplingClient({ baseModel: "tinker-local/tiny" });
    const prompt = [...Buffer.from("hello", "utf8")];
    const results = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        sampler.sample(prompt, { samplingParams: { maxTokens: 1, seed: i, temperature: 1 } }),
      ),
    );
    assert.equal(results.length, CALLS);
    for (const r of results) assert.equal(r.sequences[0]?.tokens.length, 1);
    const asamples = server.requests().filter((r) => r.path === "/api/v1/asample");
    assert.equal(asamples.filter((r) => r.status === 200).length, CALLS);
    // Warnings are emitted on a later tick: let them arrive before looking.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
  });
});
