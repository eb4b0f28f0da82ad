// watchAbort: one real listener per signal, fanned out to every watcher registered when it fires.

import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { watchAbort } from "../src/client/abort-watch.js";

describe("watchAbort", () => {
  it("fires every current watcher once, not the removed ones, with a single listener on the signal", () => {
    const controller = new AbortController();
    const fired: number[] = [];
    const unwatch = Array.from({ length: 30 }, (_, i) => watchAbort(controller.signal, () => fired.push(i)));
    assert.equal(getEventListeners(controller.signal, "abort").length, 1);
    for (let i = 0; i < 30; i += 2) unwatch[i]!();
    controller.abort();
    controller.abort();
    assert.deepEqual(
      fired,
      Array.from({ length: 15 }, (_, k) => 2 * k + 1),
    );
  });

  it("watching an aborted signal or none never fires; the same callback twice fires twice", () => {
    let calls = 0;
    const aborted = AbortSignal.abort();
    watchAbort(aborted, () => calls++);
    watchAbort(undefined, () => calls++)();
    const controller = new AbortController();
    const cb = () => calls++;
    watchAbort(controller.signal, cb);
    watchAbort(controller.signal, cb);
    controller.abort();
    assert.equal(calls, 2);
  });
});
