// One attempt's abort (client/attempt-abort.ts): the Node transport is told directly, and the
// AbortSignal other transports read is made on first read and still follows the abort.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AttemptAbort, abortSourceOf } from "../src/client/attempt-abort.js";
import type { TransportRequest } from "../src/client/transport.js";

const FIELDS = {
  url: "http://x/api/v1/a",
  method: "POST",
  headers: {},
  body: "{}",
  redirect: "follow",
} as const;

describe("AttemptAbort", () => {
  it("tells its watcher once, with the reason, and not after the watcher is removed", () => {
    const first = new AttemptAbort();
    const seen: unknown[] = [];
    first.watch(() => seen.push(first.reason));
    const reason = new Error("deadline");
    first.abort(reason);
    first.abort(new Error("again"));
    assert.deepEqual(seen, [reason]);
    assert.equal(first.aborted, true);

    const second = new AttemptAbort();
    let called = false;
    const unwatch = second.watch(() => {
      called = true;
    });
    unwatch();
    second.abort(new Error("late"));
    assert.equal(called, false);
  });

  it("an abort without a reason gives an AbortError, as AbortController does", () => {
    const abort = new AttemptAbort();
    abort.abort();
    assert.ok(abort.reason instanceof DOMException);
    assert.equal((abort.reason as DOMException).name, "AbortError");
  });

  it("the signal read before the abort fires with it; read after, it is already aborted", () => {
    const before = new AttemptAbort();
    const signal = before.request(FIELDS).signal;
    assert.equal(signal.aborted, false);
    let fired: unknown;
    signal.addEventListener("abort", () => {
      fired = signal.reason;
    });
    const reason = new Error("user");
    before.abort(reason);
    assert.equal(fired, reason);

    const after = new AttemptAbort();
    const late = new Error("timeout");
    after.abort(late);
    const read = after.request(FIELDS).signal;
    assert.equal(read.aborted, true);
    assert.equal(read.reason, late);
  });

  it("a request copied for a redirect hop keeps its abort; a plain request is watched through its signal", () => {
    const abort = new AttemptAbort();
    const request = abort.request(FIELDS);
    assert.equal(abortSourceOf({ ...request, url: "http://y/" }), abort);

    const controller = new AbortController();
    const plain: TransportRequest = { ...FIELDS, headers: {}, signal: controller.signal };
    const source = abortSourceOf(plain);
    let calls = 0;
    source.watch(() => calls++);
    controller.abort(new Error("stop"));
    assert.equal(source.aborted, true);
    assert.equal((source.reason as Error).message, "stop");
    assert.equal(calls, 1);
  });
});
