// The heartbeat loop on a fake clock, at the real defaults (10 s period, 10 s deadline, warning after
// 120 s, repeated at most every 30 s). Only the transport function is faked.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APIConnectionError, makeAPIError } from "../src/client/errors.js";
import type { TinkerEvents } from "../src/session/events.js";
import { HeartbeatLoop, type HeartbeatTransport } from "../src/session/heartbeat.js";
import { FakeClock, recordingLogger } from "./helpers/fake-clock.js";

const S = 1000;

type Emitted = { [E in keyof TinkerEvents]: { event: E; payload: TinkerEvents[E] } }[keyof TinkerEvents];

function setup(initial: "ok" | "fail" | "hang" = "ok") {
  const clock = new FakeClock();
  const log = recordingLogger();
  const events: Emitted[] = [];
  let mode: "ok" | "fail" | "hang" | ((n: number) => Promise<void>) = initial;
  const sent: number[] = [];
  const send: HeartbeatTransport = ({ signal }) => {
    sent.push(clock.now());
    if (typeof mode === "function") return mode(sent.length);
    if (mode === "ok") return Promise.resolve();
    if (mode === "fail")
      return Promise.reject(new APIConnectionError("Connection error: connect ECONNREFUSED"));
    return new Promise<void>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  };
  const loop = new HeartbeatLoop({
    sessionId: "sess-1",
    send,
    clock,
    logger: log.logger,
    emit: (event, payload) => events.push({ event, payload } as Emitted),
    intervalMs: 10 * S,
    timeoutMs: 10 * S,
    warnAfterMs: 120 * S,
    warnRepeatMs: 30 * S,
  });
  const start = clock.now();
  loop.start();
  return {
    clock,
    log,
    events,
    sent,
    loop,
    start,
    setMode(m: typeof mode) {
      mode = m;
    },
    of<E extends keyof TinkerEvents>(name: E): TinkerEvents[E][] {
      return events.filter((e) => e.event === name).map((e) => e.payload as TinkerEvents[E]);
    },
  };
}

describe("heartbeat loop", () => {
  it("beats every 10 s after start and records successes", async () => {
    const t = setup("ok");
    await t.clock.advance(9_999);
    assert.equal(t.sent.length, 0, "the first beat goes out one interval after start");
    await t.clock.advance(1);
    assert.deepEqual(t.sent, [t.start + 10 * S]);
    await t.clock.advance(50 * S);
    assert.equal(t.sent.length, 6);
    const stats = t.loop.stats();
    assert.equal(stats.beatsSent, 6);
    assert.equal(stats.successes, 6);
    assert.equal(stats.consecutiveFailures, 0);
    assert.equal(stats.lastSuccessAt, t.start + 60 * S);
    assert.equal(t.events.length, 0);
    await t.loop.stop();
  });

  it("does not warn at 120 s without success, warns just after, with the session id and last error", async () => {
    const t = setup("fail");
    await t.clock.advance(120 * S);
    assert.equal(t.sent.length, 12);
    assert.equal(t.of("heartbeatWarning").length, 0, "exactly 120 s is not 'more than 120 s'");
    assert.equal(t.log.at("warn").length, 0);

    await t.clock.advance(10 * S);
    const warnings = t.of("heartbeatWarning");
    assert.equal(warnings.length, 1);
    const w = warnings[0]!;
    assert.equal(w.sessionId, "sess-1");
    assert.equal(w.sinceLastSuccessMs, 130 * S);
    assert.equal(w.consecutiveFailures, 13);
    assert.match(w.lastError?.message ?? "", /ECONNREFUSED/);
    const [line] = t.log.at("warn");
    assert.match(line!.message, /sess-1/);
    assert.match(line!.message, /ECONNREFUSED/);
    assert.match(line!.message, /may terminate the session/);
    assert.equal(t.loop.stats().lastError?.message, w.lastError?.message);
    await t.loop.stop();
  });

  it("repeats the warning at most once per 30 s while failing", async () => {
    const t = setup("fail");
    await t.clock.advance(400 * S);
    const at = t.of("heartbeatWarning").map((w) => w.sinceLastSuccessMs / S);
    // Beats at 130, 140, ... fail; warnings at 130, then every third beat (30 s).
    assert.deepEqual(at, [130, 160, 190, 220, 250, 280, 310, 340, 370, 400]);
    assert.equal(t.log.at("warn").length, 10);
    assert.equal(t.loop.stats().failures, 40);
    await t.loop.stop();
  });

  it("logs recovery with the outage length, emits an event, and resets the warning state", async () => {
    const t = setup("ok");
    await t.clock.advance(20 * S); // successes at 10 and 20
    t.setMode("fail");
    await t.clock.advance(140 * S); // failures at 30..160: one warning, at 150 (130 s since 20)
    assert.equal(t.of("heartbeatWarning").length, 1);
    t.setMode("ok");
    await t.clock.advance(10 * S); // success at 170
    const rec = t.of("heartbeatRecovered");
    assert.equal(rec.length, 1);
    assert.deepEqual(rec[0], { sessionId: "sess-1", outageMs: 150 * S });
    const info = t.log.at("info").find((l) => /recovered/.test(l.message));
    assert.ok(info, "recovery is logged at info");
    assert.match(info.message, /sess-1/);
    assert.match(info.message, /150 s/);
    assert.equal(t.loop.stats().consecutiveFailures, 0);

    // A new outage is measured from the recovery, and warns afresh.
    t.setMode("fail");
    await t.clock.advance(120 * S); // failures at 180..290: 120 s since 170, not more
    assert.equal(t.of("heartbeatWarning").length, 1);
    await t.clock.advance(10 * S);
    assert.equal(t.of("heartbeatWarning").length, 2);
    await t.loop.stop();
  });

  it("short failures without a warning recover silently (no event)", async () => {
    const t = setup("fail");
    await t.clock.advance(50 * S);
    t.setMode("ok");
    await t.clock.advance(10 * S);
    assert.equal(t.events.length, 0);
    assert.equal(t.log.at("info").length, 0);
    assert.equal(t.loop.stats().failures, 5);
    await t.loop.stop();
  });

  it("logs 401 and 404 at error level once each per outage, keeps the session and keeps beating", async () => {
    const t = setup("ok");
    const headers = new Headers();
    t.setMode((n) =>
      Promise.reject(makeAPIError(n % 2 === 0 ? 401 : 404, { detail: "unknown session" }, headers)),
    );
    await t.clock.advance(100 * S);
    assert.equal(t.sent.length, 10, "the loop keeps beating after 401/404");
    const errors = t.log.at("error");
    assert.equal(errors.length, 2);
    assert.ok(errors.some((l) => /401/.test(l.message)));
    assert.ok(errors.some((l) => /404/.test(l.message)));
    assert.ok(errors.every((l) => /sess-1/.test(l.message) && /kept/.test(l.message)));
    assert.deepEqual(
      t
        .of("heartbeatError")
        .map((e) => e.status)
        .sort(),
      [401, 404],
    );

    // After a success, a new 401 is a new outage and is logged again.
    t.setMode("ok");
    await t.clock.advance(10 * S);
    t.setMode(() => Promise.reject(makeAPIError(401, "", headers)));
    await t.clock.advance(30 * S);
    assert.equal(t.log.at("error").length, 3);
    assert.equal(t.of("heartbeatError").length, 3);
    await t.loop.stop();
  });

  it("a beat that hangs times out at 10 s and counts as a failure", async () => {
    const t = setup("hang");
    await t.clock.advance(10 * S);
    assert.equal(t.sent.length, 1);
    await t.clock.advance(10 * S);
    const stats = t.loop.stats();
    assert.equal(stats.failures, 1);
    assert.match(stats.lastError?.message ?? "", /timed out after 10000 ms/);
    assert.equal(stats.lastError?.name, "APITimeoutError");
    // The next beat starts one interval after the failed one ended.
    await t.clock.advance(10 * S);
    assert.deepEqual(t.sent, [t.start + 10 * S, t.start + 30 * S]);
    await t.loop.stop();
  });

  it("a transport that ignores its signal still cannot stall the loop", async () => {
    const t = setup("ok");
    t.setMode(() => new Promise<void>(() => {}));
    await t.clock.advance(100 * S);
    assert.equal(t.sent.length, 5); // sent at 10, 30, 50, 70, 90; each gives up 10 s later
    assert.equal(t.loop.stats().failures, 5);
    await t.loop.stop();
  });

  it("never throws: a throwing transport, listener or logger does not stop it", async () => {
    const clock = new FakeClock();
    let n = 0;
    const emitted: [string, number | undefined][] = [];
    const loop = new HeartbeatLoop({
      sessionId: "s",
      send: () => {
        n++;
        throw new Error("synchronous failure");
      },
      clock,
      logger: {
        debug: () => {
          throw new Error("logger broke");
        },
        info: () => {},
        warn: () => {
          throw new Error("logger broke");
        },
        error: () => {},
      },
      emit: (event, payload) => {
        emitted.push([event, (payload as { consecutiveFailures?: number }).consecutiveFailures]);
        throw new Error("listener broke");
      },
      intervalMs: 10 * S,
      timeoutMs: 10 * S,
      warnAfterMs: 20 * S,
      warnRepeatMs: 10 * S,
    });
    loop.start();
    await clock.advance(100 * S);
    assert.equal(n, 10);
    assert.equal(loop.stats().failures, 10);
    // Beats fail at 10, 20, …, 100 s; past 20 s without success a warning is due every 10 s: the
    // throwing listener was still called for each, with the failure count of that moment.
    assert.deepEqual(
      emitted,
      [3, 4, 5, 6, 7, 8, 9, 10].map((k) => ["heartbeatWarning", k]),
    );
    await loop.stop();
  });

  it("stop() during the sleep ends the loop at once; no beat after it", async () => {
    const t = setup("ok");
    await t.clock.advance(15 * S);
    await t.loop.stop();
    assert.equal(t.clock.pendingTimers, 0, "no timer left behind");
    await t.clock.advance(100 * S);
    assert.equal(t.sent.length, 1);
    assert.equal(t.loop.stopped, true);
  });

  it("stop() aborts a beat in flight and does not count it as a failure", async () => {
    const t = setup("hang");
    await t.clock.advance(12 * S);
    assert.equal(t.sent.length, 1);
    await t.loop.stop();
    assert.equal(t.loop.stats().failures, 0);
    assert.equal(t.clock.pendingTimers, 0);
    await t.clock.advance(100 * S);
    assert.equal(t.sent.length, 1);
  });
});
