// The dynamic-config refresh against a real tinker-local, on a fake clock: a session asks
// client/dynamic_config again every max(refresh_interval_sec, 10) s, once each time (no retries),
// keeps its last good values when a refresh fails, and follows the server when it changes the
// interval; a session-less connection never refreshes. Counted from the server's request log after
// each step of the clock, never by elapsed time.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { ServiceClient } from "tinker-ts";
import { FakeClock } from "./helpers/fake-clock.js";

const KEY = "tml-local-dev";
const PATH = "/api/v1/client/dynamic_config";
const HOUR = 3_600_000;

/** Waits (real time, bounded) for the server to have seen `n` requests to the path. */
async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("dynamic-config refresh against tinker-local (fake clock)", () => {
  let server: LocalServer;
  const clients: ServiceClient[] = [];
  before(async () => {
    // The server asks for 12 s; the floor (10 s) does not apply.
    server = await startServer({ port: 0, dynamicConfig: { refresh_interval_sec: 12 } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });
  beforeEach(() => {
    server.faults.clear();
    server.clearRequests();
  });
  const asks = () => server.requests().filter((r) => r.path === PATH);
  const client = (clock: FakeClock) => {
    // The heartbeat and telemetry on the same fake clock are kept out of the way.
    const c = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logLevel: "off",
      telemetry: false,
      clock,
      heartbeat: { intervalMs: 24 * HOUR },
    });
    clients.push(c);
    return c;
  };
  /** Advances the clock, then waits until the server has seen `expected` asks in all. */
  const step = async (clock: FakeClock, ms: number, expected: number) => {
    await clock.advance(ms);
    await until(`${expected} dynamic_config requests`, () => asks().length >= expected);
    assert.equal(asks().length, expected, `after +${ms} ms`);
  };

  it("asks once at start-up, then once per refresh_interval_sec, each a single request", async () => {
    const clock = new FakeClock();
    const c = client(clock);
    await c.openSession();
    assert.equal(asks().length, 1, "start-up asked once");
    // Nothing before the interval is up.
    await clock.advance(11_999);
    assert.equal(asks().length, 1);
    await step(clock, 1, 2);
    await step(clock, 12_000, 3);
    await step(clock, 12_000, 4);
    for (const expected of [5, 6, 7]) await step(clock, 12_000, expected);
    assert.ok(asks().every((r) => r.status === 200));
    await c.close();
    await clock.advance(60_000);
    assert.equal(asks().length, 7, "close() stops the loop");
  });

  it("a failed refresh is not retried and keeps the last values; a new interval takes effect at once", async () => {
    const clock = new FakeClock();
    const c = client(clock);
    await c.openSession();
    const start = asks().length;
    // One refresh fails with a 503: exactly one request for that tick, and the 12 s cadence stays.
    server.faults.add({ path: PATH, status: 503 });
    await step(clock, 12_000, start + 1);
    assert.equal(asks().at(-1)!.status, 503);
    await step(clock, 12_000, start + 2);
    // The server now asks for 30 s: the refresh after next comes 30 s later, not 12.
    server.faults.add({ path: PATH, status: 200, body: { refresh_interval_sec: 30 }, times: 100 });
    await step(clock, 12_000, start + 3);
    await clock.advance(29_999);
    assert.equal(asks().length, start + 3, "not before 30 s");
    await step(clock, 1, start + 4);
    // Below the 10 s floor: asked every 10 s, not every second.
    server.faults.clear();
    server.faults.add({ path: PATH, status: 200, body: { refresh_interval_sec: 1 }, times: 100 });
    await step(clock, 30_000, start + 5);
    await clock.advance(9_999);
    assert.equal(asks().length, start + 5, "the 10 s floor");
    await step(clock, 1, start + 6);
    const holder = await c.session();
    assert.deepEqual(holder.dynamicConfigStats(), { refreshed: 5, failed: 1 });
    assert.equal(holder.dynamicConfig.refreshIntervalSec, 1);
  });

  it("a session-less connection (REST, capabilities) reads it once and never refreshes", async () => {
    const clock = new FakeClock();
    const c = client(clock);
    await c.getServerCapabilities();
    assert.equal(asks().length, 1);
    await clock.advance(10 * 12_000);
    await c.createRestClient().listTrainingRuns();
    await c.getServerCapabilities();
    assert.equal(asks().length, 1);
  });
});
