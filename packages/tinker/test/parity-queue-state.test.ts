// Queue-state reporting against tinker-local (issue 10 item 1): a paused future warns by default,
// naming the model or sampler and the server's reason, at most once a minute per client (counted on
// a clock the test steps: every poll moves it 25 s), the typed queueState events still fire on
// every report, and model creation reports queue state and honours its {signal, timeout}.
// The paused answers are injected try_again bodies with the queue states the real service sends
// (contract 4.14).

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  APIUserAbortError,
  ByteLevelTokenizer,
  Datum,
  type Logger,
  ModelCreationTimeoutError,
  type QueueStateEvent,
  ServiceClient,
  type TrainingClient,
  ValidationError,
} from "tinker-ts";

const MODEL = "tinker-local/tiny";
const POLL = "/api/v1/retrieve_future";
const tok = new ByteLevelTokenizer();
const data = [Datum.forNextTokenPrediction(tok.encode("queue states"))];

function paused(state: "paused_rate_limit" | "paused_capacity", reason?: string) {
  return {
    type: "try_again",
    request_id: "injected",
    queue_state: state,
    ...(reason !== undefined ? { queue_state_reason: reason } : {}),
  };
}

describe("queue-state warnings and model creation against tinker-local", () => {
  let server: LocalServer;
  let client: ServiceClient;
  let training: TrainingClient;
  const warnings: string[] = [];
  let offset = 0;
  let step = 25_000;
  // Real timers, a time that jumps 25 s at every poll the SDK sends.
  const clock = {
    now: () => Date.now() + offset,
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
  } as unknown as NonNullable<ConstructorParameters<typeof ServiceClient>[0]>["clock"];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message) => warnings.push(message),
    error() {},
  };

  before(async () => {
    server = await startServer({ port: 0, longPollHoldMs: 200 });
    const steppingFetch: typeof fetch = (input, init) => {
      if (new URL(String(input)).pathname === POLL) offset += step;
      return fetch(input, init);
    };
    client = new ServiceClient({
      apiKey: "tml-local-dev",
      baseUrl: server.url,
      logger,
      logLevel: "warn",
      clock,
      fetch: steppingFetch,
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
    warnings.length = 0;
  });

  it("a paused training future warns once per 60 s per client, and every report is still an event", async () => {
    server.faults.add({
      path: POLL,
      status: 200,
      body: paused("paused_rate_limit", "injected limit"),
      times: 5,
    });
    const events: QueueStateEvent[] = [];
    const future = training.forward(data, "cross_entropy");
    future.on("queueState", (e) => events.push(e));
    await future;
    // Five paused answers 25 s apart: warned at the first and at the fourth (75 s later), not between.
    assert.equal(events.length, 5);
    assert.ok(events.every((e) => e.state === "paused_rate_limit" && e.reason === "injected limit"));
    const pausedWarnings = warnings.filter((w) => w.includes("is paused"));
    assert.equal(pausedWarnings.length, 2, pausedWarnings.join("\n"));
    assert.match(pausedWarnings[0]!, new RegExp(`Training for model ${training.modelId} is paused`));
    assert.match(pausedWarnings[0]!, /rate limit.*injected limit/);

    // The throttle is the client's, not the future's: a second future paused 50 s after the last
    // warning (the clock stops stepping) is quiet.
    warnings.length = 0;
    step = 0;
    server.faults.add({ path: POLL, status: 200, body: paused("paused_capacity", "busy"), times: 1 });
    await training.forward(data, "cross_entropy");
    assert.equal(warnings.filter((w) => w.includes("is paused")).length, 0);
    step = 25_000;
  });

  it("an active state never warns", async () => {
    server.faults.add({
      path: POLL,
      status: 200,
      body: { type: "try_again", request_id: "x", queue_state: "active" },
      times: 4,
    });
    offset += 120_000;
    await training.forward(data, "cross_entropy");
    assert.deepEqual(warnings, []);
  });

  it("a paused sample warns naming the sampler, with Python's fallback reason when none is given", async () => {
    const sampler = await client.createSamplingClient({ baseModel: MODEL });
    server.faults.add({ path: POLL, status: 200, body: paused("paused_rate_limit"), times: 1 });
    const result = await sampler.sample([1, 2, 3], { samplingParams: { maxTokens: 2, seed: 1 } });
    assert.equal(result.sequences.length, 1);
    const pausedWarnings = warnings.filter((w) => w.includes("is paused"));
    assert.equal(pausedWarnings.length, 1);
    assert.match(
      pausedWarnings[0]!,
      new RegExp(`Sampling for sampler ${sampler.samplingSessionId} is paused`),
    );
    assert.match(pausedWarnings[0]!, /concurrent sampler weights limit hit/);
  });

  it("model creation reports its queue state (events and the warning)", async () => {
    server.faults.add({ path: POLL, status: 200, body: paused("paused_capacity", "no free GPU"), times: 2 });
    const events: QueueStateEvent[] = [];
    const created = await client.createLoraTrainingClient(MODEL, {
      rank: 4,
      onQueueState: (e) => events.push(e),
    });
    assert.match(created.modelId, /:train:/);
    assert.deepEqual(
      events.map((e) => [e.state, e.reason]),
      [
        ["paused_capacity", "no free GPU"],
        ["paused_capacity", "no free GPU"],
      ],
    );
    const pausedWarnings = warnings.filter((w) => w.includes("is paused"));
    assert.equal(pausedWarnings.length, 1);
    assert.match(
      pausedWarnings[0]!,
      new RegExp(`Model creation for ${MODEL} is paused by the server \\(capacity\\): no free GPU`),
    );
  });

  it("model creation honours an abort while it waits, and an aborted signal sends nothing", async () => {
    server.faults.add({
      path: POLL,
      status: 200,
      body: paused("paused_capacity", "busy"),
      times: 1000,
      delayMs: 5,
    });
    const controller = new AbortController();
    await assert.rejects(
      client.createLoraTrainingClient(MODEL, {
        rank: 4,
        signal: controller.signal,
        onQueueState: () => controller.abort(new Error("user stop")),
      }),
      (e: unknown) => e instanceof APIUserAbortError,
    );
    const creates = server.requests().filter((r) => r.path === "/api/v1/create_model");
    assert.equal(creates.length, 1, "the create was sent once and not retried");

    server.faults.clear();
    server.clearRequests();
    await assert.rejects(
      client.createLoraTrainingClient(MODEL, { signal: AbortSignal.abort() }),
      (e: unknown) => e instanceof APIUserAbortError,
    );
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/create_model").length, 0);
  });

  it("model creation honours its timeout: before the ack (nothing accepted) and after it (request id named)", async () => {
    server.faults.add({ path: "/api/v1/create_model", hang: true, times: 1 });
    await assert.rejects(
      client.createLoraTrainingClient(MODEL, { rank: 4, timeout: 300 }),
      (e: unknown) =>
        e instanceof ModelCreationTimeoutError && e.requestId === undefined && e.timeoutMs === 300,
    );

    server.faults.clear();
    server.faults.add({
      path: POLL,
      status: 200,
      body: paused("paused_capacity", "busy"),
      times: 100_000,
      delayMs: 5,
    });
    await assert.rejects(
      client.createLoraTrainingClient(MODEL, { rank: 4, timeout: 300 }),
      (e: unknown) =>
        e instanceof ModelCreationTimeoutError &&
        typeof e.requestId === "string" &&
        /may still create the model/.test(e.message),
    );
    server.faults.clear();
    // The client is still usable afterwards.
    await training.forward(data, "cross_entropy");
  });

  it("createTrainingClientFromState reports queue state and honours its timeout", async () => {
    const saved = await training.saveState("qs-state");
    server.faults.add({ path: POLL, status: 200, body: paused("paused_capacity", "restoring"), times: 1 });
    const events: QueueStateEvent[] = [];
    const restored = await client.createTrainingClientFromState(saved.path, {
      onQueueState: (e) => events.push(e),
    });
    assert.match(restored.modelId, /:train:/);
    assert.deepEqual(
      events.map((e) => e.reason),
      ["restoring"],
    );

    server.faults.add({
      path: POLL,
      status: 200,
      body: paused("paused_capacity", "busy"),
      times: 100_000,
      delayMs: 5,
    });
    await assert.rejects(
      client.createTrainingClientFromState(saved.path, { timeout: 300 }),
      (e: unknown) => e instanceof ModelCreationTimeoutError,
    );
    server.faults.clear();
  });

  it("bad creation options are a ValidationError before anything is sent", async () => {
    for (const options of [{ timeout: 0 }, { timeout: Number.NaN }, { signal: "x" }, { onQueueState: 3 }]) {
      await assert.rejects(
        client.createLoraTrainingClient(MODEL, options as never),
        (e: unknown) => e instanceof ValidationError,
        JSON.stringify(options),
      );
    }
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/create_model").length, 0);
  });
});
