// Failures of TrainingClient, SamplingClient and RestClient calls reach telemetry as in the Python
// SDK (@capture_exceptions(fatal=True)): a server or unknown failure as UNHANDLED_EXCEPTION, a user
// failure as the `user_error` event with its status, then SESSION_END (once per session); the
// caller gets the error without waiting for the send. Events carry the error only: no datum, no
// prompt, no key. Nothing is sent with TINKER_TELEMETRY=0. All against a real tinker-local.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { Datum, ModelInput, RestClient, ServiceClient, type Telemetry } from "tinker-ts";

const KEY = "tml-local-dev";
const MODEL = "tinker-local/tiny";
// Tokens no error message or event could contain by chance: their appearance would mean payload.
const TOKENS = [77, 91, 83, 101, 37, 113, 59, 71];
const DATUM = Datum.forNextTokenPrediction(TOKENS);

describe("telemetry of training, sampling and REST failures against tinker-local", () => {
  let server: LocalServer;
  const services: ServiceClient[] = [];
  before(async () => {
    server = await startServer({ port: 0 });
  });
  after(async () => {
    await Promise.all(services.map((s) => s.close()));
    await server.close();
  });
  beforeEach(() => {
    server.store.telemetry.received.clear();
    server.clearRequests();
  });
  const service = (extra: Record<string, unknown> = {}) => {
    const s = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logLevel: "off",
      telemetry: true,
      ...extra,
    });
    services.push(s);
    return s;
  };
  const events = (sessionId: string) => server.store.telemetry.received.events(sessionId);
  // The report is sent in the background; flushing waits for a send in progress too.
  const sent = async (telemetry: Telemetry | undefined) => {
    assert.ok(telemetry, "telemetry is on");
    await telemetry.flush();
  };
  const noPayload = (sessionId: string) => {
    const text = JSON.stringify(server.store.telemetry.received.batches(sessionId));
    assert.ok(!text.includes(TOKENS.join(",")) && !text.includes(TOKENS.join(", ")), "no datum in any event");
    assert.ok(!text.includes(KEY), "no API key in any event");
  };

  it("TrainingClient: a server failure is UNHANDLED_EXCEPTION, a user failure user_error, SESSION_END once", async () => {
    const s = service();
    const sessionId = await s.openSession();
    const training = await s.createLoraTrainingClient(MODEL, { rank: 4 });
    server.futures.failNext({ kind: "forward_backward", category: "server", error: "the GPU caught fire" });
    await assert.rejects(training.forwardBackward([DATUM], "cross_entropy"), /the GPU caught fire/);
    await sent(training.getTelemetry());
    server.futures.failNext({ kind: "optim_step", category: "user", error: "learning rate out of range" });
    await assert.rejects(training.optimStep({ learningRate: 0.01 }), /learning rate out of range/);
    await sent(training.getTelemetry());

    const got = events(sessionId);
    assert.deepEqual(
      got.map((e) => e.event),
      ["SESSION_START", "UNHANDLED_EXCEPTION", "SESSION_END", "GENERIC_EVENT"],
    );
    const [, crash, end, user] = got;
    assert.equal(crash!.error_type, "RequestFailedError");
    assert.equal(crash!.severity, "ERROR");
    assert.match(String(crash!.error_message), /the GPU caught fire/);
    assert.match(String(end!.duration), /^\d+:\d\d:\d\d(\.\d{6})?$/);
    assert.equal(user!.event_name, "user_error");
    assert.equal(user!.severity, "WARNING");
    const data = user!.event_data as Record<string, unknown>;
    assert.equal(data.error_type, "RequestFailedError");
    assert.match(String(data.message), /learning rate out of range/);
    assert.deepEqual(
      got.map((e) => e.event_session_index),
      [0, 1, 2, 3],
    );
    noPayload(sessionId);
  });

  it("a failure passed up through several calls is sent once; a 4xx answer is user_error with its status", async () => {
    const s = service();
    const sessionId = await s.openSession();
    const training = await s.createLoraTrainingClient(MODEL, { rank: 4 });
    // saveWeightsAndGetSamplingClient saves through saveWeightsForSampler: one failure, one event.
    server.futures.failNext({ kind: "save_weights_for_sampler", category: "server" });
    await assert.rejects(training.saveWeightsAndGetSamplingClient("once"));
    // A checkpoint that does not exist: the server's 4xx, reported with its status code.
    await assert.rejects(training.loadState("tinker://no-such-run:train:0/weights/none"));
    await sent(training.getTelemetry());
    const got = events(sessionId);
    assert.deepEqual(
      got.map((e) => e.event_name ?? e.event),
      ["SESSION_START", "UNHANDLED_EXCEPTION", "SESSION_END", "user_error"],
    );
    const data = got[3]!.event_data as Record<string, unknown>;
    assert.ok(
      typeof data.status_code === "number" && data.status_code >= 400 && data.status_code < 500,
      JSON.stringify(data),
    );
    noPayload(sessionId);
  });

  it("SamplingClient: a failed sample is reported to the session, without the prompt", async () => {
    const s = service();
    const sessionId = await s.openSession();
    const sampler = await s.createSamplingClient({ baseModel: MODEL });
    assert.equal(sampler.getTelemetry(), s.getTelemetry());
    server.futures.failNext({ kind: "sample", category: "server", error: "sampler fell over" });
    const prompt = ModelInput.fromInts(TOKENS);
    await assert.rejects(
      sampler.sample(prompt, { numSamples: 1, samplingParams: { maxTokens: 2 } }),
      /sampler fell over/,
    );
    await sent(sampler.getTelemetry());
    const got = events(sessionId);
    assert.deepEqual(
      got.map((e) => e.event),
      ["SESSION_START", "UNHANDLED_EXCEPTION", "SESSION_END"],
    );
    assert.match(String(got[1]!.error_message), /sampler fell over/);
    noPayload(sessionId);
  });

  it("RestClient: failures go to session-less telemetry (sessionless-<uuid>, no SESSION_END), list calls too", async () => {
    const s = service();
    const viaService = s.createRestClient();
    await assert.rejects(viaService.getTrainingRun("no-such-run"));
    const telemetry = viaService.getTelemetry();
    assert.ok(telemetry, "the shared session-less connection has telemetry");
    assert.match(telemetry.sessionId, /^sessionless-[0-9a-f-]{36}$/);
    await assert.rejects(viaService.listCheckpoints("no-such-run"));
    await sent(telemetry);
    const got = events(telemetry.sessionId);
    assert.deepEqual(
      got.map((e) => e.event_name ?? e.event),
      ["user_error", "user_error"],
      "a 404 is the user's; no SESSION_START or SESSION_END without a session",
    );
    assert.deepEqual(
      got.map((e) => (e.event_data as { status_code?: number }).status_code),
      [404, 404],
    );

    // A standalone RestClient: its own session-less id; what it queued goes out on close().
    const standalone = new RestClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", telemetry: true });
    await assert.rejects(standalone.getCheckpoint("tinker://no-such-run/weights/x"));
    const own = standalone.getTelemetry();
    assert.ok(own && own.sessionId !== telemetry.sessionId);
    await standalone.close();
    assert.deepEqual(
      events(own.sessionId).map((e) => e.event_name),
      ["user_error"],
    );
    assert.ok(!JSON.stringify(server.store.telemetry.received.batches()).includes(KEY));
  });

  it("with TINKER_TELEMETRY=0 a failed training call sends nothing", async () => {
    const saved = process.env.TINKER_TELEMETRY;
    process.env.TINKER_TELEMETRY = "0";
    let s: ServiceClient;
    try {
      s = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
      services.push(s);
    } finally {
      if (saved === undefined) delete process.env.TINKER_TELEMETRY;
      else process.env.TINKER_TELEMETRY = saved;
    }
    const training = await s.createLoraTrainingClient(MODEL, { rank: 4 });
    assert.equal(training.getTelemetry(), undefined);
    server.futures.failNext({ kind: "forward_backward", category: "server" });
    await assert.rejects(training.forwardBackward([DATUM], "cross_entropy"));
    await s.close();
    assert.ok(
      server.requests().some((r) => r.path === "/api/v1/create_model"),
      "the client did talk to it",
    );
    assert.deepEqual(
      server.requests().filter((r) => r.path === "/api/v1/telemetry"),
      [],
    );
    assert.deepEqual(server.store.telemetry.received.batches(), []);
  });

  it("with { telemetry: false } a RestClient has no telemetry and sends nothing", async () => {
    const rest = new RestClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", telemetry: false });
    await assert.rejects(rest.getTrainingRun("no-such-run"));
    assert.equal(rest.getTelemetry(), undefined);
    await rest.close();
    assert.deepEqual(
      server.requests().filter((r) => r.path === "/api/v1/telemetry"),
      [],
    );
  });
});
