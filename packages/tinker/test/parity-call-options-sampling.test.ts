// Per-call { signal, timeout, headers } and future.cancel() on sample() and computeLogprobs(),
// against a real tinker-local: stopped before the submit, nothing is sent; stopped while polling,
// the poll is cut and no resubmit follows; in both cases the sampler keeps working.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  APIUserAbortError,
  CallTimeoutError,
  FutureCancelledError,
  type SamplingClient,
  ServiceClient,
  ValidationError,
} from "tinker-ts";

const KEY = "tml-local-dev";
const MODEL = "tinker-local/tiny";
const PROMPT = [104, 101, 108, 108, 111];
const ASAMPLE = "/api/v1/asample";
const POLL = "/api/v1/retrieve_future";

describe("per-call options and cancel() on sampling calls (tinker-local)", () => {
  let server: LocalServer;
  let client: ServiceClient;
  let sampler: SamplingClient;

  before(async () => {
    server = await startServer({ port: 0, recordHeaders: ["x-trace-id"] });
    client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", telemetry: false });
    sampler = await client.createSamplingClient({ baseModel: MODEL });
  });
  after(async () => {
    await client.close();
    await server.close();
  });
  afterEach(() => server.faults.clear());

  const count = (path: string) => server.requests().filter((r) => r.path === path).length;
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 10));
  };
  const sampleOnce = () => sampler.sample(PROMPT, { samplingParams: { maxTokens: 4, seed: 1 } });
  type Call = (o: { signal?: AbortSignal; timeout?: number }) => PromiseLike<unknown> & {
    submitted(): Promise<string>;
    cancel(): boolean;
  };
  const calls: [string, Call][] = [
    ["sample", (o) => sampler.sample(PROMPT, { samplingParams: { maxTokens: 4 }, ...o })],
    ["computeLogprobs", (o) => sampler.computeLogprobs(PROMPT, o)],
  ];

  for (const [name, call] of calls) {
    it(`${name}: aborted before it was sent, nothing reaches the server`, async () => {
      const before = count(ASAMPLE);
      const controller = new AbortController();
      const future = call({ signal: controller.signal });
      controller.abort();
      await assert.rejects(
        Promise.resolve(future),
        (e: unknown) => e instanceof APIUserAbortError && /before the server acknowledged/.test(e.message),
      );
      await sampleOnce();
      assert.equal(count(ASAMPLE) - before, 1, "only the later sample was submitted");
    });

    it(`${name}: aborted while polling, the poll is cut and nothing is resubmitted`, async () => {
      const before = count(ASAMPLE);
      const hang = server.faults.add({ path: POLL, hang: true });
      const controller = new AbortController();
      const future = call({ signal: controller.signal });
      await future.submitted();
      await until(() => hang.hits === 1);
      controller.abort();
      await assert.rejects(
        Promise.resolve(future),
        (e: unknown) => e instanceof APIUserAbortError && /after the server accepted it/.test(e.message),
      );
      await sampleOnce();
      assert.equal(count(ASAMPLE) - before, 2, "the stopped call's one submit, then the later sample");
    });

    it(`${name}: timeout is a CallTimeoutError; cancel() a FutureCancelledError`, async () => {
      const hang = server.faults.add({ path: POLL, hang: true, times: 2 });
      await assert.rejects(
        Promise.resolve(call({ timeout: 300 })),
        (e: unknown) => e instanceof CallTimeoutError && e.submitted && e.timeoutMs === 300,
      );
      const future = call({});
      const id = await future.submitted();
      await until(() => hang.hits === 2);
      assert.equal(future.cancel(), true);
      await assert.rejects(
        Promise.resolve(future),
        (e: unknown) => e instanceof FutureCancelledError && e.submitted && e.requestId === id,
      );
      const early = call({});
      early.cancel();
      await assert.rejects(
        Promise.resolve(early),
        (e: unknown) => e instanceof FutureCancelledError && !e.submitted,
      );
      assert.ok((await sampleOnce()).sequences.length === 1, "the sampler still works");
    });
  }

  it("headers reach the server on the submit and the polls of that call only", async () => {
    server.clearRequests();
    await sampler.sample(PROMPT, { samplingParams: { maxTokens: 4 }, headers: { "X-Trace-Id": "s-1" } });
    await sampler.computeLogprobs(PROMPT, { headers: { "x-trace-id": "lp-1" } });
    await sampleOnce();
    const traced = server.requests().filter((r) => r.path === ASAMPLE || r.path === POLL);
    const paths = (id: string | undefined) => [
      ...new Set(traced.filter((r) => r.headers["x-trace-id"] === id).map((r) => r.path)),
    ];
    assert.deepEqual(paths("s-1"), [ASAMPLE, POLL]);
    assert.deepEqual(paths("lp-1"), [ASAMPLE, POLL]);
    assert.deepEqual(paths(undefined), [ASAMPLE, POLL], "the untraced sample carries none");
    assert.throws(
      () => sampler.sample(PROMPT, { headers: { "X-Tinker-Sampling-Backpressure": "0" } }),
      (e: unknown) =>
        e instanceof ValidationError && e.field === "options.headers.X-Tinker-Sampling-Backpressure",
    );
    assert.throws(
      () => sampler.computeLogprobs(PROMPT, { timeout: 0 }),
      (e: unknown) => e instanceof ValidationError && e.field === "options.timeout",
    );
  });
});
