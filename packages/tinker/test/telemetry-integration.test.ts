// Telemetry as the Python SDK sends it, received by a real tinker-local: SESSION_START under the
// session id, a failed public call reported (category kept: a user's 4xx is `user_error`) with
// SESSION_END before the error reaches the caller, no API key anywhere in what was sent, and
// nothing at all with TINKER_TELEMETRY=0 or {telemetry: false}.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { SDK_VERSION, ServiceClient } from "tinker-ts";

const KEY = "tml-local-dev";

describe("telemetry against tinker-local", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, longPollHoldMs: 2000 });
  });
  after(() => server.close());
  const received = () => server.store.telemetry.received;
  const client = (extra = {}) =>
    new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", telemetry: true, ...extra });

  it("a session sends SESSION_START, in a batch naming the session, the platform, the SDK and the process", async () => {
    received().clear();
    const c = client();
    const sessionId = await c.openSession();
    assert.ok(c.getTelemetry(), "getTelemetry() is the session's telemetry");
    assert.equal(c.getTelemetry()?.sessionId, sessionId);
    await c.close();
    const batches = received().batches(sessionId);
    assert.equal(batches.length, 1);
    const [batch] = batches;
    assert.equal(batch!.sdkVersion, SDK_VERSION);
    assert.match(batch!.platform ?? "", /^(Linux|Darwin|Windows|\w+)$/);
    assert.match(batch!.processUuid ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(batch!.events.length, 1);
    const [start] = batch!.events;
    assert.equal(start!.event, "SESSION_START");
    assert.equal(start!.event_session_index, 0);
    assert.equal(start!.severity, "INFO");
    assert.match(String(start!.event_id), /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(String(start!.timestamp))));
  });

  it("a failed public call sends user_error (with its status) and SESSION_END before the caller sees the error", async () => {
    received().clear();
    const c = client();
    const sessionId = await c.openSession();
    const training = await c.createLoraTrainingClient("tinker-local/tiny", { rank: 4 });
    assert.equal(training.getTelemetry(), c.getTelemetry(), "TrainingClient.getTelemetry() is the session's");
    await assert.rejects(c.createLoraTrainingClient("no-such/model", { rank: 4 }));
    // Not closed yet: the fatal path sent the events itself.
    const events = received().events(sessionId);
    assert.deepEqual(
      events.map((e) => e.event),
      ["SESSION_START", "GENERIC_EVENT", "SESSION_END"],
    );
    const failure = events[1]!;
    assert.equal(failure.event_name, "user_error");
    assert.equal(failure.severity, "WARNING");
    const data = failure.event_data as Record<string, unknown>;
    assert.equal(typeof data.error_type, "string");
    assert.ok(typeof data.status_code === "number" && data.status_code >= 400 && data.status_code < 500);
    assert.match(String(events[2]!.duration), /^\d+:\d\d:\d\d(\.\d{6})?$/);
    assert.deepEqual(
      events.map((e) => e.event_session_index),
      [0, 1, 2],
    );
    await c.close();
  });

  it("events a program logs itself arrive, in batches of at most 100, with no API key in any of them", async () => {
    received().clear();
    const c = client();
    const sessionId = await c.openSession();
    const telemetry = c.getTelemetry()!;
    for (let i = 0; i < 250; i++) telemetry.log("step", { i, note: `using ${KEY}` });
    telemetry.logException(new TypeError(`could not read ${KEY}`));
    await telemetry.flush();
    const batches = received().batches(sessionId);
    assert.ok(batches.every((b) => b.events.length <= 100));
    const events = received().events(sessionId);
    assert.equal(events.length, 252);
    const exception = events.at(-1)!;
    assert.equal(exception.event, "UNHANDLED_EXCEPTION");
    assert.equal(exception.error_type, "TypeError");
    assert.match(String(exception.traceback), /TypeError/);
    const sent = JSON.stringify(batches);
    assert.ok(!sent.includes(KEY), "the API key is redacted from every event");
    assert.match(sent, /REDACTED/);
    await c.close();
  });

  it("nothing is sent with TINKER_TELEMETRY=0, or with { telemetry: false }", async () => {
    received().clear();
    server.clearRequests();
    const saved = process.env.TINKER_TELEMETRY;
    process.env.TINKER_TELEMETRY = "0";
    let offByEnv: ServiceClient;
    try {
      offByEnv = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    } finally {
      if (saved === undefined) delete process.env.TINKER_TELEMETRY;
      else process.env.TINKER_TELEMETRY = saved;
    }
    const offByOption = client({ telemetry: false });
    for (const c of [offByEnv, offByOption]) {
      await c.openSession();
      assert.equal(c.getTelemetry(), undefined);
      await assert.rejects(c.createLoraTrainingClient("no-such/model", { rank: 4 }));
      await c.close();
    }
    assert.ok(
      server.requests().some((r) => r.path === "/api/v1/create_session"),
      "the clients did talk to it",
    );
    assert.deepEqual(
      server.requests().filter((r) => r.path === "/api/v1/telemetry"),
      [],
    );
    assert.deepEqual(received().batches(), []);
  });
});
