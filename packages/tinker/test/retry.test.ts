// The HTTP-layer retry policy, one test per row of the table in docs/sdk-core.md, driven through the
// real HTTP core with an in-process fetch function, an injected sleep (records the delays) and an
// injected random draw.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiKeyAuth } from "../src/client/auth.js";
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "../src/client/errors.js";
import { HttpClient, IDEMPOTENCY_HEADER, RETRY_COUNT_HEADER } from "../src/client/http.js";
import { parseRetryAfter, RetryPolicy } from "../src/client/retry.js";
import { FakeClock } from "./helpers/fake-clock.js";

type Step = Response | Error | "hang" | ((init: RequestInit) => Response | Promise<Response>);

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  return new Response(text, {
    status,
    headers: { "content-type": "application/json", "content-length": String(text.length), ...headers },
  });
}

function harness(steps: Step[], opts: { random?: number; maxRetries?: number; clock?: FakeClock } = {}) {
  const calls: { url: string; headers: Headers; init: RequestInit }[] = [];
  const delays: number[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, headers: new Headers(init.headers), init });
    const step = steps.length > 1 ? steps.shift()! : steps[0]!;
    if (step === "hang") {
      return new Promise<Response>((_, reject) =>
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    }
    if (step instanceof Error) throw step;
    if (typeof step === "function") return step(init);
    return step.clone();
  }) as unknown as typeof fetch;
  const http = new HttpClient({
    baseUrl: "http://127.0.0.1:9/prefix",
    auth: new ApiKeyAuth("tml-retrytestkey"),
    fetch: fetchImpl,
    maxRetries: opts.maxRetries ?? 10,
    clock: opts.clock ?? new FakeClock(),
    random: () => opts.random ?? 0,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      delays.push(ms);
    },
  });
  return { http, calls, delays };
}

const ok = () => json(200, { ok: true });
const post = { method: "POST" as const, path: "/api/v1/thing", body: { a: 1 } };
const fetchFailed = () => Object.assign(new TypeError("fetch failed"), { cause: new Error("ECONNREFUSED") });

describe("retry table", () => {
  it("connection error: retried with backoff", async () => {
    const h = harness([fetchFailed(), fetchFailed(), ok()]);
    const res = await h.http.request(post);
    assert.equal(res.status, 200);
    assert.equal(h.calls.length, 3);
    assert.deepEqual(h.delays, [500, 1000]);
  });

  it("connection error after the last retry: APIConnectionError", async () => {
    const h = harness([fetchFailed()], { maxRetries: 2 });
    await assert.rejects(h.http.request(post), (e: unknown) => {
      assert.ok(e instanceof APIConnectionError);
      assert.match((e as Error).message, /ECONNREFUSED/);
      return true;
    });
    assert.equal(h.calls.length, 3);
  });

  it("per-attempt timeout: APITimeoutError, retried", async () => {
    const clock = new FakeClock();
    const h = harness(["hang", ok()], { clock });
    const pending = h.http.request({ ...post, timeout: 5000 });
    await clock.advance(5000);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(h.calls.length, 2);
    assert.deepEqual(h.delays, [500]);
  });

  it("timeout with no retries left surfaces as APITimeoutError", async () => {
    const clock = new FakeClock();
    const h = harness(["hang"], { clock, maxRetries: 0 });
    const pending = h.http.request({ ...post, timeout: 5000 });
    const check = assert.rejects(pending, APITimeoutError);
    await clock.advance(5000);
    await check;
  });

  it("caller abort: APIUserAbortError, never retried", async () => {
    const h = harness(["hang"]);
    const controller = new AbortController();
    const pending = h.http.request({ ...post, signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort();
    await assert.rejects(pending, APIUserAbortError);
    assert.equal(h.calls.length, 1);
    assert.deepEqual(h.delays, []);
  });

  it("caller abort before the call: nothing is sent", async () => {
    const h = harness([ok()]);
    await assert.rejects(h.http.request({ ...post, signal: AbortSignal.abort() }), APIUserAbortError);
    assert.equal(h.calls.length, 0);
  });

  it("408: retried", async () => {
    const h = harness([json(408, { detail: "timeout" }), ok()]);
    assert.equal((await h.http.request(post)).status, 200);
    assert.deepEqual(h.delays, [500]);
  });

  it("409: not retried (ConflictError at once)", async () => {
    const h = harness([json(409, { detail: "already exists" }), ok()]);
    await assert.rejects(h.http.request(post), ConflictError);
    assert.equal(h.calls.length, 1);
  });

  it("429: retried, Retry-After honoured", async () => {
    const h = harness([json(429, { detail: "slow down" }, { "retry-after": "3" }), ok()]);
    assert.equal((await h.http.request(post)).status, 200);
    assert.deepEqual(h.delays, [3000]);
  });

  it("429 with no retries left: RateLimitError", async () => {
    const h = harness([json(429, { detail: "slow down" })], { maxRetries: 1 });
    await assert.rejects(h.http.request(post), RateLimitError);
    assert.equal(h.calls.length, 2);
  });

  for (const status of [500, 502, 503, 504]) {
    it(`${status}: retried`, async () => {
      const h = harness([json(status, { detail: "boom" }), ok()]);
      assert.equal((await h.http.request(post)).status, 200);
      assert.equal(h.calls.length, 2);
    });
  }

  it("5xx exhausting the budget: InternalServerError after maxRetries + 1 attempts", async () => {
    const h = harness([json(500, { detail: "boom" })], { maxRetries: 10 });
    await assert.rejects(h.http.request(post), InternalServerError);
    assert.equal(h.calls.length, 11);
    assert.deepEqual(h.delays, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000, 10000]);
  });

  it("bare 400 (no Content-Length): retried as a connection error", async () => {
    const bare = new Response(null, { status: 400 });
    assert.equal(bare.headers.get("content-length"), null);
    const h = harness([bare, ok()]);
    assert.equal((await h.http.request(post)).status, 200);
    assert.equal(h.calls.length, 2);
  });

  it("bare 400 (Content-Length: 0): retried", async () => {
    const h = harness([new Response(null, { status: 400, headers: { "content-length": "0" } }), ok()]);
    assert.equal((await h.http.request(post)).status, 200);
    assert.equal(h.calls.length, 2);
  });

  it("400 with a body: not retried (BadRequestError)", async () => {
    const h = harness([json(400, { detail: "bad field" }), ok()]);
    await assert.rejects(h.http.request(post), (e: unknown) => {
      assert.ok(e instanceof BadRequestError);
      assert.match((e as Error).message, /bad field/);
      return true;
    });
    assert.equal(h.calls.length, 1);
  });

  for (const status of [401, 403, 404, 422]) {
    it(`${status}: not retried`, async () => {
      const h = harness([json(status, { detail: "no" }), ok()]);
      await assert.rejects(h.http.request(post), (e: unknown) => (e as { status: number }).status === status);
      assert.equal(h.calls.length, 1);
    });
  }

  it("x-should-retry: true makes a 409 retried", async () => {
    const h = harness([json(409, { detail: "busy" }, { "x-should-retry": "true" }), ok()]);
    assert.equal((await h.http.request(post)).status, 200);
    assert.equal(h.calls.length, 2);
  });

  it("x-should-retry: false stops a 503 from being retried", async () => {
    const h = harness([json(503, { detail: "down" }, { "x-should-retry": "false" }), ok()]);
    await assert.rejects(h.http.request(post), InternalServerError);
    assert.equal(h.calls.length, 1);
  });

  it("retry-after-ms wins over retry-after", async () => {
    const h = harness([json(503, {}, { "retry-after-ms": "250", "retry-after": "5" }), ok()]);
    await h.http.request(post);
    assert.deepEqual(h.delays, [250]);
  });

  it("Retry-After above 60 s, zero or negative is ignored: backoff applies", async () => {
    const h = harness([
      json(503, {}, { "retry-after": "61" }),
      json(503, {}, { "retry-after": "0" }),
      json(503, {}, { "retry-after-ms": "-5" }),
      ok(),
    ]);
    await h.http.request(post);
    assert.deepEqual(h.delays, [500, 1000, 2000]);
  });

  it("Retry-After of exactly 60 s is honoured", async () => {
    const h = harness([json(429, {}, { "retry-after": "60" }), ok()]);
    await h.http.request(post);
    assert.deepEqual(h.delays, [60_000]);
  });

  it("2xx: returned, nothing retried", async () => {
    const h = harness([ok()]);
    const res = await h.http.request(post);
    assert.deepEqual(res.data, { ok: true });
    assert.equal(h.calls.length, 1);
  });

  it("a per-call maxRetries of 0 sends exactly once", async () => {
    const h = harness([json(503, {})]);
    await assert.rejects(h.http.request({ ...post, maxRetries: 0 }), InternalServerError);
    assert.equal(h.calls.length, 1);
  });

  it("abort during the retry sleep ends the call with APIUserAbortError", async () => {
    const controller = new AbortController();
    const h = harness([
      () => {
        controller.abort();
        return json(503, {});
      },
    ]);
    await assert.rejects(h.http.request({ ...post, signal: controller.signal }), APIUserAbortError);
    assert.equal(h.calls.length, 1);
  });
});

describe("backoff", () => {
  it("is min(0.5·2ⁿ, 10) s times a factor in (0.75, 1]", () => {
    const p = new RetryPolicy();
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((n) => p.backoffMs(n, 0)),
      [500, 1000, 2000, 4000, 8000, 10000, 10000],
    );
    assert.equal(p.backoffMs(0, 0.999999), 500 * (1 - 0.25 * 0.999999));
    for (let i = 0; i < 100; i++) {
      const d = p.backoffMs(3, Math.random());
      assert.ok(d > 3000 && d <= 4000, `delay ${d}`);
    }
  });
});

describe("idempotency key and headers", () => {
  it("one key for every retry of a call, a new key for the next call", async () => {
    const h = harness([json(503, {}), json(503, {}), ok(), ok()]);
    await h.http.request(post);
    await h.http.request(post);
    const keys = h.calls.map((c) => c.headers.get(IDEMPOTENCY_HEADER));
    assert.ok(keys[0]?.startsWith("tinker-ts-retry-"));
    assert.equal(keys[0], keys[1]);
    assert.equal(keys[1], keys[2]);
    assert.notEqual(keys[3], keys[0]);
    assert.deepEqual(
      h.calls.map((c) => c.headers.get(RETRY_COUNT_HEADER)),
      ["0", "1", "2", "0"],
    );
  });

  it("a caller-given key is used as is; GET carries none", async () => {
    const h = harness([ok()]);
    await h.http.request({ ...post, idempotencyKey: "mine-1" });
    await h.http.request({ method: "GET", path: "/api/v1/x" });
    assert.equal(h.calls[0]?.headers.get(IDEMPOTENCY_HEADER), "mine-1");
    assert.equal(h.calls[1]?.headers.has(IDEMPOTENCY_HEADER), false);
  });

  it("asks the auth provider on every attempt (a refreshed JWT is used on the retry)", async () => {
    let n = 0;
    const h = harness([json(503, {}), ok()]);
    const http = h.http.withAuth({ apiKey: async () => `tml-attempt${++n}xx`, close() {} });
    await http.request(post);
    assert.deepEqual(
      h.calls.map((c) => c.headers.get("x-api-key")),
      ["tml-attempt1xx", "tml-attempt2xx"],
    );
  });

  it("sets Content-Type only with a body, Accept and User-Agent always, and keeps the base path", async () => {
    const h = harness([ok()]);
    await h.http.request(post);
    await h.http.request({
      method: "GET",
      path: "api/v1/y",
      query: { limit: 20, flag: true, skip: undefined },
    });
    await h.http.request({ method: "POST", path: "/api/v1/z" });
    const [a, b, c] = h.calls;
    assert.equal(a?.url, "http://127.0.0.1:9/prefix/api/v1/thing");
    assert.equal(a?.headers.get("content-type"), "application/json");
    assert.equal(a?.init.body, '{"a":1}');
    assert.equal(a?.headers.get("accept"), "application/json");
    assert.match(a?.headers.get("user-agent") ?? "", /^tinker-ts\/\d+\.\d+\.\d+/);
    assert.equal(b?.url, "http://127.0.0.1:9/prefix/api/v1/y?limit=20&flag=true");
    assert.equal(b?.headers.has("content-type"), false);
    assert.equal(c?.headers.has("content-type"), false);
    assert.equal(c?.init.body, undefined);
  });

  it("a default X-API-Key header cannot replace the credential", async () => {
    const calls: Headers[] = [];
    const http = new HttpClient({
      baseUrl: "http://127.0.0.1:9",
      auth: new ApiKeyAuth("tml-realkey123"),
      defaultHeaders: { "X-API-Key": "tml-other", "CF-Access-Client-Id": "cf-id" },
      fetch: (async (_u: string, init: RequestInit) => {
        calls.push(new Headers(init.headers));
        return json(200, {});
      }) as unknown as typeof fetch,
    });
    await http.request(post);
    assert.equal(calls[0]?.get("x-api-key"), "tml-realkey123");
    assert.equal(calls[0]?.get("cf-access-client-id"), "cf-id");
  });
});

describe("response parsing", () => {
  it("a non-JSON body where JSON is expected is a ResponseValidationError (not retried)", async () => {
    const h = harness([
      new Response("<html>proxy</html>", { status: 200, headers: { "content-type": "text/html" } }),
    ]);
    await assert.rejects(h.http.request(post), { name: "ResponseValidationError", message: /non-JSON body/ });
    assert.equal(h.calls.length, 1);
  });

  it("a JSON body of the wrong shape fails schema validation", async () => {
    const v = await import("valibot");
    const h = harness([json(200, { session: 1 })]);
    await assert.rejects(h.http.request({ ...post, schema: v.object({ session_id: v.string() }) }), {
      name: "ResponseValidationError",
      message: /^Unexpected response from POST \S+: session_id: required field missing$/,
    });
  });

  it("an empty 2xx body is null; bytes and raw response types", async () => {
    const h = harness([new Response(null, { status: 200 }), new Response(new Uint8Array([1, 2, 3])), ok()]);
    assert.equal((await h.http.request(post)).data, null);
    const bytes = await h.http.request({ ...post, responseType: "bytes" });
    assert.deepEqual([...bytes.data], [1, 2, 3]);
    const raw = await h.http.request({ ...post, responseType: "raw" });
    assert.deepEqual(await raw.data.json(), { ok: true });
  });

  it("raw with redirect manual returns the 3xx response unread", async () => {
    const h = harness([
      new Response(null, { status: 302, headers: { location: "http://example.invalid/x" } }),
    ]);
    const res = await h.http.request({ method: "GET", path: "/a", responseType: "raw", redirect: "manual" });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "http://example.invalid/x");
    assert.equal(h.calls[0]?.init.redirect, "manual");
  });

  it("error bodies are kept: JSON parsed, text as text", async () => {
    const h = harness([json(404, { detail: "no such run" })]);
    await assert.rejects(h.http.request(post), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.deepEqual(e.body, { detail: "no such run" });
      assert.equal(e.path, "/api/v1/thing");
      return true;
    });
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const h = (o: Record<string, string>) => new Headers(o);
  it("reads retry-after-ms, seconds, fractional seconds and HTTP-dates", () => {
    assert.equal(parseRetryAfter(h({ "retry-after-ms": "1500" }), now), 1500);
    assert.equal(parseRetryAfter(h({ "retry-after": "3" }), now), 3000);
    assert.equal(parseRetryAfter(h({ "retry-after": "1.5" }), now), 1500);
    assert.equal(parseRetryAfter(h({ "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" }), now), 7000);
    assert.equal(parseRetryAfter(h({ "retry-after-ms": "20", "retry-after": "9" }), now), 20);
  });
  it("gives undefined for missing or unparseable values, and falls back from a bad retry-after-ms", () => {
    assert.equal(parseRetryAfter(h({}), now), undefined);
    assert.equal(parseRetryAfter(h({ "retry-after": "soon" }), now), undefined);
    assert.equal(parseRetryAfter(h({ "retry-after-ms": "x", "retry-after": "2" }), now), 2000);
  });
  it("a date in the past gives a negative value, which the policy ignores", () => {
    const past = parseRetryAfter(h({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }), now);
    assert.equal(past, -60_000);
    const d = new RetryPolicy().decide(
      { kind: "response", status: 503, headers: h({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }) },
      0,
      5,
      0,
      now,
    );
    assert.deepEqual([d.retry, d.delayMs], [true, 500]);
  });
});
