// HTTP mechanics of the Node transport that tinker-local never exercises (it neither redirects API
// calls nor compresses answers), against real node:http servers on port 0: redirects as fetch
// follows them, with the credential dropped when a redirect leaves the origin; gzip, deflate and br
// bodies decoded; a body that stalls half-way ended by the per-attempt timeout or by the caller's
// abort through the whole HTTP core; a body cut by the server a connection error; the pool each
// endpoint goes to.

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { ApiKeyAuth } from "../src/client/auth.js";
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  ValidationError,
} from "../src/client/errors.js";
import { HttpClient } from "../src/client/http.js";
import { NodeTransport } from "../src/client/transport-node.js";
import { poolFor } from "../src/client/transport-pools.js";

interface Seen {
  method: string;
  url: string;
  key: string | undefined;
  body: string;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        key: req.headers["x-api-key"] as string,
        body,
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, seen };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe("the Node transport's HTTP mechanics", () => {
  const transport = new NodeTransport();
  let main: Awaited<ReturnType<typeof listen>>;
  let other: Awaited<ReturnType<typeof listen>>;
  const stalled: ServerResponse[] = [];

  before(async () => {
    other = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end('{"where":"other"}');
    });
    main = await listen((req, res) => {
      const path = req.url ?? "";
      const json = Buffer.from(JSON.stringify({ path, ok: true }));
      if (path === "/307") res.writeHead(307, { location: "/echo" }).end();
      else if (path === "/302") res.writeHead(302, { location: "/echo" }).end();
      else if (path === "/away") res.writeHead(302, { location: `${other.url}/there` }).end();
      else if (path === "/loop") res.writeHead(302, { location: "/loop" }).end();
      else if (path === "/gzip") res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync(json));
      else if (path === "/deflate")
        res.writeHead(200, { "content-encoding": "deflate" }).end(deflateSync(json));
      else if (path === "/br") res.writeHead(200, { "content-encoding": "br" }).end(brotliCompressSync(json));
      else if (path === "/stall") {
        // Headers and half a body, then nothing: only a deadline or an abort ends the read.
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"partial":');
        stalled.push(res);
      } else if (path === "/cut") {
        // Half a body, then the connection drops: the read fails, the pooled socket is not reused.
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"partial":', () => res.socket?.destroy());
      } else res.writeHead(200, { "content-type": "application/json" }).end(json);
    });
  });
  after(async () => {
    for (const res of stalled) res.destroy();
    await transport.close();
    await close(main.server);
    await close(other.server);
  });

  const client = (maxRetries = 0) =>
    new HttpClient({
      baseUrl: main.url,
      auth: new ApiKeyAuth("tml-mechanics-key"),
      transport,
      maxRetries,
      // The retry decision is what is asserted, not the backoff.
      sleep: async (_ms, signal) => {
        if (signal?.aborted) throw signal.reason;
      },
    });

  it("follows 307 with the method and body, 302 after a POST as a GET without a body", async () => {
    const a = await client().request({ method: "POST", path: "/307", body: { n: 1 } });
    assert.deepEqual(a.data, { path: "/echo", ok: true });
    const b = await client().request({ method: "POST", path: "/302", body: { n: 2 } });
    assert.deepEqual(b.data, { path: "/echo", ok: true });
    assert.deepEqual(
      main.seen.slice(-4).map((s) => `${s.method} ${s.url} ${s.body}`),
      ['POST /307 {"n":1}', 'POST /echo {"n":1}', 'POST /302 {"n":2}', "GET /echo "],
    );
  });

  it("keeps the key on the same origin and drops it when a redirect leaves the origin", async () => {
    const res = await client().request({ method: "GET", path: "/away" });
    assert.deepEqual(res.data, { where: "other" });
    assert.equal(main.seen.at(-1)?.key, "tml-mechanics-key");
    assert.equal(other.seen.at(-1)?.key, undefined);
  });

  it("returns the 3xx unread with redirect manual, and gives up after 20 hops", async () => {
    const manual = await client().request({
      method: "GET",
      path: "/302",
      redirect: "manual",
      responseType: "raw",
    });
    assert.equal(manual.status, 302);
    assert.equal(manual.headers.get("location"), "/echo");
    const before = main.seen.length;
    await assert.rejects(client().request({ method: "GET", path: "/loop" }), /more than 20 redirects/);
    assert.equal(main.seen.length - before, 21);
  });

  for (const coding of ["gzip", "deflate", "br"]) {
    it(`decodes a ${coding} body, as JSON and as bytes`, async () => {
      const json = await client().request({ method: "GET", path: `/${coding}` });
      assert.deepEqual(json.data, { path: `/${coding}`, ok: true });
      const bytes = await client().request({ method: "GET", path: `/${coding}`, responseType: "bytes" });
      assert.deepEqual(JSON.parse(Buffer.from(bytes.data).toString("utf8")), {
        path: `/${coding}`,
        ok: true,
      });
    });
  }

  it("a raw response streams its body as a web Response", async () => {
    const res = await client().request({ method: "GET", path: "/gzip", responseType: "raw" });
    assert.deepEqual(await res.data.json(), { path: "/gzip", ok: true });
  });

  it("a body that stalls is ended by the per-attempt timeout (APITimeoutError)", async () => {
    await assert.rejects(client().request({ method: "GET", path: "/stall", timeout: 300 }), APITimeoutError);
  });

  it("a body that stalls is ended by the caller's abort (APIUserAbortError), not retried", async () => {
    const controller = new AbortController();
    const before = main.seen.length;
    const pending = client(3).request({ method: "GET", path: "/stall", signal: controller.signal });
    while (main.seen.length === before) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await assert.rejects(pending, APIUserAbortError);
    assert.equal(main.seen.length - before, 1);
  });

  it("a body the server cuts half-way is an APIConnectionError after the retries, each one a new request", async () => {
    const before = main.seen.length;
    await assert.rejects(client(2).request({ method: "GET", path: "/cut" }), APIConnectionError);
    assert.equal(main.seen.length - before, 3);
    // The pool still serves the next request (the broken socket was dropped, not reused).
    const ok = await client().request({ method: "GET", path: "/echo" });
    assert.deepEqual(ok.data, { path: "/echo", ok: true });
  });

  it("refuses a header value with a line break before sending, without printing the value", async () => {
    const before = main.seen.length;
    const error = await client()
      .request({ method: "GET", path: "/echo", headers: { "x-note": "a\r\nx-api-key: tml-smuggled" } })
      .then(
        () => assert.fail("expected a ValidationError"),
        (e: unknown) => e,
      );
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /x-note/);
    assert.doesNotMatch(error.message, /smuggled/);
    assert.equal(main.seen.length, before);
  });

  it("sends each endpoint to its pool of contract 1.7, with or without a base path", () => {
    assert.equal(poolFor("/api/v1/asample"), "sample");
    assert.equal(poolFor("/services/tinker-prod/api/v1/retrieve_future"), "retrieve");
    assert.equal(poolFor("/api/v1/session_heartbeat"), "session");
    assert.equal(poolFor("/api/v1/client/config"), "session");
    assert.equal(poolFor("/api/v1/telemetry"), "telemetry");
    assert.equal(poolFor("/api/v1/forward_backward"), "train");
    assert.equal(poolFor("/api/v1/training_runs/run-1/checkpoints"), "train");
    assert.equal(poolFor("/healthz"), "train");
  });
});
