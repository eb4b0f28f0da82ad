// The one HTTP core. Every request of the SDK goes through `HttpClient.request`: it builds the URL
// and headers (contract 1.3), asks the auth provider for X-API-Key on every attempt, applies a
// per-attempt timeout, retries as the RetryPolicy decides (one idempotency key for all attempts of a
// call), and turns what comes back into data or into one typed error. The bytes move through a
// Transport (transport.ts): node:http pools on Node, fetch elsewhere or when the user passes one.

import { watchAbort } from "./abort-watch.js";
import { AttemptAbort } from "./attempt-abort.js";
import type { AuthProvider } from "./auth.js";
import { type Clock, systemClock } from "./clock.js";
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  makeAPIError,
  ResponseValidationError,
  ValidationError,
} from "./errors.js";
import { type Logger, silentLogger } from "./logger.js";
import { redact } from "./redact.js";
import { parseResponse, type ResponseSchema } from "./response-schema.js";
import { type AttemptOutcome, defaultRetryPolicy, type RetryEvent, type RetryPolicy } from "./retry.js";
import { isNodeRuntime, type Transport, type TransportResponse } from "./transport.js";
import { fetchTransport } from "./transport-fetch.js";
import { USER_AGENT } from "./version.js";
import { abortableSleep, sleep as clockSleep } from "./wait.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];
export type ResponseType = "json" | "bytes" | "raw";

/** Header naming how many HTTP-layer retries this call has made before this attempt (0 first). */
export const RETRY_COUNT_HEADER = "x-tinker-retry-count";
export const IDEMPOTENCY_HEADER = "X-Idempotency-Key";

export interface RequestOptions<T = unknown> {
  method: HttpMethod;
  /** Path below the base URL, e.g. "/api/v1/create_session". Put in as is (contract 1.4). */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with `contentType` (e.g. a protobuf message). Wins over `body`. */
  rawBody?: Uint8Array;
  contentType?: string;
  /** Default application/json. */
  accept?: string;
  headers?: Record<string, string>;
  /** Per-attempt timeout in ms. */
  timeout?: number;
  maxRetries?: number;
  signal?: AbortSignal;
  /** Reused on every retry of this call; a fresh one is made when absent (non-GET only). */
  idempotencyKey?: string;
  /** json (default): parsed body; bytes: Uint8Array; raw: the unread Response (2xx and 3xx only). */
  responseType?: ResponseType;
  /** `manual` returns 3xx responses instead of following them (with responseType raw). */
  redirect?: "follow" | "manual";
  /** Validates a JSON body; a mismatch is a ResponseValidationError. */
  schema?: ResponseSchema<T>;
}

export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

export interface HttpClientConfig {
  /** Without a trailing slash. */
  baseUrl: string;
  auth: AuthProvider;
  /** Send through this fetch (Bun, Deno, browsers, or a user's own). Wins over the default transport. */
  fetch?: typeof fetch;
  /** Send through this transport. Wins over `fetch`. Default: node:http pools on Node, else fetch. */
  transport?: Transport;
  timeoutMs?: number;
  maxRetries?: number;
  defaultHeaders?: Record<string, string>;
  logger?: Logger;
  clock?: Clock;
  retryPolicy?: RetryPolicy;
  /** Draw for the backoff jitter; for tests. */
  random?: () => number;
  /** Sleep between retries; for tests. Must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told about every retry before its backoff sleep starts (see ClientOptions.onRetry). */
  onRetry?: (event: RetryEvent) => void;
}

/** Why the attempt's signal fired: the caller gave up, or the per-attempt deadline passed. */
type AbortCause = "user" | "timeout";

export function newIdempotencyKey(): string {
  return `tinker-ts-retry-${globalThis.crypto.randomUUID()}`;
}

function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    params.append(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const inner = cause instanceof Error ? cause.message : undefined;
  const outer = error instanceof Error ? error.message : String(error);
  return inner && inner !== outer ? `${outer} (${inner})` : outer;
}

function isJsonContentType(contentType: string | null): boolean {
  return contentType !== null && /json/i.test(contentType);
}

export class HttpClient {
  readonly baseUrl: string;
  readonly auth: AuthProvider;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  /** Private (#) because it holds default headers that may carry secrets (CF-Access-Client-Secret). */
  readonly #config: HttpClientConfig;
  /** Undefined until the first request on Node without `fetch`: the shared Node transport. */
  #transport: Transport | undefined;
  private readonly policy: RetryPolicy;

  constructor(config: HttpClientConfig) {
    this.#config = config;
    this.baseUrl = config.baseUrl.replace(/\/+$/, "");
    this.auth = config.auth;
    this.logger = config.logger ?? silentLogger;
    this.clock = config.clock ?? systemClock;
    this.timeoutMs = config.timeoutMs ?? 60_000;
    this.maxRetries = config.maxRetries ?? 10;
    this.#transport = config.transport ?? (config.fetch ? fetchTransport(config.fetch) : undefined);
    this.policy = config.retryPolicy ?? defaultRetryPolicy;
  }

  /** The same client with another source of X-API-Key (e.g. the raw credential for auth/token). */
  withAuth(auth: AuthProvider): HttpClient {
    return new HttpClient({ ...this.#config, auth });
  }

  /** The transport requests go through (loaded on first use on Node). */
  async transport(): Promise<Transport> {
    this.#transport ??= await defaultTransport();
    return this.#transport;
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    return `${this.baseUrl}/${path.replace(/^\/+/, "")}${buildQuery(query)}`;
  }

  request(options: RequestOptions & { responseType: "raw" }): Promise<HttpResponse<Response>>;
  request(options: RequestOptions & { responseType: "bytes" }): Promise<HttpResponse<Uint8Array>>;
  request<T>(options: RequestOptions<T> & { schema: ResponseSchema<T> }): Promise<HttpResponse<T>>;
  request(options: RequestOptions): Promise<HttpResponse<unknown>>;
  async request(options: RequestOptions): Promise<HttpResponse<unknown>> {
    const method = options.method;
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const idempotencyKey = method === "GET" ? undefined : (options.idempotencyKey ?? newIdempotencyKey());
    const url = this.url(options.path, options.query);
    const random = this.#config.random ?? Math.random;
    const sleep =
      this.#config.sleep ?? ((ms: number, signal?: AbortSignal) => clockSleep(this.clock, ms, signal));

    for (let retries = 0; ; retries++) {
      const result = await this.attempt(options, url, retries, idempotencyKey);
      if (result.ok) return result.response;

      const decision = this.policy.decide(result.outcome, retries, maxRetries, random(), this.clock.now());
      if (!decision.retry) throw result.error;
      this.logger.info(
        `Retrying ${method} ${options.path} in ${(decision.delayMs / 1000).toFixed(2)} s ` +
          `(retry ${retries + 1} of ${maxRetries}): ${decision.reason}`,
      );
      try {
        this.#config.onRetry?.({
          method,
          url,
          retry: retries + 1,
          attemptsLeft: maxRetries - retries,
          delayMs: decision.delayMs,
          reason: decision.reason,
          error: result.error,
        });
      } catch {
        // An observer's failure must not change the call's outcome.
      }
      await abortableSleep(sleep, decision.delayMs, options.signal);
    }
  }

  private async attempt(
    options: RequestOptions,
    url: string,
    retries: number,
    idempotencyKey: string | undefined,
  ): Promise<
    { ok: true; response: HttpResponse<unknown> } | { ok: false; outcome: AttemptOutcome; error: Error }
  > {
    const { method, path } = options;
    const responseType = options.responseType ?? "json";
    const userSignal = options.signal;
    if (userSignal?.aborted) {
      return { ok: false, outcome: { kind: "aborted" }, error: new APIUserAbortError() };
    }

    // One abort per attempt: fired by the caller's signal or by the deadline, whichever first;
    // `cause` remembers which, because the two are handled differently (timeouts are retried).
    const abort = new AttemptAbort();
    let cause: AbortCause | undefined;
    const onUserAbort = () => {
      cause ??= "user";
      abort.abort(userSignal?.reason);
    };
    const unwatchUser = watchAbort(userSignal, onUserAbort);
    const timeoutMs = options.timeout ?? this.timeoutMs;
    let timer = this.clock.setTimeout(() => {
      cause ??= "timeout";
      abort.abort(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    let handedOver = false;
    const cleanup = () => {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      timer = undefined;
      // A raw response's body is still streaming: the caller's signal must keep reaching it.
      if (!handedOver) unwatchUser();
    };

    const failed = (error: unknown) => {
      if (cause === "user") {
        return {
          ok: false as const,
          outcome: { kind: "aborted" as const },
          error: new APIUserAbortError(undefined, { cause: error }),
        };
      }
      if (cause === "timeout") {
        return {
          ok: false as const,
          outcome: { kind: "timeout" as const },
          error: new APITimeoutError(`Request timed out after ${timeoutMs} ms (${method} ${path})`, {
            cause: error,
          }),
        };
      }
      return {
        ok: false as const,
        outcome: { kind: "connection" as const },
        error: new APIConnectionError(`Connection error (${method} ${path}): ${describeCause(error)}`, {
          cause: error,
        }),
      };
    };

    try {
      const headers = await this.buildHeaders(options, retries, idempotencyKey);
      let body: Uint8Array | string | undefined;
      if (options.rawBody !== undefined) body = options.rawBody;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      const transport = this.#transport ?? (await this.transport());
      this.logger.debug(`${method} ${path}`, { retry: retries });

      let res: TransportResponse;
      try {
        res = await transport.request(
          abort.request({ url, method, headers, body, redirect: options.redirect ?? "follow" }),
        );
      } catch (error) {
        return failed(error);
      }

      const isSuccess = res.status >= 200 && res.status < 300;
      const isRedirect = res.status >= 300 && res.status < 400;
      if (responseType === "raw" && (isSuccess || isRedirect)) {
        // The caller reads (or streams) the body; only its own signal applies from here on.
        handedOver = true;
        return { ok: true, response: { status: res.status, headers: res.headers, data: res.toResponse() } };
      }

      let payload: Uint8Array | string;
      try {
        payload = isSuccess && responseType === "bytes" ? await res.bytes() : await res.text();
      } catch (error) {
        return failed(error);
      }

      if (!isSuccess) {
        // A server echoing the credential back must not put it into the error's body either.
        const errorBody = parseErrorBody(redact(payload as string));
        const error = makeAPIError(res.status, errorBody, res.headers, { method, path });
        this.logger.debug(`${method} ${path} -> ${res.status}`);
        return { ok: false, outcome: { kind: "response", status: res.status, headers: res.headers }, error };
      }
      this.logger.debug(`${method} ${path} -> ${res.status}`);
      if (responseType === "bytes")
        return { ok: true, response: { status: res.status, headers: res.headers, data: payload } };
      const data = parseJsonBody(payload as string, res.headers.get("content-type"), method, path);
      return {
        ok: true,
        response: {
          status: res.status,
          headers: res.headers,
          data: validate(data, options.schema, method, path),
        },
      };
    } finally {
      // Errors thrown above (from the auth provider, or a response of the wrong shape) are final.
      cleanup();
    }
  }

  /** The attempt's headers, names in lower case (what HTTP/1.1 and HTTP/2 both treat alike). */
  private async buildHeaders(
    options: RequestOptions,
    retries: number,
    idempotencyKey: string | undefined,
  ): Promise<Record<string, string>> {
    // A plain object, built without `delete` and without a null prototype: both would put it in
    // V8's dictionary mode, several times larger, on every attempt. `__proto__` is the one name an
    // assignment would not store as an entry, so it is defined instead.
    const headers: Record<string, string> = {};
    const store = (key: string, value: string) => {
      if (key === "__proto__")
        Object.defineProperty(headers, key, { value, enumerable: true, writable: true });
      else headers[key] = value;
    };
    // A Content-Type among the caller's headers never survives (the SDK sets its own or none), so
    // it is not copied.
    const copy = (from: Record<string, string> | undefined) => {
      for (const name in from) {
        const value = from[name] as string;
        const key = checkedHeader(name, value);
        if (key !== "content-type") store(key, value);
      }
    };
    copy(this.#config.defaultHeaders);
    copy(options.headers);
    headers.accept = options.accept ?? headers.accept ?? "application/json";
    headers["user-agent"] = USER_AGENT;
    headers[RETRY_COUNT_HEADER] = String(retries);
    if (idempotencyKey !== undefined) headers[IDEMPOTENCY_HEADER_LC] = idempotencyKey;
    if (options.rawBody !== undefined) {
      headers["content-type"] = options.contentType ?? "application/octet-stream";
    } else if (options.body !== undefined && options.method !== "GET") {
      headers["content-type"] = options.contentType ?? "application/json";
    }
    // Set last and per attempt: a JWT refreshed between retries is used, and no default header can
    // replace the credential.
    const apiKey = await this.auth.apiKey();
    store(checkedHeader("x-api-key", apiKey), apiKey);
    return headers;
  }
}

const IDEMPOTENCY_HEADER_LC = IDEMPOTENCY_HEADER.toLowerCase();

// RFC 9110 token characters for names; values without CR, LF or NUL (a header cannot be split).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;

/**
 * The header's name in lower case, or a ValidationError before anything is sent. The message names
 * the header only: its value may be a credential.
 */
function checkedHeader(name: string, value: string): string {
  if (!HEADER_NAME.test(name)) {
    throw new ValidationError(`Invalid HTTP header name ${JSON.stringify(name)}`, "headers");
  }
  if (typeof value !== "string" || BAD_HEADER_VALUE.test(value)) {
    throw new ValidationError(
      `The value of the HTTP header ${name} is not valid (it must be a string without line breaks)`,
      "headers",
    );
  }
  return name.toLowerCase();
}

/**
 * Headers the SDK sets itself on every request (credential, idempotency, retry count, body and
 * answer formats, the poll protocol's headers). A caller's per-call headers may not name them: a
 * silent replacement could send a request under another key, or make two calls share one
 * idempotency key (so the server would drop the second). Lower case.
 */
export const RESERVED_CALL_HEADERS: readonly string[] = Object.freeze([
  "x-api-key",
  "authorization",
  IDEMPOTENCY_HEADER.toLowerCase(),
  RETRY_COUNT_HEADER,
  "content-type",
  "content-encoding",
  "content-length",
  "transfer-encoding",
  "accept",
  "user-agent",
  "host",
  "x-tinker-request-iteration",
  "x-tinker-request-type",
  "x-tinker-create-promise-roundtrip-time",
  "x-tinker-sampling-backpressure",
]);

/**
 * A caller's per-call headers, checked before anything is sent: valid names and values, and none
 * of {@link RESERVED_CALL_HEADERS} (a ValidationError naming the header, never its value).
 * Returns a copy, or undefined when there are none.
 */
export function checkCallHeaders(
  headers: Record<string, string> | undefined,
  field = "headers",
): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
    throw new ValidationError(`${field} must be an object of header names to string values`, field);
  }
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(headers)) {
    const value = headers[name] as string;
    const lower = checkedHeader(name, value);
    if (RESERVED_CALL_HEADERS.includes(lower)) {
      throw new ValidationError(
        `${field}: ${name} is set by the SDK on every request and cannot be given per call ` +
          "(credentials go in ServiceClient's apiKey; each call has its own idempotency key)",
        `${field}.${name}`,
      );
    }
    out[name] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

let nodeTransport: Promise<Transport> | undefined;

/**
 * node:http pools on Node (imported on first use, so nothing Node-only loads elsewhere); the global
 * fetch on every other runtime.
 */
function defaultTransport(): Promise<Transport> {
  if (!isNodeRuntime()) {
    if (typeof globalThis.fetch !== "function") {
      return Promise.reject(
        new ValidationError("No fetch implementation: pass { fetch } to ServiceClient", "fetch"),
      );
    }
    return Promise.resolve(fetchTransport(globalThis.fetch));
  }
  nodeTransport ??= import("./transport-node.js").then((m) => m.sharedNodeTransport());
  return nodeTransport;
}

function parseErrorBody(text: string): unknown {
  if (text === "") return "";
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseJsonBody(text: string, contentType: string | null, method: string, path: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    const what = isJsonContentType(contentType)
      ? "invalid JSON"
      : `a non-JSON body (content-type ${contentType ?? "none"})`;
    throw new ResponseValidationError(
      `Expected JSON from ${method} ${path}, got ${what}: ${text.slice(0, 200)}`,
    );
  }
}

function validate(data: unknown, schema: ResponseSchema | undefined, method: string, path: string): unknown {
  if (!schema) return data;
  return parseResponse(schema, data, `Unexpected response from ${method} ${path}`);
}
