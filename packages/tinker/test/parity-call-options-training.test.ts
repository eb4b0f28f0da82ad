// Per-call { signal, timeout, headers } and future.cancel() on the training methods, against a real
// tinker-local: a call stopped before it was sent rejects at once and gives up its seq id (filled
// with a no-op in its turn), a call stopped after the server accepted it is still applied once, and
// in every case the model's later calls go through and every seq id is applied exactly once (read
// from the server's own record). Weights are compared with clean runs through forward logprobs.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  APIUserAbortError,
  CallTimeoutError,
  Datum,
  FutureCancelledError,
  ServiceClient,
  type TrainingClient,
  ValidationError,
} from "tinker-ts";

const KEY = "tml-local-dev";
const MODEL = "tinker-local/tiny";
const LORA = { rank: 4, seed: 5 };
const FB = "/api/v1/forward_backward";
const POLL = "/api/v1/retrieve_future";

const batch = (offset: number) =>
  [
    [109, 97, 112, 108, 101, 61, 77, 65, 80, 76, 69, 10],
    [111, 97, 107, 61, 79, 65, 75, 10],
  ].map((tokens) => Datum.forNextTokenPrediction(tokens.map((t) => (t + offset) % 256)));

const isAbort = (submitted: boolean) => (e: unknown) =>
  e instanceof APIUserAbortError &&
  (submitted ? /after the server accepted it/ : /before the server acknowledged it/).test(e.message);

describe("per-call options and cancel() on training calls (tinker-local)", () => {
  let server: LocalServer;
  let client: ServiceClient;

  before(async () => {
    server = await startServer({ port: 0, recordHeaders: ["x-trace-id"] });
    client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", telemetry: false });
  });
  after(async () => {
    await client.close();
    await server.close();
  });
  afterEach(() => server.faults.clear());

  const lora = () => client.createLoraTrainingClient(MODEL, LORA);
  const logprobsOf = async (t: TrainingClient) =>
    (await t.forward(batch(0), "cross_entropy")).lossFnOutputs.map((o) => o.logprobs!.toArray());
  /** Waits until the server has received (not answered) a request a fault matched. */
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 10));
  };
  const consecutive = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  /** A reference: the same calls, minus the stopped one, on a fresh model with the same seed. */
  const reference = async (steps: ((t: TrainingClient) => Promise<unknown>)[]) => {
    const t = await lora();
    for (const step of steps) await step(t);
    return logprobsOf(t);
  };
  const fb = (offset: number) => (t: TrainingClient) => t.forwardBackward(batch(offset), "cross_entropy");
  const step = (t: TrainingClient) => t.optimStep({ learningRate: 0.05 });

  it("aborted before it was sent: each method rejects, its seq id is filled, later calls go on", async () => {
    const training = await lora();
    const calls: [string, (signal: AbortSignal) => PromiseLike<unknown>][] = [
      ["forward", (signal) => training.forward(batch(1), "cross_entropy", undefined, { signal })],
      [
        "forwardBackward",
        (signal) => training.forwardBackward(batch(1), "cross_entropy", undefined, { signal }),
      ],
      ["optimStep", (signal) => training.optimStep({ learningRate: 0.05 }, { signal })],
      [
        "forwardBackwardCustom",
        (signal) =>
          training.forwardBackwardCustom(
            batch(1),
            (_d, lp) => ({ loss: 0, grads: lp.map((l) => Array.from(l, () => 1)) }),
            { signal },
          ),
      ],
    ];
    const requestsBefore = server.requests().filter((r) => r.path === FB).length;
    for (const [name, call] of calls) {
      const controller = new AbortController();
      const future = call(controller.signal);
      controller.abort();
      await assert.rejects(Promise.resolve(future), isAbort(false), name);
    }
    // The calls after them run, in order, and see none of the stopped calls' effects.
    await training.forwardBackward(batch(0), "cross_entropy");
    await training.optimStep({ learningRate: 0.05 });
    // Seq ids: forward 1, forwardBackward 2, optimStep 3, custom 4-5 (two passes), then 6 and 7.
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), consecutive(7));
    // Each stopped call's seq ids were filled with one forward-only no-op (custom: two), and the
    // stopped calls themselves sent nothing.
    const fbRequests = server.requests().filter((r) => r.path === FB).length - requestsBefore;
    assert.equal(fbRequests, 5 + 1, "five fillers (seq 1-5), then the real one");
    assert.deepEqual(await logprobsOf(training), await reference([fb(0), step]));
  });

  it("aborted while waiting for its turn behind a slow submit: rejects at once, the order holds", async () => {
    const training = await lora();
    const slow = server.faults.add({ method: "POST", path: FB, delayMs: 1500 });
    const first = training.forwardBackward(batch(0), "cross_entropy");
    const controller = new AbortController();
    const stopped = training.forwardBackward(batch(2), "cross_entropy", undefined, {
      signal: controller.signal,
    });
    const next = training.optimStep({ learningRate: 0.05 });
    controller.abort();
    await assert.rejects(Promise.resolve(stopped), isAbort(false));
    assert.equal(first.done, false, "the stop did not wait for the earlier call");
    await Promise.all([first, next]);
    assert.equal(slow.hits, 1);
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), consecutive(3));
    assert.deepEqual(await logprobsOf(training), await reference([fb(0), step]));
  });

  it("aborted after the server accepted it: polling stops, the server applies it once", async () => {
    const training = await lora();
    // The first poll of the call hangs, so the call is certainly submitted and still waiting.
    const hang = server.faults.add({ path: POLL, hang: true });
    const controller = new AbortController();
    const future = training.forwardBackward(batch(0), "cross_entropy", undefined, {
      signal: controller.signal,
    });
    await future.submitted();
    await until(() => hang.hits === 1);
    controller.abort();
    await assert.rejects(Promise.resolve(future), isAbort(true));
    await training.optimStep({ learningRate: 0.05 });
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), consecutive(2));
    assert.deepEqual(await logprobsOf(training), await reference([fb(0), step]), "applied, once");
  });

  it("aborted while its submit was on the wire: applied at most once, later calls go on", async () => {
    const training = await lora();
    const slow = server.faults.add({ method: "POST", path: FB, delayMs: 800 });
    const controller = new AbortController();
    const future = training.forwardBackward(batch(0), "cross_entropy", undefined, {
      signal: controller.signal,
    });
    await until(() => slow.hits === 1);
    controller.abort();
    await assert.rejects(Promise.resolve(future), isAbort(false));
    await training.optimStep({ learningRate: 0.05 });
    // Seq 1 is the aborted request or its no-op filler, whichever reached the server first: once.
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), consecutive(2));
    const now = await logprobsOf(training);
    const withIt = await reference([fb(0), step]);
    const withoutIt = await reference([step]);
    assert.ok(
      JSON.stringify(now) === JSON.stringify(withIt) || JSON.stringify(now) === JSON.stringify(withoutIt),
      "the weights are those of applying it once or not at all",
    );
  });

  it("timeout: CallTimeoutError, submitted or not, and the order holds", async () => {
    const training = await lora();
    const hang = server.faults.add({ path: POLL, hang: true });
    await assert.rejects(
      Promise.resolve(training.forwardBackward(batch(0), "cross_entropy", undefined, { timeout: 300 })),
      (e: unknown) =>
        e instanceof CallTimeoutError && e.submitted && e.timeoutMs === 300 && e.requestId !== undefined,
    );
    assert.equal(hang.hits, 1, "it timed out in the hung poll");
    const slow = server.faults.add({ method: "POST", path: "/api/v1/optim_step", delayMs: 1500 });
    await assert.rejects(
      Promise.resolve(training.optimStep({ learningRate: 0.05 }, { timeout: 200 })),
      (e: unknown) => e instanceof CallTimeoutError && !e.submitted,
    );
    assert.equal(slow.hits, 1);
    await training.optimStep({ learningRate: 0.05 });
    // Seq 2 is the timed-out optim step or its filler: each seq id once.
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), consecutive(3));
  });

  it("cancel(): before and after submission, FutureCancelledError, later calls go on", async () => {
    const training = await lora();
    const early = training.forwardBackward(batch(3), "cross_entropy");
    assert.equal(early.cancel(), true);
    assert.equal(early.cancel(), false, "a second cancel changes nothing");
    await assert.rejects(
      Promise.resolve(early),
      (e: unknown) => e instanceof FutureCancelledError && !e.submitted,
    );
    const hang = server.faults.add({ path: POLL, hang: true });
    const late = training.forwardBackward(batch(0), "cross_entropy");
    const id = await late.submitted();
    await until(() => hang.hits === 1);
    late.cancel();
    await assert.rejects(
      Promise.resolve(late),
      (e: unknown) => e instanceof FutureCancelledError && e.submitted && e.requestId === id,
    );
    const done = training.optimStep({ learningRate: 0.05 });
    await done;
    assert.equal(done.cancel(), false, "a settled future is not cancelled");
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), consecutive(3));
    assert.deepEqual(await logprobsOf(training), await reference([fb(0), step]));
  });

  it("headers reach the server on the call's submits and polls, and only there", async () => {
    const training = await lora();
    server.clearRequests();
    await training.forwardBackward(batch(0), "cross_entropy", undefined, {
      headers: { "X-Trace-Id": "fb-1" },
    });
    await training.optimStep({ learningRate: 0.05 }, { headers: { "x-trace-id": "step-1" } });
    await training.forward(batch(0), "cross_entropy");
    const traced = server
      .requests()
      .filter((r) => r.path !== "/api/v1/session_heartbeat")
      .map((r) => [r.path, r.headers["x-trace-id"] ?? null]);
    const paths = (id: string | null) => traced.filter(([, t]) => t === id).map(([p]) => p);
    assert.deepEqual([...new Set(paths("fb-1"))], [FB, POLL]);
    assert.deepEqual([...new Set(paths("step-1"))], ["/api/v1/optim_step", POLL]);
    assert.deepEqual([...new Set(paths(null))], [FB, POLL], "the untraced forward carries none");
  });

  it("reserved or malformed headers are refused before anything is sent or reserved", async () => {
    const training = await lora();
    for (const name of ["X-API-Key", "x-idempotency-key", "Content-Type", "X-Tinker-Retry-Count"]) {
      assert.throws(
        () => training.forwardBackward(batch(0), "cross_entropy", undefined, { headers: { [name]: "x" } }),
        (e: unknown) => e instanceof ValidationError && e.field === `options.headers.${name}`,
      );
    }
    assert.throws(
      () => training.optimStep({}, { headers: { "bad name": "x" } }),
      (e: unknown) => e instanceof ValidationError,
    );
    assert.throws(
      () => training.optimStep({}, { timeout: -1 }),
      (e: unknown) => e instanceof ValidationError && e.field === "options.timeout",
    );
    assert.throws(
      () => training.optimStep({}, { retries: 3 } as never),
      (e: unknown) => e instanceof ValidationError && e.field === "options.retries",
    );
    // None of them took a seq id: the next call is seq 1.
    await training.optimStep({ learningRate: 0.05 });
    assert.deepEqual(server.models.appliedSeqIds(training.modelId), [1]);
  });
});
