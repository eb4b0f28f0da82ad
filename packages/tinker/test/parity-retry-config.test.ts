// The sampling client's retryConfig against tinker-local (issue 10 item 2): bad values are a
// ValidationError before anything is sent; the progress watchdog stops a sample that never
// progresses although every poll answers try_again (a tiny progressTimeout); enableRetryLogic and
// isRetryable decide whether a lost sample (410) is resubmitted.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  APIConnectionError,
  DEFAULT_RETRY_CONFIG,
  FutureExpiredError,
  type RetryConfig,
  SamplingStuckError,
  ServiceClient,
  ValidationError,
} from "tinker-ts";

const MODEL = "tinker-local/tiny";
const POLL = "/api/v1/retrieve_future";
const params = { maxTokens: 2, seed: 3 };
const stillWaiting = { type: "try_again", request_id: "x", queue_state: "active" };

describe("sampling retryConfig against tinker-local", () => {
  let server: LocalServer;
  let client: ServiceClient;

  before(async () => {
    server = await startServer({ port: 0, longPollHoldMs: 200 });
    client = new ServiceClient({ apiKey: "tml-local-dev", baseUrl: server.url, logLevel: "off" });
    await client.openSession();
  });
  after(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    server.faults.clear();
    server.clearRequests();
  });

  it("has Python's defaults, in milliseconds", () => {
    assert.deepEqual(DEFAULT_RETRY_CONFIG, {
      progressTimeout: 7_200_000,
      retryDelayBase: 500,
      retryDelayMax: 10_000,
      jitterFactor: 0.25,
      enableRetryLogic: true,
      enableStuckDetection: true,
    });
  });

  it("bad values are a ValidationError naming the field, and no sampler is created", async () => {
    const bad: [RetryConfig, string][] = [
      [{ progressTimeout: 0 }, "retryConfig.progressTimeout"],
      [{ progressTimeout: Number.POSITIVE_INFINITY }, "retryConfig.progressTimeout"],
      [{ retryDelayBase: -1 }, "retryConfig.retryDelayBase"],
      [{ retryDelayBase: 2000, retryDelayMax: 1000 }, "retryConfig.retryDelayMax"],
      [{ jitterFactor: 1.5 }, "retryConfig.jitterFactor"],
      [{ enableRetryLogic: "yes" as never }, "retryConfig.enableRetryLogic"],
      [{ enableStuckDetection: 1 as never }, "retryConfig.enableStuckDetection"],
      [{ isRetryable: true as never }, "retryConfig.isRetryable"],
      [{ progress_timeout: 5 } as never, "retryConfig.progress_timeout"],
    ];
    for (const [retryConfig, field] of bad) {
      await assert.rejects(
        client.createSamplingClient({ baseModel: MODEL, retryConfig }),
        (e: unknown) => e instanceof ValidationError && e.field === field,
        JSON.stringify(retryConfig),
      );
    }
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/create_sampling_session").length, 0);
  });

  it("the watchdog stops a sample that never progresses while polls answer try_again", async () => {
    const sampler = await client.createSamplingClient({
      baseModel: MODEL,
      retryConfig: { progressTimeout: 300 },
    });
    server.faults.add({ path: POLL, status: 200, body: stillWaiting, times: 1_000_000, delayMs: 5 });
    const future = sampler.sample([1, 2, 3], { samplingParams: params });
    await assert.rejects(future, (e: unknown) => {
      assert.ok(e instanceof SamplingStuckError, String(e));
      assert.ok(e instanceof APIConnectionError, "Python raises an APIConnectionError");
      assert.equal(e.progressTimeoutMs, 300);
      assert.equal(e.requestId, future.requestId);
      assert.match(e.message, /No progress made in 300 ms.*appear to be stuck/);
      return true;
    });
    // It did not resubmit: one sample submitted, and polling stopped.
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/asample").length, 1);
    server.faults.clear();
    // A poll already on the wire at the stop may still be logged; after that, none follows.
    const pollCount = () => server.requests().filter((r) => r.path === POLL).length;
    await new Promise((r) => setTimeout(r, 100));
    const polls = pollCount();
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(pollCount(), polls, "no poll after the stop");
    // The client goes on: the next call starts a fresh progress window.
    const ok = await sampler.sample([1, 2, 3], { samplingParams: params });
    assert.equal(ok.sequences.length, 1);
  });

  it("a lost sample (410) is resubmitted by default, not with enableRetryLogic false or a refusing isRetryable", async () => {
    const retrying = await client.createSamplingClient({
      baseModel: MODEL,
      retryConfig: { retryDelayBase: 1, retryDelayMax: 1 },
    });
    server.faults.add({ path: POLL, status: 410, times: 1 });
    const ok = await retrying.sample([1, 2, 3], { samplingParams: params });
    assert.equal(ok.sequences.length, 1);
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/asample").length, 2);

    server.clearRequests();
    const noRetry = await client.createSamplingClient({
      baseModel: MODEL,
      retryConfig: { enableRetryLogic: false },
    });
    server.faults.add({ path: POLL, status: 410, times: 1 });
    await assert.rejects(noRetry.sample([1, 2, 3], { samplingParams: params }), FutureExpiredError);
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/asample").length, 1);

    server.clearRequests();
    const seen: unknown[] = [];
    const picky = await client.createSamplingClient({
      baseModel: MODEL,
      retryConfig: {
        isRetryable: (e) => {
          seen.push(e);
          return false;
        },
      },
    });
    server.faults.add({ path: POLL, status: 410, times: 1 });
    await assert.rejects(picky.sample([1, 2, 3], { samplingParams: params }), FutureExpiredError);
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof FutureExpiredError);
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/asample").length, 1);
  });

  it("the descriptor carries the retryConfig (without the predicate)", async () => {
    const sampler = await client.createSamplingClient({
      baseModel: MODEL,
      retryConfig: { progressTimeout: 5000, retryDelayBase: 100, jitterFactor: 0 },
    });
    const d = sampler.toDescriptor();
    assert.equal(d.stuckTimeoutMs, 5000);
    assert.deepEqual(d.retryConfig, {
      retryDelayBase: 100,
      retryDelayMax: 10_000,
      jitterFactor: 0,
      enableRetryLogic: true,
      enableStuckDetection: true,
    });
  });
});
