// The retrieve_future loop (contract 5.2), one function with every outcome of the table. Inputs are
// explicit (transport, sleep, clock) so each row can be tested with a fake transport and the chosen
// waits asserted. Differences from the official client, on purpose:
// - repeated 5xx back off (0, 0.25, 0.5, 1, 2, 4, 5 s, reset by any other answer; decision 4)
//   instead of re-polling at once;
// - bare 400s share a budget of 16, refilled by one per other answer, after which they are fatal.
// Errors keep the future's request id (and, for RequestFailedError, its category).

import { type FutureRequestType, PROTOBUF_CONTENT_TYPE, type RetrieveFutureParams } from "../api/futures.js";
import {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  type FailureCategory,
  FutureExpiredError,
  makeAPIError,
  RequestFailedError,
  ResponseValidationError,
} from "../client/errors.js";
import type { Logger } from "../client/logger.js";
import { isBare400 } from "../client/retry.js";
import { abortableSleep, abortError, backoffMs, type SleepFn } from "../client/wait.js";
import { BILLING_PAUSE, BillingPause } from "./billing-pause.js";
import { SECONDS_BACKOFF } from "./submit.js";

/**
 * Where a waiting request stands: `active` (running or about to), `paused_rate_limit` /
 * `paused_capacity` (held back by the server), `unknown` (a state this SDK does not know).
 */
export type QueueStateName = "active" | "paused_rate_limit" | "paused_capacity" | "unknown";

/** A change of a waiting request's queue state, as a future's `queueState` event. */
export interface QueueStateEvent {
  /** The new state. */
  state: QueueStateName;
  /** The server's reason, or a fallback text for the paused states; undefined for active/unknown. */
  reason: string | undefined;
  /** The request it is about. */
  requestId: string;
}

/** A 2xx answer to one poll. Non-2xx answers are thrown as APIErrors by the transport. */
export interface PollReply {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** Sends one retrieve_future. Must reject with the HTTP core's errors (APIError, APIConnectionError…). */
export type PollTransport = (
  params: RetrieveFutureParams,
  signal: AbortSignal | undefined,
  /** A call's own extra headers (FutureCallOptions.headers), already checked. */
  headers?: Record<string, string>,
) => Promise<PollReply>;

/** How to read the result of one kind of future. */
export interface ResultDecoder<T> {
  /** For messages, e.g. "ForwardBackwardOutput". */
  name: string;
  /** Present for the types the server sends as protobuf (ForwardBackwardOutput, SampleResponse). */
  proto?: (bytes: Uint8Array) => T;
  json: (value: unknown) => T;
}

/**
 * How request and result bodies travel: `proto` (protobuf, the default for the types that have a
 * protobuf form) or `json` (what servers before 0.25 speak).
 */
export type WireFormat = "proto" | "json";

export interface PollOptions<T> {
  requestId: string;
  requestType: FutureRequestType;
  decoder: ResultDecoder<T>;
  /** proto (default): ask protobuf for protobuf-capable types and refuse a JSON result for them. */
  wireFormat?: WireFormat;
  transport: PollTransport;
  /** Must reject when `signal` aborts. */
  sleep: SleepFn;
  now: () => number;
  logger: Logger;
  onQueueState?: (event: QueueStateEvent) => void;
  /** How long 402s pause the loop before they are fatal (client config, default 3600 s). */
  billingMaxPauseMs?: number;
  /** Sent as X-Tinker-Create-Promise-Roundtrip-Time on the first poll. */
  createPromiseRoundtripSec?: number;
  /** Stops the loop (client closed, future cancelled). */
  signal?: AbortSignal;
  /** Extra headers of the call, sent on every poll. */
  headers?: Record<string, string>;
  /**
   * The session's in-flight response budget (`inflight_response_bytes_semaphore_size`, contract
   * 1.7): a `complete_metadata` answer reserves its `response_payload_size` here before the
   * payload is fetched, and keeps it until this loop ends. Absent: nothing is reserved.
   */
  responseBudget?: ResponseBudget;
}

/** A byte budget (clients/byte-budget.ts): admits while the balance is >= 0, in arrival order. */
export interface ResponseBudget {
  /** Waits for room, takes `bytes`, and returns the release; rejects when `signal` aborts. */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void>;
}

/** Waits of the loop, exported so tests and docs name the same numbers. */
export const POLL_TIMINGS = {
  /** Connection errors, timeouts, 429 and bare 400: min(2^c, 30) s. */
  connectionBackoffMs: (c: number) => backoffMs(SECONDS_BACKOFF, c),
  /** The n-th 5xx in a row (n >= 1): 0, 250, 500, 1000 … ms, capped at 5 s. */
  serverErrorBackoffMs: (n: number) => (n <= 1 ? 0 : backoffMs({ baseMs: 250, maxMs: 5000 }, n - 2)),
  billingSleepMs: BILLING_PAUSE.sleepMs,
  /** A 402 seen more than this after the previous one starts a new pause window. */
  billingWindowResetMs: BILLING_PAUSE.windowResetMs,
  maxBodied400Retries: 3,
  bare400Budget: 16,
} as const;

/** Contract 4.14's fallback texts when the server gives no reason. */
function fallbackReason(state: QueueStateName, requestType: FutureRequestType): string | undefined {
  if (state === "paused_capacity") return "the backend is short on capacity";
  if (state !== "paused_rate_limit") return undefined;
  return requestType === "Sample"
    ? "concurrent sampler weights limit hit"
    : "concurrent training clients rate limit hit";
}

const QUEUE_STATES: readonly string[] = ["active", "paused_rate_limit", "paused_capacity"];

function queueStateOf(
  body: Record<string, unknown>,
  requestId: string,
  requestType: FutureRequestType,
): QueueStateEvent | undefined {
  const raw = body.queue_state;
  const state: QueueStateName =
    typeof raw === "string" && QUEUE_STATES.includes(raw) ? (raw as QueueStateName) : "unknown";
  const given = typeof body.queue_state_reason === "string" ? body.queue_state_reason : undefined;
  if (state === "unknown" && !given) return undefined;
  return { state, reason: given ?? fallbackReason(state, requestType), requestId };
}

function categoryOf(raw: unknown): FailureCategory {
  return raw === "server" || raw === "user" ? raw : "unknown";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const utf8 = new TextDecoder();

function parseJson(bytes: Uint8Array, requestId: string): unknown {
  const text = utf8.decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new ResponseValidationError(
      `retrieve_future for request ${requestId} answered with a body that is neither protobuf nor JSON: ${text.slice(0, 200)}`,
    );
  }
}

/** The same error class and body, with the future's request id when the server gave none. */
function withRequestId(error: APIError, requestId: string, message: string): APIError {
  const headers = new Headers(error.headers);
  if (!headers.has("x-request-id")) headers.set("x-request-id", requestId);
  return makeAPIError(error.status, error.body, headers, {
    method: error.method,
    path: error.path,
    message: `${message}: ${error.message}`,
  });
}

const STOPPED = "Polling was stopped.";

/**
 * Polls `retrieve_future` until the request has a result, and returns it decoded. Throws
 * RequestFailedError, FutureExpiredError, a typed APIError, ResponseValidationError, or the abort
 * reason of `signal`.
 */
export async function pollFuture<T>(options: PollOptions<T>): Promise<T> {
  const { requestId, decoder, transport, sleep, now, logger, signal } = options;
  const wireFormat = options.wireFormat ?? "proto";
  const wantProto = wireFormat === "proto" && decoder.proto !== undefined;
  const accept = wantProto ? PROTOBUF_CONTENT_TYPE : "application/json";
  const billing = new BillingPause(options.billingMaxPauseMs);
  const T = POLL_TIMINGS;

  let allowMetadataOnly = true;
  let releaseResponseBytes: (() => void) | undefined;
  try {
    return await pollLoop();
  } finally {
    releaseResponseBytes?.();
  }

  async function pollLoop(): Promise<T> {
    let connectionBackoffs = 0; // c
    let bodied400s = 0; // b
    let serverErrorsInRow = 0;
    let bare400Budget: number = T.bare400Budget;

    const wait = async (ms: number, why: string): Promise<void> => {
      logger.debug(`Request ${requestId}: ${why}; polling again in ${(ms / 1000).toFixed(2)} s`);
      await abortableSleep(sleep, ms, signal, STOPPED);
    };
    const observe = (event: QueueStateEvent | undefined): void => {
      if (!event || !options.onQueueState) return;
      try {
        options.onQueueState(event);
      } catch (error) {
        logger.error("A queueState listener threw", { error });
      }
    };

    for (let iteration = 0; ; iteration++) {
      if (signal?.aborted) throw abortError(signal, { message: STOPPED });
      let reply: PollReply;
      try {
        reply = await transport(
          {
            requestId,
            allowMetadataOnly,
            iteration,
            requestType: options.requestType,
            accept,
            ...(options.createPromiseRoundtripSec !== undefined
              ? { createPromiseRoundtripSec: options.createPromiseRoundtripSec }
              : {}),
          },
          signal,
          options.headers,
        );
      } catch (error) {
        if (signal?.aborted || error instanceof APIUserAbortError) {
          throw abortError(signal, { message: STOPPED, cause: error });
        }
        if (error instanceof APIConnectionError) {
          // Also APITimeoutError: the 45 s per-poll deadline passed without an answer.
          serverErrorsInRow = 0;
          await wait(T.connectionBackoffMs(connectionBackoffs), `no answer (${error.message})`);
          connectionBackoffs++;
          continue;
        }
        if (!(error instanceof APIError)) throw error;
        const { status } = error;
        const bare = isBare400(status, error.headers);
        // A bare 400 counts as a connection error, so it does not reset the connection backoff.
        if (status !== 429 && !bare) connectionBackoffs = 0;
        if (status < 500) serverErrorsInRow = 0;
        if (!bare) bare400Budget = Math.min(T.bare400Budget, bare400Budget + 1);

        if (status >= 500) {
          serverErrorsInRow++;
          await wait(T.serverErrorBackoffMs(serverErrorsInRow), `server error ${status}`);
          continue;
        }
        if (status === 408) {
          if (isObject(error.body)) {
            observe(queueStateOf(error.body, requestId, options.requestType));
            bodied400s = 0;
          }
          continue;
        }
        if (status === 429) {
          await wait(T.connectionBackoffMs(connectionBackoffs), "rate limited (429)");
          connectionBackoffs++;
          continue;
        }
        if (status === 410) {
          throw new FutureExpiredError(
            `Request ${requestId} expired or broke on the server (HTTP 410); its result cannot be fetched. ` +
              "Submit the call again (sampling does this by itself).",
            requestId,
          );
        }
        if (bare) {
          if (bare400Budget <= 0) {
            throw withRequestId(
              error,
              requestId,
              `retrieve_future for request ${requestId} kept getting empty 400s`,
            );
          }
          bare400Budget--;
          await wait(T.connectionBackoffMs(connectionBackoffs), "empty 400 (dropped by a proxy)");
          connectionBackoffs++;
          continue;
        }
        if (status === 400) {
          if (bodied400s < T.maxBodied400Retries) {
            bodied400s++;
            continue;
          }
          throw withRequestId(error, requestId, `retrieve_future for request ${requestId} failed`);
        }
        if (status === 402) {
          if (!billing.allows(now())) {
            throw withRequestId(error, requestId, `Request ${requestId} stayed paused for billing too long`);
          }
          logger.warn(`Request ${requestId} is paused for billing: ${APIError.detailOf(error.body)}`);
          await wait(T.billingSleepMs, "paused for billing (402)");
          continue;
        }
        throw withRequestId(error, requestId, `retrieve_future for request ${requestId} failed`);
      }

      // A 2xx answer.
      connectionBackoffs = 0;
      serverErrorsInRow = 0;
      bare400Budget = Math.min(T.bare400Budget, bare400Budget + 1);
      const contentType = reply.headers.get("content-type") ?? "";
      if (contentType.toLowerCase().includes(PROTOBUF_CONTENT_TYPE)) {
        if (!decoder.proto) {
          throw new ResponseValidationError(
            `retrieve_future for request ${requestId} answered in protobuf, but a ${decoder.name} is only sent as JSON`,
          );
        }
        return decoder.proto(reply.body);
      }
      const value = parseJson(reply.body, requestId);
      if (isObject(value) && value.type === "try_again") {
        observe(queueStateOf(value, requestId, options.requestType));
        continue;
      }
      if (isObject(value) && value.status === "complete_metadata") {
        if (!allowMetadataOnly) {
          throw new ResponseValidationError(
            `retrieve_future for request ${requestId} answered complete_metadata twice; the server must send the payload the second time`,
          );
        }
        allowMetadataOnly = false;
        const size = value.response_payload_size;
        const bytes = typeof size === "number" && Number.isFinite(size) && size > 0 ? size : 0;
        if (options.responseBudget && bytes > 0) {
          // Held until the result is decoded (or the loop fails): large payloads download a few at once.
          releaseResponseBytes = await options.responseBudget.acquire(bytes, signal);
        }
        continue;
      }
      if (isObject(value) && Object.hasOwn(value, "error")) {
        const category = categoryOf(value.category);
        const message = typeof value.error === "string" ? value.error : JSON.stringify(value.error);
        throw new RequestFailedError(
          `Request ${requestId} failed (${category} error): ${message}`,
          requestId,
          category,
        );
      }
      if (wantProto) {
        throw new ResponseValidationError(
          `retrieve_future for request ${requestId} answered a ${decoder.name} in JSON although protobuf was asked for; ` +
            'the server predates protobuf results: use { wireFormat: "json" }',
        );
      }
      return decoder.json(value);
    }
  }
}
