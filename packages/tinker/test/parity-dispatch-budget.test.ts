// Dispatch byte budgets (contract 1.7) against a real tinker-local. Every asample / forward_backward
// POST is slowed down on the server by an injected delay, so requests the SDK sends together overlap
// on the server; the overlap is read from the server's request log (start = finish − duration).
// With a budget smaller than one request, the SDK sends them one at a time (oversized requests are
// admitted alone); with the default budget the same calls do overlap, so the check can fail.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { Datum, ServiceClient } from "tinker-ts";

const MODEL = "tinker-local/tiny";
const PROMPT = [104, 101, 108, 108, 111, 32]; // 6 tokens: estimated 60 bytes
const CALLS = 8;
const DELAY_MS = 40;

/** Most requests to `path` the server was handling at the same moment. */
function maxOverlap(server: LocalServer, path: string): number {
  const events = server
    .requests()
    .filter((r) => r.path === path && r.status === 200)
    .flatMap((r) => [
      { t: r.time - r.durationMs, d: 1 },
      { t: r.time, d: -1 },
    ])
    .sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of events) {
    now += e.d;
    most = Math.max(most, now);
  }
  return most;
}

describe("dispatch byte budgets against tinker-local", () => {
  const servers: LocalServer[] = [];
  const clients: ServiceClient[] = [];
  after(async () => {
    for (const c of clients) await c.close();
    for (const s of servers) await s.close();
  });

  async function setup(clientConfig: Record<string, unknown>) {
    const server = await startServer({ port: 0, clientConfig, longPollHoldMs: 1000 });
    servers.push(server);
    const client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
    clients.push(client);
    return { server, client };
  }

  async function concurrentSamples(clientConfig: Record<string, unknown>): Promise<number> {
    const { server, client } = await setup(clientConfig);
    const sampler = await client.createSamplingClient({ baseModel: MODEL });
    server.faults.add({ path: "/api/v1/asample", delayMs: DELAY_MS, times: CALLS });
    const results = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        sampler.sample(PROMPT, { samplingParams: { maxTokens: 3, seed: i } }),
      ),
    );
    assert.equal(results.length, CALLS);
    for (const r of results) assert.equal(r.sequences.length, 1);
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/asample").length, CALLS);
    return maxOverlap(server, "/api/v1/asample");
  }

  it("sample_dispatch_bytes_semaphore_size 50: every sample completes, one asample POST at a time", async () => {
    assert.equal(await concurrentSamples({ sample_dispatch_bytes_semaphore_size: 50 }), 1);
  });

  it("the default budget lets the same samples overlap (the check above can fail)", async () => {
    assert.ok((await concurrentSamples({})) > 1);
  });

  async function chunkedForwardBackward(clientConfig: Record<string, unknown>): Promise<number> {
    const { server, client } = await setup({ fwdbwd_max_chunk_len: 1, ...clientConfig });
    const training = await client.createLoraTrainingClient(MODEL, { rank: 2, seed: 1 });
    const data = Array.from({ length: 4 }, (_, i) => Datum.forNextTokenPrediction([...PROMPT, 97 + i]));
    server.faults.add({ path: "/api/v1/forward_backward", delayMs: DELAY_MS, times: data.length });
    const out = await training.forwardBackward(data, "cross_entropy");
    assert.equal(out.lossFnOutputs.length, data.length);
    return maxOverlap(server, "/api/v1/forward_backward");
  }

  it("fwdbwd_dispatch_bytes_semaphore_size 1: the chunks of one call are submitted one at a time", async () => {
    assert.equal(await chunkedForwardBackward({ fwdbwd_dispatch_bytes_semaphore_size: 1 }), 1);
  });

  it("the default budget submits those chunks together", async () => {
    assert.ok((await chunkedForwardBackward({})) > 1);
  });
});
