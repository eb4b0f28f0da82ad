// The waiting toolbox: backoff shapes (the HTTP, submit, poll and sampling waits are all built from
// it), the abort-to-error rule, and the abortable sleep on a fake clock.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APIUserAbortError, ClientClosedError } from "../src/client/errors.js";
import { abortableSleep, abortError, backoffMs, sleep, throwIfAborted } from "../src/client/wait.js";
import { FakeClock } from "./helpers/fake-clock.js";

describe("backoffMs", () => {
  it("doubles from the base up to the cap, without jitter the same for any draw", () => {
    const shape = { baseMs: 1000, maxMs: 30_000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(shape, n, 0.9)),
      [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
    );
  });

  it("jitter only shortens the wait, by at most its share", () => {
    const shape = { baseMs: 500, maxMs: 10_000, jitter: 0.25 };
    assert.equal(backoffMs(shape, 2, 0), 2000);
    assert.equal(backoffMs(shape, 2, 0.5), 1750);
    assert.equal(backoffMs(shape, 2, 1), 1500);
    // Draws outside [0, 1] are clamped, so a bad random source cannot lengthen or negate a wait.
    assert.equal(backoffMs(shape, 2, -3), 2000);
    assert.equal(backoffMs(shape, 2, 7), 1500);
  });
});

describe("abortError", () => {
  it("keeps the SDK's own reason (close() aborts with ClientClosedError)", () => {
    const controller = new AbortController();
    const closed = new ClientClosedError();
    controller.abort(closed);
    assert.equal(abortError(controller.signal), closed);
  });

  it("turns any other reason into an APIUserAbortError that keeps the reason as its cause", () => {
    const controller = new AbortController();
    controller.abort();
    const error = abortError(controller.signal, { message: "Polling was stopped." });
    assert.ok(error instanceof APIUserAbortError);
    assert.equal(error.message, "Polling was stopped.");
    assert.equal((error as Error & { cause?: unknown }).cause, controller.signal.reason);
    assert.throws(() => throwIfAborted(controller.signal), APIUserAbortError);
    assert.doesNotThrow(() => throwIfAborted(new AbortController().signal));
  });
});

describe("abortableSleep", () => {
  it("resolves when the clock reaches the wait, and not before", async () => {
    const clock = new FakeClock();
    let done = false;
    const wait = abortableSleep((ms, s) => sleep(clock, ms, s), 1000, undefined).then(() => {
      done = true;
    });
    await clock.advance(999);
    assert.equal(done, false);
    await clock.advance(1);
    await wait;
    assert.equal(done, true);
  });

  it("ends at once with the abort error when the signal fires, and leaves no timer behind", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const wait = abortableSleep((ms, s) => sleep(clock, ms, s), 60_000, controller.signal, "stopped");
    assert.equal(clock.pendingTimers, 1);
    controller.abort();
    await assert.rejects(
      wait,
      (error: unknown) => error instanceof APIUserAbortError && error.message === "stopped",
    );
    assert.equal(clock.pendingTimers, 0);

    const closing = new AbortController();
    const closed = new ClientClosedError();
    const second = abortableSleep((ms, s) => sleep(clock, ms, s), 60_000, closing.signal);
    closing.abort(closed);
    await assert.rejects(second, (error: unknown) => error === closed);
  });
});
