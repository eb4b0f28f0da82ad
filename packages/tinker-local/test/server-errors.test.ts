import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { call, DEFAULT_KEY, errorDetail, post } from "./helpers/server-http.js";

describe("error bodies and unknown paths", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ bodyLimitBytes: 4096 });
  });
  after(() => server.close());

  test("/api/v1/heartbeat does not exist: JSON 404 with Content-Length", async () => {
    const result = await post(server.url, "/api/v1/heartbeat", { session_id: "x" });
    assert.equal(result.status, 404);
    assert.equal(errorDetail(result), "Not Found: POST /api/v1/heartbeat");
    assert.match(result.headers.get("content-type") ?? "", /^application\/json/);
  });

  test("unknown paths are 404 for any method, with or without a key, the query left out", async () => {
    for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
      const result = await call(server.url, method, "/api/v1/no_such_thing?x=1", {});
      assert.equal(result.status, 404, method);
      assert.equal(errorDetail(result), `Not Found: ${method} /api/v1/no_such_thing`);
    }
    const outside = await call(server.url, "GET", "/", { key: DEFAULT_KEY });
    assert.equal(errorDetail(outside), "Not Found: GET /");
  });

  test("a known path with the wrong method is 404 too", async () => {
    const result = await call(server.url, "GET", "/api/v1/create_session", { key: DEFAULT_KEY });
    assert.equal(result.status, 404);
    assert.equal(errorDetail(result), "Not Found: GET /api/v1/create_session");
  });

  test("malformed JSON is 400 {detail}", async () => {
    const result = await call(server.url, "POST", "/api/v1/create_session", {
      key: DEFAULT_KEY,
      body: '{"tags": [',
      headers: { "content-type": "application/json" },
    });
    assert.equal(result.status, 400);
    assert.match(errorDetail(result), /JSON/);
  });

  test("a body over the limit is 413 {detail}", async () => {
    const result = await post(server.url, "/api/v1/telemetry", { events: [], pad: "x".repeat(8192) });
    assert.equal(result.status, 413);
    assert.match(errorDetail(result), /too large/i);
  });

  test("protobuf and zstd-encoded bodies reach the handler as bytes (400 from the route, not the parser)", async () => {
    const proto = await call(server.url, "POST", "/api/v1/create_session", {
      key: DEFAULT_KEY,
      body: Buffer.from([0x0a, 0x02, 0x68, 0x69]),
      headers: { "content-type": "application/x-protobuf" },
    });
    assert.equal(proto.status, 400);
    assert.match(errorDetail(proto), /must be JSON/);
    const zstd = await call(server.url, "POST", "/api/v1/create_session", {
      key: DEFAULT_KEY,
      body: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00]),
      headers: { "content-type": "application/json", "content-encoding": "zstd" },
    });
    assert.equal(zstd.status, 400);
    assert.match(errorDetail(zstd), /must be JSON/);
  });

  test("an unknown content type is not a 415: the route says it wants JSON", async () => {
    const result = await call(server.url, "POST", "/api/v1/telemetry", {
      key: DEFAULT_KEY,
      body: "events=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(result.status, 400);
    assert.match(errorDetail(result), /JSON/);
  });

  test("an empty JSON body counts as no body", async () => {
    const config = await call(server.url, "POST", "/api/v1/client/config", {
      key: DEFAULT_KEY,
      body: "",
      headers: { "content-type": "application/json" },
    });
    assert.equal(config.status, 200);
    const session = await call(server.url, "POST", "/api/v1/create_session", {
      key: DEFAULT_KEY,
      body: "",
      headers: { "content-type": "application/json" },
    });
    assert.equal(session.status, 400);
    assert.match(errorDetail(session), /got nothing/);
  });

  test("a 400 always carries Content-Length, even on a raw HTTP/1.1 request", async () => {
    // fetch hides framing, so check the raw header: a 400 without Content-Length counts as a proxy error.
    const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>(
      (resolve, reject) => {
        const req = httpRequest(
          `${server.url}/api/v1/create_session`,
          { method: "POST", headers: { "x-api-key": DEFAULT_KEY, "content-type": "application/json" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
          },
        );
        req.on("error", reject);
        req.end('{"tags": "nope"}');
      },
    );
    assert.equal(status, 400);
    assert.ok(Number(headers["content-length"]) > 0);
    assert.equal(headers["transfer-encoding"], undefined);
  });
});

test("bad options are refused before anything starts, without quoting keys", async () => {
  await assert.rejects(startServer({ port: 70_000 }), /port must be an integer from 0 to 65535/);
  await assert.rejects(startServer({ sessionTtlSeconds: 0 }), /sessionTtlSeconds must be a positive number/);
  await assert.rejects(startServer({ jwtTtlSeconds: 1.5 }), /jwtTtlSeconds must be a positive integer/);
  await assert.rejects(startServer({ apiKeys: [" tml-spaced-key "] }), (error: Error) => {
    assert.match(error.message, /no spaces around them/);
    assert.ok(!error.message.includes("tml-spaced-key"));
    return true;
  });
});
