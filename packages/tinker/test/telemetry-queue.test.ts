// The telemetry queue on a fake clock: logging never waits on the network (sends happen on the
// 10 s timer, after an exception, or on close), failed sends are retried 1 s apart at most 3
// times, a 4xx turns telemetry off, and the queue holds at most 10 000 events.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeAPIError, Telemetry } from "tinker-ts";
import { FakeClock } from "./helpers/fake-clock.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function queue(send: (body: { events: unknown[] }) => Promise<void>, sessionless = false) {
  const clock = new FakeClock();
  const sleeps: number[] = [];
  const telemetry = new Telemetry({
    sessionId: sessionless ? undefined : "s-1",
    send,
    clock,
    logger: silent,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { clock, telemetry, sleeps };
}

describe("telemetry queue", () => {
  it("logging returns at once and sends nothing until the 10 s timer fires", async () => {
    const sent: unknown[][] = [];
    const { clock, telemetry } = queue(async (b) => {
      sent.push(b.events);
    });
    assert.equal(telemetry.log("a"), true);
    assert.equal(telemetry.pending, 2, "SESSION_START and the event wait in the queue");
    await clock.advance(9_999);
    assert.equal(sent.length, 0);
    await clock.advance(1);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.length, 2);
    telemetry.log("b");
    await clock.advance(10_000);
    assert.equal(sent.length, 2, "the timer keeps firing");
    await telemetry.close();
    assert.equal(telemetry.log("after close"), false);
  });

  it("a session-less queue has a sessionless-<uuid> id and no SESSION_START", async () => {
    const sent: unknown[][] = [];
    const { telemetry } = queue(async (b) => {
      sent.push(b.events);
    }, true);
    assert.match(telemetry.sessionId, /^sessionless-[0-9a-f-]{36}$/);
    assert.equal(telemetry.pending, 0);
    await telemetry.logFatalException(new Error("x"));
    assert.deepEqual(
      sent.flat().map((e) => (e as { event: string }).event),
      ["UNHANDLED_EXCEPTION"],
      "no SESSION_END without a session",
    );
  });

  it("a server error is retried 1 s apart, at most 3 attempts, then the batch is dropped", async () => {
    let calls = 0;
    const { telemetry, sleeps } = queue(async () => {
      calls++;
      throw makeAPIError(500, "boom", new Headers());
    });
    await telemetry.flush();
    assert.equal(calls, 3);
    assert.deepEqual(sleeps, [1000, 1000]);
    assert.equal(telemetry.pending, 0);
    let ok = 0;
    let failures = 1;
    const second = queue(async () => {
      if (failures-- > 0) throw makeAPIError(503, "later", new Headers());
      ok++;
    });
    await second.telemetry.flush();
    assert.equal(ok, 1, "sent on the second attempt");
  });

  it("a 404 (a server without the route) turns telemetry off for the session", async () => {
    let calls = 0;
    const { telemetry } = queue(async () => {
      calls++;
      throw makeAPIError(404, "no route", new Headers());
    });
    await telemetry.flush();
    assert.equal(calls, 1);
    assert.equal(telemetry.log("later"), false);
  });

  it("the queue keeps at most 10 000 events", () => {
    const { telemetry } = queue(async () => {});
    let accepted = 0;
    for (let i = 0; i < 10_005; i++) if (telemetry.log("e")) accepted++;
    assert.equal(accepted, 9_999, "SESSION_START took one place");
    assert.equal(telemetry.pending, 10_000);
  });
});
