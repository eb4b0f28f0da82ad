import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  call,
  createSession,
  DEFAULT_KEY,
  errorDetail,
  FakeClock,
  get,
  post,
} from "./helpers/server-http.js";

describe("request log", () => {
  const clock = new FakeClock();
  let server: LocalServer;
  before(async () => {
    server = await startServer({ clock, requestLogCapacity: 5 });
  });
  after(() => server.close());
  afterEach(() => server.clearRequests());

  test("records method, path, raw query, status and the body-describing headers, never the key", async () => {
    await call(server.url, "GET", "/api/v1/get_server_capabilities?a=1&b=x%20y", {
      key: DEFAULT_KEY,
      headers: { accept: "application/json" },
    });
    await post(server.url, "/api/v1/create_session", {});
    const records = server.requests();
    assert.equal(records.length, 2);
    const [first, second] = records;
    assert.deepEqual(
      { ...first, durationMs: 0 },
      {
        method: "GET",
        path: "/api/v1/get_server_capabilities",
        query: "a=1&b=x%20y",
        status: 200,
        contentType: null,
        contentEncoding: null,
        accept: "application/json",
        idempotencyKey: null,
        headers: {},
        lostStatus: null,
        durationMs: 0,
        time: clock.now(),
      },
    );
    assert.equal(typeof first?.durationMs, "number");
    assert.equal(second?.method, "POST");
    assert.equal(second?.status, 400);
    assert.equal(second?.query, "");
    assert.equal(second?.contentType, "application/json");
    assert.ok(!JSON.stringify(records).includes(DEFAULT_KEY));
  });

  test("recordHeaders keeps the named request headers, and refuses credential headers", async () => {
    const traced = await startServer({ recordHeaders: ["X-Trace-Id", "x-other"] });
    try {
      await call(traced.url, "GET", "/api/v1/get_server_capabilities", {
        key: DEFAULT_KEY,
        headers: { "x-trace-id": "t-1", "x-unnamed": "u" },
      });
      assert.deepEqual(
        traced.requests().map((r) => r.headers),
        [{ "x-trace-id": "t-1" }],
      );
    } finally {
      await traced.close();
    }
    for (const name of ["X-API-Key", "authorization", "Cookie", "CF-Access-Client-Secret"]) {
      await assert.rejects(startServer({ recordHeaders: [name] }), RangeError);
    }
  });

  test("keeps only the newest records up to its capacity, oldest first", async () => {
    for (let i = 0; i < 7; i++) await get(server.url, `/api/v1/healthz?i=${i}`);
    assert.deepEqual(
      server.requests().map((r) => r.query),
      ["i=2", "i=3", "i=4", "i=5", "i=6"],
    );
    server.clearRequests();
    assert.deepEqual(server.requests(), []);
  });
});

describe("fault injection", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());
  afterEach(() => {
    server.faults.clear();
    server.clearRequests();
  });

  test("a status fault answers `times` matching requests, then the real route answers", async () => {
    const handle = server.faults.add({
      path: "/api/v1/client/config",
      status: 503,
      times: 2,
      headers: { "retry-after": "1" },
    });
    for (let i = 0; i < 2; i++) {
      const result = await post(server.url, "/api/v1/client/config", {});
      assert.equal(result.status, 503);
      assert.equal(errorDetail(result), "Injected fault: 503");
      assert.equal(result.headers.get("retry-after"), "1");
    }
    assert.equal(handle.remaining, 0);
    assert.equal(handle.hits, 2);
    assert.equal((await post(server.url, "/api/v1/client/config", {})).status, 200);
    assert.deepEqual(
      server.requests().map((r) => r.status),
      [503, 503, 200],
    );
  });

  test("faults run before auth and match unknown paths, methods and RegExps", async () => {
    server.faults.add({
      method: "get",
      path: /^\/api\/v1\/training_runs\//,
      status: 429,
      body: { detail: "slow down" },
    });
    const wrongMethod = await post(server.url, "/api/v1/training_runs/run-1", {}, null);
    assert.equal(wrongMethod.status, 404);
    const hit = await call(server.url, "GET", "/api/v1/training_runs/run-1?x=1", {});
    assert.equal(hit.status, 429);
    assert.equal(errorDetail(hit), "slow down");
    assert.equal(server.faults.list().length, 0);
    server.faults.add({ path: "/api/v1/client/config", status: 502 });
    assert.equal((await post(server.url, "/api/v1/client/config", {}, null)).status, 502);
    assert.equal((await post(server.url, "/api/v1/client/config", {}, null)).status, 401);
  });

  test("headers alone decorate the real answer", async () => {
    server.faults.add({ path: "/api/v1/healthz", headers: { "x-should-retry": "false" } });
    const result = await get(server.url, "/api/v1/healthz");
    assert.equal(result.status, 200);
    assert.deepEqual(result.json, { status: "ok" });
    assert.equal(result.headers.get("x-should-retry"), "false");
  });

  test("a delay alone holds the real answer back: a later request is answered first", async () => {
    // By order, not by clock: the delayed request is sent first and logged last.
    server.faults.add({ path: "/api/v1/healthz", method: "GET", delayMs: 2000 });
    const delayed = get(server.url, "/api/v1/healthz?n=delayed");
    let delayedDone = false;
    void delayed.then(() => {
      delayedDone = true;
    });
    // Wait until the delayed request has reached the server (its fault is used up) before the next.
    while (server.faults.list().length > 0) await new Promise((r) => setImmediate(r));
    const prompt = await get(server.url, "/api/v1/healthz?n=prompt");
    assert.equal(prompt.status, 200);
    assert.equal(delayedDone, false, "the delayed answer came before the prompt one");
    const result = await delayed;
    assert.equal(result.status, 200);
    assert.deepEqual(result.json, { status: "ok" });
    assert.deepEqual(
      server.requests().map((r) => r.query),
      ["n=prompt", "n=delayed"],
    );
  });

  test("the log keeps each request's X-Idempotency-Key", async () => {
    await call(server.url, "POST", "/api/v1/client/config", {
      key: DEFAULT_KEY,
      body: {},
      headers: { "X-Idempotency-Key": "key-one" },
    });
    await post(server.url, "/api/v1/client/config", {});
    assert.deepEqual(
      server.requests().map((r) => r.idempotencyKey),
      ["key-one", null],
    );
  });

  test("answerLost runs the route, then drops the connection: fetch fails, the work is done", async () => {
    const sessionId = await createSession(server.url);
    server.clearRequests();
    server.faults.add({ path: "/api/v1/session_heartbeat", answerLost: true });
    const body = { session_id: sessionId, type: "session_heartbeat" };
    const send = () =>
      call(server.url, "POST", "/api/v1/session_heartbeat", {
        key: DEFAULT_KEY,
        body,
        headers: { "X-Idempotency-Key": "lost-1" },
      });
    await assert.rejects(send(), TypeError);
    // The route ran: the beat is counted, though its answer never reached the client.
    assert.equal(server.store.sessions.get(sessionId)?.heartbeatCount, 1);
    assert.equal((await send()).status, 200, "the fault is used up; the next request is answered");
    assert.equal(server.store.sessions.get(sessionId)?.heartbeatCount, 2);
    assert.deepEqual(
      server.requests().map((r) => [r.status, r.lostStatus, r.idempotencyKey]),
      [
        [0, 200, "lost-1"],
        [200, null, "lost-1"],
      ],
    );
  });

  test("reset destroys the connection: fetch fails, the log shows status 0", async () => {
    const sessionId = await createSession(server.url);
    server.clearRequests();
    server.faults.add({ path: "/api/v1/session_heartbeat", reset: true });
    await assert.rejects(
      post(server.url, "/api/v1/session_heartbeat", { session_id: sessionId, type: "session_heartbeat" }),
      TypeError,
    );
    assert.deepEqual(
      server.requests().map((r) => [r.path, r.status]),
      [["/api/v1/session_heartbeat", 0]],
    );
    assert.equal(server.store.sessions.get(sessionId)?.heartbeatCount, 0, "the route never ran");
  });

  test("bad fault specs are refused", () => {
    assert.throws(() => server.faults.add({ path: "/x" }), /needs one of/);
    assert.throws(() => server.faults.add({ status: 503, times: 0 }), /times/);
    assert.throws(() => server.faults.add({ status: 42 }), /status/);
    assert.throws(() => server.faults.add({ status: 503, reset: true }), /at most one/);
    assert.throws(() => server.faults.add({ status: 200, answerLost: true }), /at most one/);
  });
});

test("a hung request stays unanswered until the server closes", async () => {
  const server = await startServer();
  server.faults.add({ path: "/api/v1/healthz", hang: true });
  let settled = false;
  const pending = get(server.url, "/api/v1/healthz").finally(() => {
    settled = true;
  });
  // The other requests are answered meanwhile, and the hung one still is not.
  assert.equal((await post(server.url, "/api/v1/client/config", {})).status, 200);
  assert.equal((await get(server.url, "/api/v1/healthz")).status, 200);
  assert.equal(settled, false);
  assert.ok(server.requests().some((r) => r.path === "/api/v1/healthz" && r.status === 0));
  await server.close();
  await assert.rejects(pending, TypeError);
});
