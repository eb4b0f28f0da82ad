// Client configuration parsing and the ServiceClient lifecycle rules that need no server.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClientClosedError, ResponseValidationError, ServiceClient, ValidationError } from "tinker-ts";
import { parseClientConfig, parseDynamicConfig } from "../src/session/client-config.js";

describe("client/config parsing", () => {
  it("{} gives every default of contract 2.2", () => {
    assert.deepEqual(parseClientConfig({}), {
      pjwtAuthEnabled: false,
      credentialDefaultSource: "api_key",
      sampleDispatchBytesSemaphoreSize: 10_485_760,
      inflightResponseBytesSemaphoreSize: 52_428_800,
      parallelFwdbwdChunks: true,
      protoCompressFwdbwd: false,
      fwdbwdMaxChunkLen: 1024,
      fwdbwdMaxChunkBytesCount: 5_000_000,
      fwdbwdDispatchBytesSemaphoreSize: 50_000_000,
      billingExceptionMaxPauseDurationSec: 3600,
      sampleNoRetries: false,
      sampleEnableStuckDetection: true,
      sampleMaxConcurrentRequests: 2000,
      usePyqwestTransport: true,
      createModelViaLoadWeights: false,
    });
    assert.deepEqual(parseClientConfig(null), parseClientConfig({}));
  });

  it("reads given fields, ignores extra ones, treats null as absent", () => {
    const c = parseClientConfig({
      pjwt_auth_enabled: true,
      credential_default_source: "credential_cmd",
      fwdbwd_max_chunk_len: 7,
      use_pyqwest_transport: false,
      proto_write_fwdbwd: true,
      sample_no_retries: null,
    });
    assert.equal(c.pjwtAuthEnabled, true);
    assert.equal(c.credentialDefaultSource, "credential_cmd");
    assert.equal(c.fwdbwdMaxChunkLen, 7);
    assert.equal(c.usePyqwestTransport, false);
    assert.equal(c.sampleNoRetries, false);
    assert.equal("protoWriteFwdbwd" in c, false);
  });

  it("a field of the wrong type is a ResponseValidationError naming it", () => {
    assert.throws(
      () => parseClientConfig({ pjwt_auth_enabled: "yes" }),
      (e: unknown) => {
        assert.ok(e instanceof ResponseValidationError);
        assert.match(e.message, /pjwt_auth_enabled/);
        return true;
      },
    );
    assert.throws(() => parseClientConfig({ fwdbwd_max_chunk_len: 1.5 }), ResponseValidationError);
    assert.throws(() => parseClientConfig([1]), ResponseValidationError);
  });

  it("dynamic config: default refresh 300 s", () => {
    assert.deepEqual(parseDynamicConfig({}), { refreshIntervalSec: 300 });
    assert.deepEqual(parseDynamicConfig({ refresh_interval_sec: 20, other: 1 }), { refreshIntervalSec: 20 });
  });
});

describe("ServiceClient without a server", () => {
  const noNetwork = (() => {
    throw new Error("no request may be made");
  }) as unknown as typeof fetch;

  it("the constructor makes no network call and checks the key", () => {
    const client = new ServiceClient({
      apiKey: "tml-nonetwork",
      baseUrl: "http://127.0.0.1:9",
      fetch: noNetwork,
    });
    assert.equal(client.sessionId, undefined);
    assert.equal(client.heartbeatStats(), undefined);
    assert.throws(() => new ServiceClient({ apiKey: "bogus-key-value", fetch: noNetwork }), ValidationError);
  });

  it("close() is idempotent and later calls throw ClientClosedError", async () => {
    const client = new ServiceClient({
      apiKey: "tml-nonetwork",
      baseUrl: "http://127.0.0.1:9",
      fetch: noNetwork,
    });
    await client.close();
    await client.close();
    assert.equal(client.isClosed, true);
    await assert.rejects(client.session(), ClientClosedError);
    await assert.rejects(client.openSession(), ClientClosedError);
    await assert.rejects(client.getServerCapabilities(), ClientClosedError);
  });

  it("close() during start-up aborts it", async () => {
    let seen: AbortSignal | undefined;
    const hanging = ((_u: string, init: RequestInit) => {
      seen = init.signal ?? undefined;
      return new Promise((_, reject) =>
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    }) as unknown as typeof fetch;
    const client = new ServiceClient({
      apiKey: "tml-nonetwork",
      baseUrl: "http://127.0.0.1:9",
      fetch: hanging,
    });
    const opening = client.openSession();
    await new Promise((r) => setImmediate(r));
    await client.close();
    await assert.rejects(opening, (e: unknown) => (e as Error).name === "APIUserAbortError");
    assert.equal(seen?.aborted, true);
  });

  it("heartbeat listeners get the event's payload once each; a removed one gets nothing; a throwing one harms none", async () => {
    // A transport that opens a session and rejects every heartbeat with 404: the loop emits
    // heartbeatError once per rejecting status (and logs it once), however many beats fail.
    let beats = 0;
    const answer = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    const fake = (async (input: string | URL | Request) => {
      const path = new URL(String(input)).pathname;
      if (path === "/api/v1/client/config") return answer(200, {});
      if (path === "/api/v1/client/dynamic_config") return answer(200, {});
      if (path === "/api/v1/create_session")
        return answer(200, { type: "create_session", session_id: "sess-l" });
      if (path === "/api/v1/session_heartbeat") {
        beats++;
        return answer(404, { detail: "unknown session" });
      }
      throw new Error(`unexpected request ${path}`);
    }) as typeof fetch;
    const client = new ServiceClient({
      apiKey: "tml-nonetwork",
      baseUrl: "http://127.0.0.1:9",
      fetch: fake,
      logLevel: "off",
      maxRetries: 0,
      heartbeat: { intervalMs: 10, warnAfterMs: 60_000 },
    });
    const order: string[] = [];
    const errors: unknown[] = [];
    const removed: unknown[] = [];
    client.on("heartbeatError", () => {
      order.push("throwing");
      throw new Error("a listener that throws must not stop the others or the loop");
    });
    client.on("heartbeatError", (e) => {
      order.push("recording");
      errors.push(e);
    });
    const off = client.on("heartbeatError", (e) => removed.push(e));
    assert.equal(off(), undefined);
    client.on("heartbeatWarning", (e) => removed.push(e)); // 60 s of failures never pass here
    assert.throws(() => client.on("nope" as never, () => {}), /Unknown event: nope/);
    try {
      assert.equal(await client.openSession(), "sess-l");
      while (beats < 4) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(errors, [{ sessionId: "sess-l", status: 404 }]);
      assert.deepEqual(order, ["throwing", "recording"], "listeners run in the order they were added");
      assert.deepEqual(removed, []);
      assert.ok((client.heartbeatStats()?.failures ?? 0) >= 3, "the loop kept beating after the throw");
    } finally {
      await client.close();
    }
  });
});
