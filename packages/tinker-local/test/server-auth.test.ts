import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DB_FILE_NAME,
  DEFAULT_LOCAL_API_KEY,
  type LocalServer,
  ownerIdForKey,
  startServer,
} from "tinker-local";
import { call, createSession, DEFAULT_KEY, errorDetail, get, post } from "./helpers/server-http.js";

const KEY_A = "tml-alice-7f3a9c1e5b";
const KEY_B = "tml-bob-2d8e4f6a0c";

describe("auth with the default key", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test("a request without X-API-Key is 401 with a {detail} body", async () => {
    const result = await call(server.url, "POST", "/api/v1/client/config", { body: {} });
    assert.equal(result.status, 401);
    assert.match(errorDetail(result), /X-API-Key/);
  });

  test("an unknown key is 401 and the answer does not echo it", async () => {
    const secret = "tml-not-a-configured-key-91c4";
    const result = await post(server.url, "/api/v1/client/config", {}, secret);
    assert.equal(result.status, 401);
    errorDetail(result);
    assert.ok(!result.text.includes(secret));
    assert.ok(!result.text.includes("91c4"));
  });

  test("the documented local key is accepted when no key is configured", async () => {
    assert.equal(server.usingDefaultKey, true);
    assert.equal(DEFAULT_LOCAL_API_KEY, DEFAULT_KEY);
    const result = await post(server.url, "/api/v1/client/config", { sdk_version: "0.25.0" });
    assert.equal(result.status, 200);
  });

  test("healthz needs no key", async () => {
    const result = await get(server.url, "/api/v1/healthz", null);
    assert.equal(result.status, 200);
    assert.deepEqual(result.json, { status: "ok" });
  });
});

describe("auth with configured keys", () => {
  let server: LocalServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tinker-local-auth-"));
    const keysFile = join(dir, "keys.txt");
    writeFileSync(keysFile, `# team keys\n\n  ${KEY_B}  \n# tml-commented-out\n`);
    server = await startServer({ apiKeys: [KEY_A], keysFile, dataDir: join(dir, "data") });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the default key is refused once keys are configured", async () => {
    assert.equal(server.usingDefaultKey, false);
    const result = await post(server.url, "/api/v1/client/config", {}, DEFAULT_KEY);
    assert.equal(result.status, 401);
  });

  test("keys from --api-key and from the keys file work; comment lines are not keys", async () => {
    assert.equal((await post(server.url, "/api/v1/client/config", {}, KEY_A)).status, 200);
    assert.equal((await post(server.url, "/api/v1/client/config", {}, KEY_B)).status, 200);
    assert.equal((await post(server.url, "/api/v1/client/config", {}, "tml-commented-out")).status, 401);
    assert.equal((await post(server.url, "/api/v1/client/config", {}, "# team keys")).status, 401);
  });

  test("each key is its own user: B cannot heartbeat A's session", async () => {
    const sessionA = await createSession(server.url, KEY_A);
    const byB = await post(
      server.url,
      "/api/v1/session_heartbeat",
      { session_id: sessionA, type: "session_heartbeat" },
      KEY_B,
    );
    assert.equal(byB.status, 404);
    assert.match(errorDetail(byB), /not found/i);
    const byA = await post(
      server.url,
      "/api/v1/session_heartbeat",
      { session_id: sessionA, type: "session_heartbeat" },
      KEY_A,
    );
    assert.equal(byA.status, 200);
    assert.equal(server.store.sessions.get(sessionA)?.heartbeatCount, 1);
  });

  test("sessions are owned by a hash-derived id and the database never holds the key", async () => {
    const sessionB = await createSession(server.url, KEY_B);
    const owner = server.store.sessions.get(sessionB)?.owner;
    assert.equal(owner, ownerIdForKey(KEY_B));
    assert.match(owner ?? "", /^user:[0-9a-f]{12}$/);
    assert.notEqual(ownerIdForKey(KEY_A), ownerIdForKey(KEY_B));
    server.store.db.pragma("wal_checkpoint(TRUNCATE)");
    const bytes = readFileSync(join(server.dataDir, DB_FILE_NAME)).toString("latin1");
    assert.ok(bytes.includes(sessionB), "the session row should be in the file");
    assert.ok(!bytes.includes(KEY_A) && !bytes.includes(KEY_B));
  });
});

test("a missing keys file fails start-up with a message naming the file", async () => {
  await assert.rejects(startServer({ keysFile: "/nonexistent/tinker-keys.txt" }), /tinker-keys\.txt/);
});
