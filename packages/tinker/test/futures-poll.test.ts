// The retrieve_future loop, one test per row of contract 5.2's table, against a scripted transport
// (an in-process fake of the HTTP core's answers) with injected sleeps whose lengths are asserted.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  BadRequestError,
  ClientClosedError,
  ConflictError,
  FutureExpiredError,
  makeAPIError,
  NotFoundError,
  PaymentRequiredError,
  RequestFailedError,
  ResponseValidationError,
  UnprocessableEntityError,
} from "tinker-ts";
import { decodeForwardBackwardOutputProto, encodeForwardBackwardOutputProto } from "tinker-ts/wire";
import type { RetrieveFutureParams } from "../src/api/futures.js";
import { silentLogger } from "../src/client/logger.js";
import { type PollOptions, type PollReply, pollFuture, type QueueStateEvent } from "../src/futures/poll.js";

type Step = PollReply | Error;

const enc = new TextEncoder();

function json(value: unknown): PollReply {
  return {
    status: 200,
    headers: new Headers({ "content-type": "application/json" }),
    body: enc.encode(JSON.stringify(value)),
  };
}

function proto(bytes: Uint8Array): PollReply {
  return { status: 200, headers: new Headers({ "content-type": "application/x-protobuf" }), body: bytes };
}

/** An error as the HTTP core raises it for a status with a JSON body (Content-Length set). */
function status(code: number, body: unknown = { detail: `status ${code}` }): Error {
  const text = JSON.stringify(body);
  return makeAPIError(code, body, new Headers({ "content-length": String(text.length) }), {
    method: "POST",
    path: "/api/v1/retrieve_future",
  });
}

/** A 400 without a body (an edge proxy dropping the request). */
function bare400(): Error {
  return makeAPIError(400, "", new Headers(), { method: "POST", path: "/api/v1/retrieve_future" });
}

const OK = { model_id: "m-1", type: "create_model" };
const jsonDecoder = { name: "CreateModelResponse", json: (v: unknown) => v as typeof OK };

function harness(steps: Step[], overrides: Partial<PollOptions<unknown>> = {}) {
  const calls: RetrieveFutureParams[] = [];
  const sleeps: number[] = [];
  const events: QueueStateEvent[] = [];
  let t = 0;
  const options: PollOptions<unknown> = {
    requestId: "req-7",
    requestType: "CreateModel",
    decoder: jsonDecoder,
    transport: async (params) => {
      calls.push(params);
      const step = steps.shift();
      if (step === undefined) throw new Error(`transport called ${calls.length} times; the script has ended`);
      if (step instanceof Error) throw step;
      return step;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    now: () => t,
    logger: silentLogger,
    onQueueState: (e) => events.push(e),
    ...overrides,
  };
  return { options, calls, sleeps, events, run: () => pollFuture(options), remaining: () => steps.length };
}

describe("pollFuture: request shape (5.2 step 3)", () => {
  it("sends iteration, request type, the round-trip time only on iteration 0, and Accept by type", async () => {
    const h = harness([json({ type: "try_again", request_id: "req-7", queue_state: "active" }), json(OK)], {
      createPromiseRoundtripSec: 0.25,
    });
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(
      h.calls.map((c) => [
        c.requestId,
        c.iteration,
        c.requestType,
        c.allowMetadataOnly,
        c.accept,
        c.createPromiseRoundtripSec,
      ]),
      [
        ["req-7", 0, "CreateModel", true, "application/json", 0.25],
        ["req-7", 1, "CreateModel", true, "application/json", 0.25],
      ],
    );
    const { retrieveFutureHeaders } = await import("../src/api/futures.js");
    assert.deepEqual(retrieveFutureHeaders(h.calls[0]!), {
      "X-Tinker-Request-Iteration": "0",
      "X-Tinker-Request-Type": "CreateModel",
      "X-Tinker-Create-Promise-Roundtrip-Time": "0.25",
    });
    assert.deepEqual(retrieveFutureHeaders(h.calls[1]!), {
      "X-Tinker-Request-Iteration": "1",
      "X-Tinker-Request-Type": "CreateModel",
    });
  });

  it("asks for protobuf for a ForwardBackwardOutput, and JSON with wireFormat json", async () => {
    const out = { loss_fn_output_type: "ArrayRecord", loss_fn_outputs: [], metrics: { "loss:sum": 1.5 } };
    const decoder = {
      name: "ForwardBackwardOutput",
      proto: decodeForwardBackwardOutputProto,
      json: (v: unknown) => v as typeof out,
    };
    const p = harness([proto(encodeForwardBackwardOutputProto(out))], {
      decoder,
      requestType: "ForwardBackward",
    });
    assert.deepEqual(await p.run(), out);
    assert.equal(p.calls[0]!.accept, "application/x-protobuf");
    const j = harness([json(out)], { decoder, wireFormat: "json", requestType: "ForwardBackward" });
    assert.deepEqual(await j.run(), out);
    assert.equal(j.calls[0]!.accept, "application/json");
  });
});

describe("pollFuture: 2xx outcomes", () => {
  it("protobuf for a type only sent as JSON is fatal", async () => {
    const h = harness([proto(new Uint8Array([1, 2]))]);
    await assert.rejects(h.run(), ResponseValidationError);
  });

  it("undecodable protobuf is fatal", async () => {
    const decoder = {
      name: "ForwardBackwardOutput",
      proto: decodeForwardBackwardOutputProto,
      json: (v: unknown) => v,
    };
    const h = harness([proto(new Uint8Array([0xff, 0xff, 0xff]))], { decoder });
    await assert.rejects(h.run(), ResponseValidationError);
  });

  it("try_again: tells the observer, polls again at once, and resets the connection backoff", async () => {
    const h = harness([
      new APIConnectionError("reset"),
      json({
        type: "try_again",
        request_id: "req-7",
        queue_state: "paused_capacity",
        queue_state_reason: "busy GPUs",
      }),
      new APIConnectionError("reset"),
      json({ type: "try_again", request_id: "req-7", queue_state: "paused_rate_limit" }),
      json({ type: "try_again", request_id: "req-7" }),
      json({ type: "try_again", request_id: "req-7", queue_state: "weird", queue_state_reason: "why" }),
      json(OK),
    ]);
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(h.sleeps, [1000, 1000]);
    assert.deepEqual(
      h.events.map((e) => [e.state, e.reason, e.requestId]),
      [
        ["paused_capacity", "busy GPUs", "req-7"],
        ["paused_rate_limit", "concurrent training clients rate limit hit", "req-7"],
        ["unknown", "why", "req-7"],
      ],
    );
  });

  it("complete_metadata: polls again with allow_metadata_only=false; a second one is fatal", async () => {
    const h = harness([json({ status: "complete_metadata", response_payload_size: 10 }), json(OK)]);
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(
      h.calls.map((c) => c.allowMetadataOnly),
      [true, false],
    );
    assert.deepEqual(h.sleeps, []);
    const twice = harness([
      json({ status: "complete_metadata", response_payload_size: 10 }),
      json({ status: "complete_metadata", response_payload_size: 10 }),
    ]);
    await assert.rejects(
      twice.run(),
      (e: unknown) => e instanceof ResponseValidationError && /twice/.test(e.message),
    );
  });

  it('an "error" key raises RequestFailedError with the request id and category', async () => {
    for (const [sent, expected] of [
      ["user", "user"],
      ["server", "server"],
      ["unknown", "unknown"],
      ["USER", "unknown"],
      [undefined, "unknown"],
    ] as const) {
      const h = harness([json({ error: "bad loss input", ...(sent ? { category: sent } : {}) })]);
      await assert.rejects(h.run(), (e: unknown) => {
        assert.ok(e instanceof RequestFailedError);
        assert.equal(e.requestId, "req-7");
        assert.equal(e.category, expected);
        assert.match(e.message, /bad loss input/);
        return true;
      });
    }
  });

  it("a JSON success for a protobuf-only type is fatal when protobuf was asked for", async () => {
    const decoder = { name: "SampleResponse", proto: () => ({}), json: (v: unknown) => v };
    const h = harness([json({ sequences: [] })], { decoder });
    await assert.rejects(
      h.run(),
      (e: unknown) => e instanceof ResponseValidationError && /predates protobuf/.test(e.message),
    );
  });
});

describe("pollFuture: status outcomes", () => {
  it("408 polls again at once, reports the queue state of its body, and resets the bodied-400 count", async () => {
    const h = harness([
      status(400),
      status(400),
      status(400),
      status(408, { queue_state: "paused_capacity", queue_state_reason: "full" }),
      status(400),
      status(400),
      status(400),
      status(408, "text body"),
      json(OK),
    ]);
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(h.sleeps, []);
    assert.deepEqual(
      h.events.map((e) => e.state),
      ["paused_capacity"],
    );
  });

  it("5xx polls again with a growing wait (0, 0.25, 0.5, 1, 2, 4, 5, 5 s), reset by any other answer", async () => {
    const h = harness([
      ...Array.from({ length: 8 }, () => status(503)),
      status(408),
      status(500),
      status(502),
      json(OK),
    ]);
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(h.sleeps, [0, 250, 500, 1000, 2000, 4000, 5000, 5000, 0, 250]);
  });

  it("429 sleeps min(2^c, 30) s and grows c; 429 does not reset c, another status does", async () => {
    const h = harness([...Array.from({ length: 7 }, () => status(429)), status(408), status(429), json(OK)]);
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(h.sleeps, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 1000]);
  });

  it("410 raises FutureExpiredError with the request id", async () => {
    const h = harness([status(410)]);
    await assert.rejects(h.run(), (e: unknown) => e instanceof FutureExpiredError && e.requestId === "req-7");
    assert.equal(h.calls.length, 1);
  });

  it("a bare 400 is a connection-style backoff, with a budget of 16", async () => {
    const h = harness([bare400(), bare400(), status(408), bare400(), json(OK)]);
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(h.sleeps, [1000, 2000, 1000]);
    const exhausted = harness(Array.from({ length: 17 }, () => bare400()));
    await assert.rejects(
      exhausted.run(),
      (e: unknown) => e instanceof BadRequestError && e.requestId === "req-7",
    );
    assert.equal(exhausted.sleeps.length, 16);
  });

  it("a 400 with a body polls again at once up to 3 times, then is fatal with the request id", async () => {
    const ok = harness([status(400), status(400), status(400), json(OK)]);
    assert.deepEqual(await ok.run(), OK);
    assert.deepEqual(ok.sleeps, []);
    const h = harness([status(400), status(400), status(400), status(400, { detail: "no such request" })]);
    await assert.rejects(h.run(), (e: unknown) => {
      assert.ok(e instanceof BadRequestError);
      assert.equal(e.status, 400);
      assert.equal(e.requestId, "req-7");
      assert.match(e.message, /req-7.*no such request/);
      return true;
    });
  });

  it("402 sleeps 5 s while the billing pause lasts, then is fatal", async () => {
    const h = harness(
      Array.from({ length: 10 }, () => status(402, { detail: "out of credits" })),
      { billingMaxPauseMs: 20_000 },
    );
    await assert.rejects(
      h.run(),
      (e: unknown) => e instanceof PaymentRequiredError && e.requestId === "req-7",
    );
    assert.deepEqual(h.sleeps, [5000, 5000, 5000, 5000]);
  });

  it("402 pauses end when billing recovers", async () => {
    const h = harness([status(402), status(402), json(OK)], { billingMaxPauseMs: 60_000 });
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(h.sleeps, [5000, 5000]);
  });

  it("a 402 more than 5 min after the last one starts a new pause window", async () => {
    // Pause budget 12 s. Two 402s (t = 0, 5 s), then an answer that arrives 6 min later, then 402s
    // again: they get a fresh 12 s window (three more 5 s sleeps) instead of failing at once, which
    // is what the old window (opened at t = 0) would make of them.
    const tryAgain = json({ type: "try_again", request_id: "req-7", queue_state: "active" });
    const steps: Step[] = [
      status(402),
      status(402),
      tryAgain,
      status(402),
      status(402),
      status(402),
      status(402),
    ];
    let t = 0;
    const sleeps: number[] = [];
    const calls: number[] = [];
    const h = harness([], {
      billingMaxPauseMs: 12_000,
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
      transport: async () => {
        calls.push(t);
        const step = steps.shift();
        if (step === undefined) throw new Error("the script has ended");
        if (step === tryAgain) t += 6 * 60_000; // a long quiet spell: no 402 for 6 min
        if (step instanceof Error) throw step;
        return step;
      },
    });
    await assert.rejects(h.run(), PaymentRequiredError);
    assert.equal(steps.length, 0, "every step was used: the new window let three more 402s pause");
    assert.deepEqual(sleeps, [5000, 5000, 5000, 5000, 5000]);
    assert.deepEqual(calls, [0, 5000, 10_000, 370_000, 375_000, 380_000, 385_000]);
  });

  it("other 4xx are fatal typed errors carrying the request id", async () => {
    for (const [code, cls] of [
      [404, NotFoundError],
      [409, ConflictError],
      [422, UnprocessableEntityError],
    ] as const) {
      const h = harness([status(code)]);
      await assert.rejects(
        h.run(),
        (e: unknown) => e instanceof cls && e.status === code && e.requestId === "req-7",
      );
      assert.deepEqual(h.sleeps, []);
    }
  });

  it("connection errors and timeouts sleep min(2^c, 30) s; any answer but 429 resets c", async () => {
    const h = harness([
      new APIConnectionError("refused"),
      new APITimeoutError("45 s"),
      new APIConnectionError("reset"),
      status(503),
      new APIConnectionError("reset"),
      json(OK),
    ]);
    assert.deepEqual(await h.run(), OK);
    assert.deepEqual(h.sleeps, [1000, 2000, 4000, 0, 1000]);
    const capped = harness([...Array.from({ length: 7 }, () => new APIConnectionError("down")), json(OK)]);
    await capped.run();
    assert.deepEqual(capped.sleeps, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});

describe("pollFuture: stopping", () => {
  it("stops with the signal's reason, during a wait or before a poll", async () => {
    const controller = new AbortController();
    const reason = new ClientClosedError();
    const h = harness([new APIConnectionError("down"), json(OK)], {
      sleep: async (_ms, signal) => {
        controller.abort(reason);
        if (signal?.aborted) throw signal.reason;
      },
      signal: controller.signal,
    });
    await assert.rejects(h.run(), (e: unknown) => e === reason);
    assert.equal(h.calls.length, 1);
    const aborted = harness([json(OK)], { signal: AbortSignal.abort() });
    await assert.rejects(aborted.run(), APIUserAbortError);
    assert.equal(aborted.calls.length, 0);
  });

  it("a user abort from the transport is not retried", async () => {
    const h = harness([new APIUserAbortError(), json(OK)]);
    await assert.rejects(h.run(), APIUserAbortError);
    assert.equal(h.remaining(), 1);
  });
});
