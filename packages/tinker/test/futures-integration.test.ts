// Futures over real HTTP against tinker-local: the poll's headers, surviving injected 408/5xx and
// dropped connections, typed errors for 410 and failed requests, timed-out and aborted waits that
// leave the client working, and close() ending pending polls.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  APIUserAbortError,
  ByteLevelTokenizer,
  ClientClosedError,
  Datum,
  FutureExpiredError,
  FutureTimeoutError,
  type QueueStateEvent,
  RequestFailedError,
  ServiceClient,
  type TrainingClient,
} from "tinker-ts";

const MODEL = "tinker-local/tiny";
const tok = new ByteLevelTokenizer();
const data = [Datum.forNextTokenPrediction(tok.encode("hello futures"))];
const POLL = "/api/v1/retrieve_future";

interface Sent {
  path: string;
  headers: Headers;
}

describe("futures against tinker-local", () => {
  let server: LocalServer;
  let client: ServiceClient;
  let training: TrainingClient;
  const sent: Sent[] = [];

  before(async () => {
    server = await startServer({ port: 0, longPollHoldMs: 1000 });
    // A fetch that records what the SDK put on the wire, then sends it for real.
    const recordingFetch: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      sent.push({ path: url.pathname, headers: new Headers(init?.headers) });
      return fetch(input, init);
    };
    client = new ServiceClient({
      apiKey: "tml-local-dev",
      baseUrl: server.url,
      logLevel: "off",
      fetch: recordingFetch,
    });
    training = await client.createLoraTrainingClient(MODEL, { rank: 4, seed: 1 });
  });
  after(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    server.faults.clear();
    server.clearRequests();
    sent.length = 0;
  });

  const pollStatuses = () =>
    server
      .requests()
      .filter((r) => r.path === POLL)
      .map((r) => r.status);

  it("sends the poll headers: iteration, request type, round-trip time on the first poll, protobuf Accept", async () => {
    server.faults.add({ path: POLL, status: 503, times: 1 });
    await training.forwardBackward(data, "cross_entropy");
    const polls = sent.filter((s) => s.path === POLL);
    assert.ok(polls.length >= 2);
    polls.forEach((p, i) => {
      assert.equal(p.headers.get("x-tinker-request-iteration"), String(i));
      assert.equal(p.headers.get("x-tinker-request-type"), "ForwardBackward");
      assert.equal(p.headers.get("accept"), "application/x-protobuf");
      assert.equal(p.headers.has("x-tinker-create-promise-roundtrip-time"), i === 0);
    });
    // Seconds as a plain non-negative decimal (the official SDK sends a float).
    assert.match(polls[0]!.headers.get("x-tinker-create-promise-roundtrip-time")!, /^\d+(\.\d+)?$/);
    sent.length = 0;
    await training.optimStep();
    const optimPolls = sent.filter((s) => s.path === POLL);
    assert.equal(optimPolls[0]!.headers.get("x-tinker-request-type"), "OptimStep");
    assert.equal(optimPolls[0]!.headers.get("accept"), "application/json");
  });

  it("survives 5xx, 408 with a queue state, and dropped connections", async () => {
    server.faults.add({ path: POLL, status: 503, times: 3 });
    const first = await training.forwardBackward(data, "cross_entropy");
    assert.deepEqual(pollStatuses().slice(0, 4), [503, 503, 503, 200]);

    server.clearRequests();
    server.faults.add({
      path: POLL,
      status: 408,
      body: { queue_state: "paused_capacity", queue_state_reason: "injected" },
      times: 1,
    });
    const events: QueueStateEvent[] = [];
    const future = training.forward(data, "cross_entropy");
    future.on("queueState", (e) => events.push(e));
    const second = await future;
    assert.deepEqual(pollStatuses(), [408, 200]);
    assert.deepEqual(
      events.map((e) => [e.state, e.reason, e.requestId]),
      [["paused_capacity", "injected", future.requestId]],
    );
    assert.deepEqual(second.lossFnOutputs.length, first.lossFnOutputs.length);

    server.clearRequests();
    server.faults.add({ path: POLL, reset: true, times: 1 });
    const third = await training.forward(data, "cross_entropy");
    assert.deepEqual(pollStatuses(), [0, 200]);
    assert.deepEqual(
      third.lossFnOutputs[0]!.logprobs!.toArray(),
      second.lossFnOutputs[0]!.logprobs!.toArray(),
    );
  });

  it("410 on a training future is a FutureExpiredError with the request id; the client goes on", async () => {
    server.faults.add({ path: POLL, status: 410, times: 1 });
    const future = training.forward(data, "cross_entropy");
    await assert.rejects(
      future,
      (e: unknown) => e instanceof FutureExpiredError && e.requestId === future.requestId,
    );
    await training.forward(data, "cross_entropy");
  });

  it("a request that fails on the server is a RequestFailedError with its category", async () => {
    const tooLong = Datum.forNextTokenPrediction(new Array(300).fill(97));
    const future = training.forward([tooLong], "cross_entropy");
    await assert.rejects(future, (e: unknown) => {
      assert.ok(e instanceof RequestFailedError, String(e));
      assert.equal(e.category, "user");
      assert.equal(e.requestId, future.requestId);
      return true;
    });
    await training.forward(data, "cross_entropy");
  });

  it("a timed-out or aborted wait raises a typed error, and the same future and client keep working", async () => {
    server.faults.add({ path: POLL, delayMs: 400, times: 1 });
    const future = training.forward(data, "cross_entropy");
    await assert.rejects(future.result({ timeout: 50 }), FutureTimeoutError);
    const controller = new AbortController();
    const aborted = future.result({ signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, APIUserAbortError);
    const result = await future.result({ timeout: 10_000 });
    assert.equal(result.lossFnOutputs.length, 1);
    const again = await training.forward(data, "cross_entropy");
    assert.deepEqual(
      again.lossFnOutputs[0]!.logprobs!.toArray(),
      result.lossFnOutputs[0]!.logprobs!.toArray(),
    );
  });
});

describe("ServiceClient.close() and pending futures", () => {
  it("ends a pending poll with ClientClosedError", async () => {
    const server = await startServer({ port: 0, longPollHoldMs: 1000 });
    const client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
    try {
      const training = await client.createLoraTrainingClient(MODEL, { rank: 2 });
      server.faults.add({ path: POLL, hang: true, times: 1 });
      const future = training.forward(data, "cross_entropy");
      await future.submitted();
      await client.close();
      await assert.rejects(future.result({ timeout: 5000 }), ClientClosedError);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
