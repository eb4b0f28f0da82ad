// The start-up sequence and session lifecycle against a real tinker-local, in process, over HTTP.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { ServiceClient, UnsupportedServerError } from "tinker-ts";
import { recordingLogger } from "./helpers/fake-clock.js";

const KEY = "tml-session-integration";

function paths(server: LocalServer): string[] {
  return server.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("session start-up against tinker-local", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY] });
  });
  after(() => server.close());
  beforeEach(() => {
    server.clearRequests();
    server.faults.clear();
  });

  it("runs client/config -> dynamic_config -> create_session, once for concurrent openSession calls", async () => {
    const client = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      tags: ["b", "a", "b"],
      projectId: "proj-7",
      userMetadata: { run: "x" },
      logLevel: "off",
    });
    try {
      assert.equal(client.sessionId, undefined);
      const [a, b, c] = await Promise.all([client.openSession(), client.openSession(), client.openSession()]);
      assert.equal(a, b);
      assert.equal(b, c);
      assert.equal(client.sessionId, a);
      assert.equal(await client.openSession(), a);
      assert.deepEqual(paths(server), [
        "POST /api/v1/client/config 200",
        "POST /api/v1/client/dynamic_config 200",
        "POST /api/v1/create_session 200",
      ]);
      const row = server.store.sessions.get(a);
      assert.deepEqual(row?.tags, ["b", "a"]);
      assert.equal(row?.projectId, "proj-7");
      assert.deepEqual(row?.userMetadata, { run: "x" });
      assert.equal(row?.sdkVersion, "0.1.0");
    } finally {
      await client.close();
    }
  });

  it("a 404 on client/config fails construction with a clear error, not retried", async () => {
    server.faults.add({ path: "/api/v1/client/config", status: 404, times: 5 });
    const client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    await assert.rejects(client.openSession(), (e: unknown) => {
      assert.ok(e instanceof UnsupportedServerError);
      assert.match(e.message, /not a Tinker server/);
      assert.match(e.message, new RegExp(server.url.replace(/[.]/g, "\\.")));
      return true;
    });
    assert.deepEqual(paths(server), ["POST /api/v1/client/config 404"]);
    // A failed open is not cached: the next call tries again.
    server.faults.clear();
    assert.ok(await client.openSession());
    await client.close();
  });

  it("a transient 503 on client/config is retried; a 404 on dynamic_config means defaults", async () => {
    server.faults.add({ path: "/api/v1/client/config", status: 503, headers: { "retry-after-ms": "10" } });
    server.faults.add({ path: "/api/v1/client/dynamic_config", status: 404 });
    const client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const holder = await client.session();
      assert.deepEqual(holder.dynamicConfig, { refreshIntervalSec: 300 });
      assert.deepEqual(paths(server), [
        "POST /api/v1/client/config 503",
        "POST /api/v1/client/config 200",
        "POST /api/v1/client/dynamic_config 404",
        "POST /api/v1/create_session 200",
      ]);
      assert.equal(holder.config.pjwtAuthEnabled, false);
      assert.equal(holder.config.usePyqwestTransport, false, "tinker-local sends false explicitly");
    } finally {
      await client.close();
    }
  });

  it("getServerCapabilities uses the session-less connection: no session is created", async () => {
    const client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const caps = await client.getServerCapabilities();
      assert.ok(caps.supportedModels.length > 0);
      assert.ok(caps.supportedModels.every((m) => typeof m.modelName === "string"));
      assert.ok(!paths(server).some((p) => p.includes("create_session")));
      assert.equal(client.sessionId, undefined);
      await client.getServerCapabilities();
      assert.equal(paths(server).filter((p) => p.includes("client/config")).length, 1, "connection reused");
    } finally {
      await client.close();
    }
  });

  it("heartbeats on /api/v1/session_heartbeat and stops on close()", async () => {
    const client = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logLevel: "off",
      heartbeat: { intervalMs: 30 },
    });
    const id = await client.openSession();
    await until(() => (client.heartbeatStats()?.successes ?? 0) >= 3);
    await client.close();
    const beats = () => server.requests().filter((r) => r.path === "/api/v1/session_heartbeat").length;
    const atClose = beats();
    assert.ok(atClose >= 3);
    assert.ok((server.store.sessions.get(id)?.heartbeatCount ?? 0) >= 3);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(beats(), atClose, "no heartbeat after close()");
    await assert.rejects(client.openSession(), { name: "ClientClosedError" });
  });

  it("a heartbeat for a session the server does not know (404) is logged at error once; the loop goes on", async () => {
    const rec = recordingLogger();
    const client = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logger: rec.logger,
      logLevel: "debug",
      heartbeat: { intervalMs: 20 },
    });
    const errors: number[] = [];
    client.on("heartbeatError", (e) => errors.push(e.status));
    try {
      await client.openSession();
      server.faults.add({ path: "/api/v1/session_heartbeat", status: 404, times: 4 });
      await until(
        () => (client.heartbeatStats()?.failures ?? 0) >= 4 && (client.heartbeatStats()?.successes ?? 0) >= 1,
      );
      await until(() => (client.heartbeatStats()?.consecutiveFailures ?? 1) === 0);
      assert.deepEqual(errors, [404]);
      assert.equal(rec.at("error").filter((l) => /404/.test(l.message)).length, 1);
    } finally {
      await client.close();
    }
  });
});
