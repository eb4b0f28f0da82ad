import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, readSessionRecord, startServer } from "tinker-local";
import { MODEL_CATALOG } from "../src/model/catalog.js";
import { DEFAULT_TWINS, findTwin, isTwinInstalled, type TwinDefinition } from "../src/model/twins.js";
import { createSession, errorDetail, FakeClock, get, post, SESSION_BODY } from "./helpers/server-http.js";

const TTL_SECONDS = 60;

describe("service routes", () => {
  const clock = new FakeClock();
  let server: LocalServer;
  before(async () => {
    server = await startServer({ clock, sessionTtlSeconds: TTL_SECONDS });
  });
  after(() => server.close());

  const heartbeat = (sessionId: string) =>
    post(server.url, "/api/v1/session_heartbeat", { session_id: sessionId, type: "session_heartbeat" });

  test("client/config pins the flags tinker-local decided on and sends the contract defaults", async () => {
    const result = await post(server.url, "/api/v1/client/config", { sdk_version: "0.25.0" });
    assert.equal(result.status, 200);
    assert.match(result.headers.get("content-type") ?? "", /json/);
    const config = result.json as Record<string, unknown>;
    assert.equal(config.pjwt_auth_enabled, false);
    assert.equal(config.use_pyqwest_transport, false);
    assert.equal(config.proto_compress_fwdbwd, false);
    assert.equal(config.create_model_via_load_weights, false);
    assert.equal(config.fwdbwd_max_chunk_len, 1024);
    assert.equal(config.fwdbwd_max_chunk_bytes_count, 5_000_000);
    assert.equal(config.parallel_fwdbwd_chunks, true);
    assert.equal(config.credential_default_source, "api_key");
  });

  test("client/dynamic_config answers a refresh interval", async () => {
    const result = await post(server.url, "/api/v1/client/dynamic_config", { sdk_version: "0.25.0" });
    assert.equal(result.status, 200);
    assert.deepEqual(result.json, { refresh_interval_sec: 300 });
  });

  test("create_session stores every field and answers a sess- id", async () => {
    const result = await post(server.url, "/api/v1/create_session", {
      tags: ["a", "b"],
      user_metadata: { team: "x", n: 1 },
      sdk_version: "0.25.0",
      project_id: "proj-1",
      type: "create_session",
    });
    assert.equal(result.status, 200);
    const body = result.json as { type: string; session_id: string };
    assert.equal(body.type, "create_session");
    assert.match(body.session_id, /^sess-[0-9a-f]{20}$/);
    const record = readSessionRecord(server.dataDir, body.session_id);
    assert.deepEqual(record, {
      id: body.session_id,
      owner: record?.owner,
      tags: ["a", "b"],
      userMetadata: { team: "x", n: 1 },
      sdkVersion: "0.25.0",
      projectId: "proj-1",
      createdAt: clock.now(),
      lastHeartbeatAt: null,
      heartbeatCount: 0,
      expiredAt: null,
    });
  });

  test("create_session accepts null user_metadata and no type", async () => {
    const result = await post(server.url, "/api/v1/create_session", {
      tags: [],
      user_metadata: null,
      sdk_version: "x",
    });
    assert.equal(result.status, 200);
    const id = (result.json as { session_id: string }).session_id;
    assert.equal(server.store.sessions.get(id)?.userMetadata, null);
    assert.equal(server.store.sessions.get(id)?.projectId, null);
  });

  const invalid: [string, unknown, RegExp][] = [
    ["missing tags", { user_metadata: {}, sdk_version: "x" }, /'tags' is required/],
    ["tags not strings", { ...SESSION_BODY, tags: ["a", 1] }, /'tags' must be an array of strings/],
    ["user_metadata missing", { tags: [], sdk_version: "x" }, /'user_metadata'/],
    [
      "user_metadata an array",
      { ...SESSION_BODY, user_metadata: [] },
      /'user_metadata' must be an object or null/,
    ],
    ["sdk_version missing", { tags: [], user_metadata: {} }, /'sdk_version'/],
    ["project_id a number", { ...SESSION_BODY, project_id: 3 }, /'project_id' must be a string/],
    ["wrong type", { ...SESSION_BODY, type: "create_model" }, /'type' must be "create_session"/],
    ["body an array", [1, 2], /JSON object/],
  ];
  for (const [name, body, pattern] of invalid) {
    test(`create_session rejects ${name} with a 400 naming the problem`, async () => {
      const result = await post(server.url, "/api/v1/create_session", body);
      assert.equal(result.status, 400);
      assert.match(errorDetail(result), pattern);
    });
  }

  test("heartbeats count up and record the server time", async () => {
    const id = await createSession(server.url);
    clock.advance(10_000);
    assert.deepEqual((await heartbeat(id)).json, { type: "session_heartbeat" });
    clock.advance(10_000);
    assert.equal((await heartbeat(id)).status, 200);
    const record = readSessionRecord(server.dataDir, id);
    assert.equal(record?.heartbeatCount, 2);
    assert.equal(record?.lastHeartbeatAt, clock.now());
  });

  test("a heartbeat for an unknown session is 404; a bad body is 400", async () => {
    const unknown = await heartbeat("sess-00000000000000000000");
    assert.equal(unknown.status, 404);
    assert.match(errorDetail(unknown), /sess-00000000000000000000/);
    const bad = await post(server.url, "/api/v1/session_heartbeat", { type: "session_heartbeat" });
    assert.equal(bad.status, 400);
    assert.match(errorDetail(bad), /'session_id'/);
  });

  test("a session expires once the TTL passes without a heartbeat, counted from the last one", async () => {
    const id = await createSession(server.url);
    clock.advance(TTL_SECONDS * 1000);
    assert.equal((await heartbeat(id)).status, 200, "exactly at the TTL it is still alive");
    const lastBeat = clock.now();
    clock.advance(TTL_SECONDS * 1000 + 1);
    const result = await heartbeat(id);
    assert.equal(result.status, 404);
    assert.match(errorDetail(result), /expired/i);
    const record = readSessionRecord(server.dataDir, id);
    assert.equal(record?.expiredAt, lastBeat + TTL_SECONDS * 1000);
    assert.equal(record?.heartbeatCount, 1);
    clock.advance(1);
    assert.equal((await heartbeat(id)).status, 404, "an expired session stays expired");
  });

  test("a session that never heartbeats expires TTL after creation", async () => {
    const id = await createSession(server.url);
    const created = clock.now();
    clock.advance(TTL_SECONDS * 1000 + 1);
    assert.equal((await heartbeat(id)).status, 404);
    assert.equal(readSessionRecord(server.dataDir, id)?.expiredAt, created + TTL_SECONDS * 1000);
  });

  test("telemetry is accepted and counted per session", async () => {
    const id = await createSession(server.url);
    const batch = {
      events: [{ event: "SESSION_START" }, { event: "GENERIC_EVENT" }],
      session_id: id,
      platform: "Linux",
    };
    assert.deepEqual((await post(server.url, "/api/v1/telemetry", batch)).json, { status: "accepted" });
    assert.equal((await post(server.url, "/api/v1/telemetry", batch)).status, 200);
    const record = server.store.sessions.get(id);
    const count = server.store.telemetry.get(record?.owner ?? "", id);
    assert.equal(count?.batches, 2);
    assert.equal(count?.events, 4);
  });

  test("telemetry without an events array is 400", async () => {
    const result = await post(server.url, "/api/v1/telemetry", { session_id: "x", events: "no" });
    assert.equal(result.status, 400);
    assert.match(errorDetail(result), /'events'/);
  });

  test("healthz and get_server_capabilities", async () => {
    assert.deepEqual((await get(server.url, "/api/v1/healthz")).json, { status: "ok" });
    const caps = await get(server.url, "/api/v1/get_server_capabilities");
    assert.equal(caps.status, 200);
    // By default: tinker-local's own models, then the default twins whose tokenizer data is installed.
    const installed = DEFAULT_TWINS.map((name) => findTwin(name) as TwinDefinition).filter(isTwinInstalled);
    assert.deepEqual(caps.json, {
      supported_models: [
        ...MODEL_CATALOG.map((m) => ({ model_name: m.name, max_context_length: m.maxContextLength })),
        ...installed.map((t) => ({ model_name: t.name, max_context_length: t.maxContextLength })),
      ],
    });
    assert.ok(MODEL_CATALOG.length > 0);
    assert.ok(installed.some((t) => t.name === "Qwen/Qwen3-4B-Instruct-2507"));
  });
});

describe("client/config overrides", () => {
  test("each flag can be switched by an option, extra fields pass through, JWT mode sets pjwt", async () => {
    const server = await startServer({
      jwt: true,
      clientConfig: {
        proto_compress_fwdbwd: true,
        use_pyqwest_transport: true,
        fwdbwd_max_chunk_len: 7,
        future_flag: "x",
      },
    });
    try {
      const config = (await post(server.url, "/api/v1/client/config", {})).json as Record<string, unknown>;
      assert.equal(config.pjwt_auth_enabled, true);
      assert.equal(config.proto_compress_fwdbwd, true);
      assert.equal(config.use_pyqwest_transport, true);
      assert.equal(config.fwdbwd_max_chunk_len, 7);
      assert.equal(config.future_flag, "x");
      assert.equal(config.create_model_via_load_weights, false);
    } finally {
      await server.close();
    }
  });

  test("an explicit pjwt_auth_enabled override wins over the mode", async () => {
    const server = await startServer({ clientConfig: { pjwt_auth_enabled: true } });
    try {
      const config = (await post(server.url, "/api/v1/client/config", {})).json as Record<string, unknown>;
      assert.equal(config.pjwt_auth_enabled, true);
    } finally {
      await server.close();
    }
  });
});
