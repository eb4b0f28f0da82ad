// ByteBudget (contract 1.7's dispatch byte semaphores) and the holder-wide sampling throttles, as
// logic: admission while the balance is >= 0, FIFO order, oversized requests alone, wake-ups on
// release, and nothing lost when a waiter aborts or a holder throws.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APIUserAbortError } from "../src/client/errors.js";
import { ByteBudget } from "../src/clients/byte-budget.js";
import { DispatchThrottles } from "../src/clients/dispatch-throttles.js";
import { parseClientConfig } from "../src/session/client-config.js";

/** Lets every settled promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("ByteBudget", () => {
  it("admits while the balance is >= 0, so it may go negative; the next waits", async () => {
    const budget = new ByteBudget(100);
    const a = await budget.acquire(60);
    const b = await budget.acquire(60); // balance 40 >= 0: admitted, now -20
    assert.equal(budget.balance, -20);
    let admitted = false;
    const c = budget.acquire(1).then((r) => {
      admitted = true;
      return r;
    });
    await flush();
    assert.equal(admitted, false);
    a();
    (await c)();
    assert.equal(admitted, true);
    b();
    assert.equal(budget.balance, 100);
  });

  it("lets one request larger than the whole budget through, alone", async () => {
    const budget = new ByteBudget(10);
    const big = await budget.acquire(1000);
    let small = false;
    const next = budget.acquire(1).then((r) => {
      small = true;
      return r;
    });
    await flush();
    assert.equal(small, false, "nothing else runs beside the oversized request");
    big();
    (await next)();
    assert.equal(budget.balance, 10);
  });

  it("admits waiters in arrival order; a small one does not overtake a large one", async () => {
    const budget = new ByteBudget(10);
    const first = await budget.acquire(20);
    const order: string[] = [];
    const large = budget.acquire(50).then((r) => {
      order.push("large");
      return r;
    });
    const small = budget.acquire(1).then((r) => {
      order.push("small");
      return r;
    });
    await flush();
    assert.deepEqual(order, []);
    first(); // balance 10: the large one goes first (→ -40); the small one waits for it
    await flush();
    assert.deepEqual(order, ["large"]);
    (await large)();
    (await small)();
    assert.deepEqual(order, ["large", "small"]);
    assert.equal(budget.balance, 10);
  });

  it("one release wakes every waiter that fits", async () => {
    const budget = new ByteBudget(30);
    const hold = await budget.acquire(40);
    const waiters = [budget.acquire(10), budget.acquire(10), budget.acquire(10), budget.acquire(10)];
    await flush();
    assert.equal(budget.waiting, 4);
    hold();
    await flush();
    // 30 → 20 → 10 → 0 → -10: all four admitted (each saw a balance >= 0).
    assert.equal(budget.waiting, 0);
    for (const w of waiters) (await w)();
    assert.equal(budget.balance, 30);
  });

  it("a release is idempotent", async () => {
    const budget = new ByteBudget(10);
    const r = await budget.acquire(5);
    r();
    r();
    assert.equal(budget.balance, 10);
  });

  it("an aborted waiter leaves the queue, takes nothing, and lets the ones behind it in", async () => {
    const budget = new ByteBudget(10);
    const hold = await budget.acquire(20);
    const controller = new AbortController();
    const aborted = budget.acquire(5, controller.signal);
    const behind = budget.acquire(5);
    const reason = new Error("stop");
    controller.abort(reason);
    // Every error the SDK throws is a TinkerError: a caller's reason is kept as the cause.
    await assert.rejects(
      aborted,
      (error: unknown) => error instanceof APIUserAbortError && error.cause === reason,
    );
    assert.equal(budget.waiting, 1);
    hold();
    (await behind)();
    assert.equal(budget.balance, 10);
  });

  it("with() gives the bytes back when the work throws", async () => {
    const budget = new ByteBudget(10);
    await assert.rejects(
      budget.with(8, async () => {
        assert.equal(budget.balance, 2);
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(budget.balance, 10);
  });
});

// The contract's numbers (1.7 and 3.2), written out here rather than read from the code under test:
// for 10 s after a 429, byte estimates count ×20 and at most 10 asample POSTs are in flight.
const CONTRACT_FACTOR_AFTER_429 = 20;
const CONTRACT_IN_FLIGHT_AFTER_429 = 10;
const CONTRACT_RECENT_MS = 10_000;

describe("DispatchThrottles (sampling)", () => {
  const config = (bytes: number) => parseClientConfig({ sample_dispatch_bytes_semaphore_size: bytes });

  it("after a 429: a global backoff, estimates ×20 and at most 10 POSTs in flight, for 10 s", async () => {
    let now = 0;
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      now += ms;
    };
    const throttles = new DispatchThrottles(config(1_000_000), () => now);
    throttles.sampleRateLimited(2500);
    const first = await throttles.acquireSample(100, sleep);
    assert.deepEqual(slept, [1000, 1000, 500], "the backoff is waited out in steps of at most 1 s");
    assert.equal(throttles.sampleBytes.balance, 1_000_000 - 100 * CONTRACT_FACTOR_AFTER_429);
    const held = [first];
    for (let i = 1; i < CONTRACT_IN_FLIGHT_AFTER_429; i++) held.push(await throttles.acquireSample(1, sleep));
    let eleventh = false;
    const next = throttles.acquireSample(1, sleep).then((r) => {
      eleventh = true;
      return r;
    });
    await flush();
    assert.equal(eleventh, false);
    assert.equal(throttles.sampleInFlight, 10);
    held.pop()?.();
    (await next)();
    assert.equal(eleventh, true);
    for (const r of held) r();
    now = CONTRACT_RECENT_MS - 1; // the 429 was at 0
    const stillRecent = await throttles.acquireSample(100, sleep);
    assert.equal(
      throttles.sampleBytes.balance,
      1_000_000 - 100 * CONTRACT_FACTOR_AFTER_429,
      "×20 up to 10 s",
    );
    stillRecent();
    now = CONTRACT_RECENT_MS;
    const later = await throttles.acquireSample(100, sleep);
    assert.equal(throttles.sampleBytes.balance, 1_000_000 - 100, "×1 again after 10 s");
    later();
    assert.equal(throttles.sampleInFlight, 0);
  });

  it("an abort while waiting for bytes frees the in-flight slot", async () => {
    const throttles = new DispatchThrottles(config(10), () => 0);
    const hold = await throttles.acquireSample(100, async () => {});
    const controller = new AbortController();
    const waiting = throttles.acquireSample(1, async () => {}, controller.signal);
    await flush();
    assert.equal(throttles.sampleInFlight, 2);
    const reason = new Error("gone");
    controller.abort(reason);
    await assert.rejects(
      waiting,
      (error: unknown) => error instanceof APIUserAbortError && error.cause === reason,
    );
    assert.equal(throttles.sampleInFlight, 1);
    hold();
    assert.equal(throttles.sampleInFlight, 0);
    assert.equal(throttles.sampleBytes.balance, 10);
  });
});
