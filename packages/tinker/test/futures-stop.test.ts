// TinkerFuture's stop semantics on their own (the integration tests cover them on the wire): the
// call's signal, its timeout on an injected clock and cancel() abort the work's signal with the
// typed error the future rejects with at once, the work still runs to its end in the background,
// and the timeout's timer is cleared once the future settles.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APIUserAbortError, CallTimeoutError, ClientClosedError, FutureCancelledError } from "tinker-ts";
import { TinkerFuture } from "../src/futures/future.js";
import { FakeClock } from "./helpers/fake-clock.js";

/** Work that waits for its signal, then records that it finished its cleanup. */
function cleanupWork(log: string[]) {
  return async (handle: { signal: AbortSignal }) => {
    if (!handle.signal.aborted) {
      await new Promise<void>((resolve) => handle.signal.addEventListener("abort", () => resolve()));
    }
    await new Promise((r) => setImmediate(r));
    log.push(`cleaned up after ${(handle.signal.reason as Error).name}`);
    throw handle.signal.reason;
  };
}

describe("stopping a TinkerFuture's work", () => {
  it("the timeout runs on the given clock, rejects with CallTimeoutError, and the work cleans up", async () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const future = new TinkerFuture(cleanupWork(log), "optimStep", { timeout: 5000, clock });
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(4999);
    assert.equal(future.done, false);
    await clock.advance(1);
    await assert.rejects(
      future.result(),
      (e: unknown) =>
        e instanceof CallTimeoutError && e.timeoutMs === 5000 && !e.submitted && /optimStep/.test(e.message),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ["cleaned up after CallTimeoutError"]);
  });

  it("a settled future clears its timer and cannot be cancelled", async () => {
    const clock = new FakeClock();
    const future = new TinkerFuture(async () => 7, "forward", { timeout: 60_000, clock });
    assert.equal(await future, 7);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(future.cancel(), false);
  });

  it("cancel() after submission names the request; the caller's signal and the client's close", async () => {
    const log: string[] = [];
    const submitted = new TinkerFuture(async (handle) => {
      handle.setRequestId("req-1");
      return cleanupWork(log)(handle);
    }, "sample");
    await submitted.submitted();
    assert.equal(submitted.cancel(), true);
    await assert.rejects(
      Promise.resolve(submitted),
      (e: unknown) => e instanceof FutureCancelledError && e.submitted && e.requestId === "req-1",
    );

    const controller = new AbortController();
    const aborted = new TinkerFuture(cleanupWork(log), "forwardBackward", { signal: controller.signal });
    controller.abort(new Error("user reason"));
    await assert.rejects(
      Promise.resolve(aborted),
      (e: unknown) => e instanceof APIUserAbortError && (e.cause as Error).message === "user reason",
    );

    const client = new AbortController();
    const closed = new TinkerFuture(cleanupWork(log), "forward", { parent: client.signal });
    client.abort(new ClientClosedError());
    await assert.rejects(Promise.resolve(closed), ClientClosedError);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log.sort(), [
      "cleaned up after APIUserAbortError",
      "cleaned up after ClientClosedError",
      "cleaned up after FutureCancelledError",
    ]);
  });

  it("a signal aborted before the call stops it before the work's first step", async () => {
    const controller = new AbortController();
    controller.abort();
    let sawAborted: boolean | undefined;
    const future = new TinkerFuture(
      async (handle) => {
        sawAborted = handle.signal.aborted;
        throw handle.signal.reason;
      },
      "forward",
      { signal: controller.signal },
    );
    await assert.rejects(Promise.resolve(future), APIUserAbortError);
    assert.equal(sawAborted, true);
  });
});
