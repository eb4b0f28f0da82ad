// The complete_metadata response-byte budget (contract 1.7 and 5.2; Python's
// _inflight_response_bytes_semaphore): an announced payload reserves its size from the session's
// budget before it is fetched and keeps it until its future ends, so large payloads download a few
// at a time; against a scripted transport for the ordering, and against tinker-local announcing
// every result for the whole path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startServer } from "tinker-local";
import { Datum, RequestFailedError, ServiceClient } from "tinker-ts";
import { silentLogger } from "../src/client/logger.js";
import { ByteBudget } from "../src/clients/byte-budget.js";
import { type PollReply, type PollTransport, pollFuture } from "../src/futures/poll.js";

const enc = new TextEncoder();
const json = (value: unknown): PollReply => ({
  status: 200,
  headers: new Headers({ "content-type": "application/json" }),
  body: enc.encode(JSON.stringify(value)),
});
const decoder = { name: "SaveWeightsResponse", json: (v: unknown) => v as { path: string } };

/** A transport scripted per request id; a step may be a promise the test resolves later. */
function scripted(steps: Record<string, (PollReply | Promise<PollReply>)[]>) {
  const calls: { requestId: string; allowMetadataOnly: boolean }[] = [];
  const transport: PollTransport = async (params) => {
    calls.push({ requestId: params.requestId, allowMetadataOnly: params.allowMetadataOnly });
    const next = steps[params.requestId]!.shift();
    if (next === undefined) throw new Error(`no step left for ${params.requestId}`);
    return next;
  };
  return { transport, calls };
}

const poll = (requestId: string, transport: PollTransport, budget: ByteBudget) =>
  pollFuture({
    requestId,
    requestType: "SaveWeights",
    decoder,
    wireFormat: "json",
    transport,
    sleep: async () => {},
    now: () => 0,
    logger: silentLogger,
    responseBudget: budget,
  });

describe("the complete_metadata response budget", () => {
  it("reserves the announced size until the future ends; a later payload waits for room", async () => {
    const budget = new ByteBudget(10);
    let releaseA!: (reply: PollReply) => void;
    const payloadA = new Promise<PollReply>((resolve) => {
      releaseA = resolve;
    });
    const { transport, calls } = scripted({
      a: [json({ status: "complete_metadata", response_payload_size: 12 }), payloadA],
      b: [json({ status: "complete_metadata", response_payload_size: 5 }), json({ path: "b" })],
    });
    const a = poll("a", transport, budget);
    while (calls.length < 2) await new Promise((r) => setImmediate(r));
    assert.equal(budget.balance, -2, "a holds its 12 bytes while its payload is fetched");
    const b = poll("b", transport, budget);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      calls.map((c) => [c.requestId, c.allowMetadataOnly]),
      [
        ["a", true],
        ["a", false],
        ["b", true],
      ],
      "b's payload is not asked for while the budget is below 0",
    );
    assert.equal(budget.waiting, 1);
    releaseA(json({ path: "a" }));
    assert.deepEqual(await a, { path: "a" });
    assert.deepEqual(await b, { path: "b" });
    assert.deepEqual(calls.at(-1), { requestId: "b", allowMetadataOnly: false });
    assert.equal(budget.balance, 10, "everything given back");
  });

  it("gives the bytes back when the future fails after the announcement, and ignores a missing size", async () => {
    const budget = new ByteBudget(10);
    const { transport } = scripted({
      f: [
        json({ status: "complete_metadata", response_payload_size: 7 }),
        json({ error: "boom", category: "server" }),
      ],
      z: [json({ status: "complete_metadata" }), json({ path: "z" })],
    });
    await assert.rejects(poll("f", transport, budget), RequestFailedError);
    assert.equal(budget.balance, 10);
    assert.deepEqual(await poll("z", transport, budget), { path: "z" });
    assert.equal(budget.balance, 10);
  });

  it("against tinker-local announcing every result: training and sampling answers are unchanged", async () => {
    const tokens = [104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 10];
    const run = async (announce: boolean) => {
      const server = await startServer({
        port: 0,
        ...(announce
          ? { metadataOnlyAboveBytes: 0, clientConfig: { inflight_response_bytes_semaphore_size: 64 } }
          : {}),
      });
      const client = new ServiceClient({
        apiKey: "tml-local-dev",
        baseUrl: server.url,
        logLevel: "off",
        telemetry: false,
      });
      try {
        const training = await client.createLoraTrainingClient("tinker-local/tiny", { rank: 4, seed: 9 });
        const data = [Datum.forNextTokenPrediction(tokens)];
        await training.forwardBackward(data, "cross_entropy");
        await training.optimStep({ learningRate: 0.05 });
        const forward = await training.forward(data, "cross_entropy");
        const sampler = await training.saveWeightsAndGetSamplingClient();
        // Four at once with a 64-byte budget: each payload is larger, so they are fetched in turn.
        const samples = await Promise.all(
          [1, 2, 3, 4].map((seed) =>
            sampler.sample(tokens.slice(0, 4), { numSamples: 2, samplingParams: { maxTokens: 6, seed } }),
          ),
        );
        const polls = server.requests().filter((r) => r.path === "/api/v1/retrieve_future").length;
        return { logprobs: forward.lossFnOutputs[0]!.logprobs!.toArray(), samples, polls };
      } finally {
        await client.close();
        await server.close();
      }
    };
    const plain = await run(false);
    const announced = await run(true);
    assert.deepEqual(announced.logprobs, plain.logprobs);
    assert.deepEqual(announced.samples, plain.samples);
    // create_model, fb, optim, forward, save and 4 samples: 9 futures, one announcement each.
    assert.equal(announced.polls - plain.polls, 9);
  });
});
