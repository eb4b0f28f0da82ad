// TinkerFuture (waiting, timeouts, aborts, caching, events), the turn gate, and the retry layer
// around submissions. Pure logic: no network.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  APIConnectionError,
  APIUserAbortError,
  ConflictError,
  FutureTimeoutError,
  makeAPIError,
  PaymentRequiredError,
  TinkerFuture,
  ValidationError,
} from "tinker-ts";
import { silentLogger } from "../src/client/logger.js";
import { submitWithRetries } from "../src/futures/submit.js";
import { TurnGate } from "../src/futures/turn-gate.js";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe("TinkerFuture", () => {
  it("starts its work at once, once, and caches the result", async () => {
    let runs = 0;
    const gate = deferred<number>();
    const future = new TinkerFuture(async (handle) => {
      runs++;
      handle.setRequestId("r-1");
      return gate.promise;
    });
    await tick();
    assert.equal(runs, 1);
    assert.equal(future.requestId, "r-1");
    assert.equal(await future.submitted(), "r-1");
    assert.equal(future.done, false);
    gate.resolve(42);
    assert.equal(await future, 42);
    assert.equal(await future.result(), 42);
    assert.equal(await future.result({ timeout: 1 }), 42);
    assert.equal(future.done, true);
    assert.equal(runs, 1);
  });

  it("a timed-out wait raises FutureTimeoutError with the request id; a later wait gets the result", async () => {
    const gate = deferred<string>();
    const future = new TinkerFuture(async (handle) => {
      handle.setRequestId("r-2");
      return gate.promise;
    }, "optimStep");
    await assert.rejects(future.result({ timeout: 20 }), (e: unknown) => {
      assert.ok(e instanceof FutureTimeoutError);
      assert.equal(e.requestId, "r-2");
      assert.match(e.message, /optimStep.*r-2.*20 ms/);
      return true;
    });
    gate.resolve("done");
    assert.equal(await future.result({ timeout: 1000 }), "done");
  });

  it("an aborted wait raises APIUserAbortError and leaves the future usable", async () => {
    const gate = deferred<string>();
    const future = new TinkerFuture(async () => gate.promise);
    const controller = new AbortController();
    const waiting = future.result({ signal: controller.signal });
    controller.abort();
    await assert.rejects(waiting, APIUserAbortError);
    await assert.rejects(future.result({ signal: AbortSignal.abort() }), APIUserAbortError);
    gate.resolve("later");
    assert.equal(await future, "later");
  });

  it("rejects every waiter with the work's error, and an unwatched failure is not an unhandled rejection", async () => {
    const future = new TinkerFuture<number>(async () => {
      throw new ConflictError(409, {}, new Headers());
    });
    await tick();
    await tick();
    await assert.rejects(future, ConflictError);
    await assert.rejects(future.result({ timeout: 10 }), ConflictError);
    await assert.rejects(future.submitted(), ConflictError);
  });

  it("delivers queue-state events to listeners until removed", async () => {
    const emit = deferred<(e: { state: "paused_capacity"; reason: string; requestId: string }) => void>();
    const gate = deferred<void>();
    const future = new TinkerFuture(async (handle) => {
      emit.resolve(handle.emitQueueState);
      await gate.promise;
    });
    const seen: string[] = [];
    const off = future.on("queueState", (e) => seen.push(`${e.state}:${e.reason}`));
    future.on("queueState", () => {
      throw new Error("a listener that throws must not break the others");
    });
    const send = await emit.promise;
    send({ state: "paused_capacity", reason: "full", requestId: "r" });
    off();
    send({ state: "paused_capacity", reason: "again", requestId: "r" });
    gate.resolve();
    await future;
    assert.deepEqual(seen, ["paused_capacity:full"]);
  });

  it("rejects a negative timeout", async () => {
    const future = TinkerFuture.resolved(1);
    await future;
    const pending = new TinkerFuture(() => new Promise<number>(() => {}));
    await assert.rejects(pending.result({ timeout: -1 }), ValidationError);
  });
});

describe("TurnGate", () => {
  it("hands out consecutive seq ids from 1 at call time and orders turns by reservation", async () => {
    const gate = new TurnGate();
    const a = gate.reserve(3);
    const b = gate.reserve();
    const c = gate.reserve();
    assert.deepEqual([a.seqIds, b.seqIds, c.seqIds], [[1, 2, 3], [4], [5]]);
    assert.equal(gate.nextSeqId, 6);
    const order: string[] = [];
    const cDone = c.wait().then(() => order.push("c"));
    const bDone = b.wait().then(() => order.push("b"));
    await a.wait();
    order.push("a");
    await tick();
    assert.deepEqual(order, ["a"]);
    a.release();
    await bDone;
    await tick();
    assert.deepEqual(order, ["a", "b"], "c must wait for b's release");
    b.release();
    b.release();
    await cDone;
    assert.deepEqual(order, ["a", "b", "c"]);
  });

  it("rejects a reservation of no seq ids", () => {
    assert.throws(() => new TurnGate().reserve(0), RangeError);
  });
});

describe("submitWithRetries (the L2 layer)", () => {
  const base = (sleeps: number[], clock = { t: 0 }) => ({
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock.t += ms;
    },
    now: () => clock.t,
    logger: silentLogger,
    what: "test",
  });
  const err = (status: number) =>
    makeAPIError(status, { detail: "x" }, new Headers({ "content-length": "14" }));

  it("retries connection errors and 408/429/5xx with min(2^n, 30) s; each try is a new call", async () => {
    const sleeps: number[] = [];
    const script = [new APIConnectionError("down"), err(503), err(429), err(408)];
    const attempts: number[] = [];
    const out = await submitWithRetries(async (n) => {
      attempts.push(n);
      const next = script.shift();
      if (next) throw next;
      return "ack";
    }, base(sleeps));
    assert.equal(out, "ack");
    assert.deepEqual(attempts, [0, 1, 2, 3, 4]);
    assert.deepEqual(sleeps, [1000, 2000, 4000, 8000]);
  });

  it("does not retry 409 or other 4xx (decision 3)", async () => {
    for (const status of [400, 401, 404, 409, 422]) {
      const sleeps: number[] = [];
      let calls = 0;
      await assert.rejects(
        submitWithRetries(async () => {
          calls++;
          throw err(status);
        }, base(sleeps)),
        (e: unknown) => (e as { status: number }).status === status,
      );
      assert.equal(calls, 1);
    }
  });

  it("gives up when the next wait would pass the 300 s budget", async () => {
    const sleeps: number[] = [];
    await assert.rejects(
      submitWithRetries(async () => {
        throw err(500);
      }, base(sleeps)),
      (e: unknown) => (e as { status: number }).status === 500,
    );
    // 1+2+4+8+16+30+30+30+30+30+30+30+30 = 271 s; the next 30 s would pass 300 s.
    assert.deepEqual(
      sleeps,
      [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000, 30000, 30000, 30000],
    );
  });

  it("402 sleeps 5 s while the billing window lasts, then raises", async () => {
    const sleeps: number[] = [];
    await assert.rejects(
      submitWithRetries(
        async () => {
          throw err(402);
        },
        { ...base(sleeps), billingMaxPauseMs: 15_000 },
      ),
      PaymentRequiredError,
    );
    assert.deepEqual(sleeps, [5000, 5000, 5000]);
  });
});
