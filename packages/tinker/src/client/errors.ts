// Every error the SDK throws is a TinkerError, so callers can catch one class. Below it the tree
// separates what went wrong where: the server answered with a status (APIError and its per-status
// subclasses, made by one factory), the request never got an answer (APIConnectionError and
// APITimeoutError), the caller gave bad input before anything was sent (ValidationError), or a
// submitted request failed on the server (RequestFailedError). Messages never carry credentials:
// everything that builds one passes it through `redact` first.

import { redact } from "./redact.js";

/**
 * The base of every error the SDK (and the cookbook) throws: `catch (e) { if (e instanceof
 * TinkerError) ... }` separates them from the caller's own errors. Its message has credentials
 * redacted.
 */
export class TinkerError extends Error {
  /**
   * The class's name (`"TinkerError"`, `"RateLimitError"`...), set by each subclass so logs and
   * `err.name` checks can tell them apart.
   */
  override name = "TinkerError";
  /**
   * `message` is redacted of anything that looks like a credential; `cause` is kept as the standard
   * `Error.cause`.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(message), options);
  }
}

/** Bad input caught on the client, before anything was sent. `field` names what to fix. */
export class ValidationError extends TinkerError {
  override name = "ValidationError";
  /**
   * The option or argument to fix, as the caller wrote it (e.g. `adamParams.learningRate`);
   * undefined when it is the whole input.
   */
  readonly field: string | undefined;
  /** `message` says what is wrong and what is allowed; `field` names the offending input. */
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/**
 * The server answered with a status the call could not accept. Each common status has its own
 * subclass; which statuses are retried before one is thrown is in the README's retry table.
 */
export class APIError extends TinkerError {
  override name = "APIError";
  /** The HTTP status of the response. */
  readonly status: number;
  /** Parsed JSON body when the response had one, else the raw text (possibly empty). */
  readonly body: unknown;
  /** The response headers (e.g. `retry-after` on a 429). */
  readonly headers: Headers;
  /** The server's request id for this response, when it sent one. */
  readonly requestId: string | undefined;
  /** The request's HTTP method, when known. */
  readonly method: string | undefined;
  /** The request's path (without host or query), when known. */
  readonly path: string | undefined;

  /**
   * Made by the SDK (through `makeAPIError`, which picks the subclass for the status); the message
   * defaults to `Error code: <status> (<method> <path>) - <detail>`.
   */
  constructor(
    status: number,
    body: unknown,
    headers: Headers,
    options: { method?: string; path?: string; message?: string } = {},
  ) {
    super(options.message ?? APIError.describe(status, body, options.method, options.path));
    this.status = status;
    this.body = body;
    this.headers = headers;
    this.requestId = headers.get("x-request-id") ?? undefined;
    this.method = options.method;
    this.path = options.path;
  }

  /** The `detail` of a `{"detail": ...}` body, or the body text, for messages. */
  static detailOf(body: unknown): string {
    if (body && typeof body === "object" && "detail" in body) {
      const detail = (body as { detail: unknown }).detail;
      return typeof detail === "string" ? detail : JSON.stringify(detail);
    }
    if (typeof body === "string") return body;
    if (body === undefined || body === null) return "";
    return JSON.stringify(body);
  }

  private static describe(status: number, body: unknown, method?: string, path?: string): string {
    const where = method && path ? ` (${method} ${path})` : "";
    const detail = APIError.detailOf(body);
    return `Error code: ${status}${where}${detail ? ` - ${detail}` : ""}`;
  }
}

/**
 * HTTP 400: the server refused the request's content; the message carries its `detail` (an
 * empty-bodied 400, as proxies send, is retried first).
 */
export class BadRequestError extends APIError {
  override name = "BadRequestError";
}
/** HTTP 401: the credential was missing, wrong or expired. */
export class AuthenticationError extends APIError {
  override name = "AuthenticationError";
}
/** HTTP 403: the credential is valid but may not do this (e.g. another user's checkpoint). */
export class PermissionDeniedError extends APIError {
  override name = "PermissionDeniedError";
}
/** HTTP 404: no such run, checkpoint, session or route. */
export class NotFoundError extends APIError {
  override name = "NotFoundError";
}
/** HTTP 409: the request conflicts with the server's state (e.g. a checkpoint name that is taken). */
export class ConflictError extends APIError {
  override name = "ConflictError";
}
/** HTTP 422: the request's body did not match the server's schema. */
export class UnprocessableEntityError extends APIError {
  override name = "UnprocessableEntityError";
}
/**
 * HTTP 429: too many requests. Retried with backoff (honouring `retry-after`); thrown when retries
 * run out.
 */
export class RateLimitError extends APIError {
  override name = "RateLimitError";
}
/**
 * HTTP 402: billing stops the account's work. While a future is polled, 402s pause it for a while
 * (server flag `billing_exception_max_pause_duration_sec`) before this is thrown.
 */
export class PaymentRequiredError extends APIError {
  override name = "PaymentRequiredError";
}
/** HTTP 5xx: the server failed. Retried with backoff; thrown when retries run out. */
export class InternalServerError extends APIError {
  override name = "InternalServerError";
}

const BY_STATUS: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: PaymentRequiredError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The one place a status becomes an error class. */
export function makeAPIError(
  status: number,
  body: unknown,
  headers: Headers,
  options: { method?: string; path?: string; message?: string } = {},
): APIError {
  const Cls = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIError);
  return new Cls(status, body, headers, options);
}

/** No response arrived: DNS, refused or reset connection, TLS, or a body cut short. */
export class APIConnectionError extends TinkerError {
  override name = "APIConnectionError";
}

/** The per-attempt deadline passed before a response arrived. */
export class APITimeoutError extends APIConnectionError {
  override name = "APITimeoutError";
}

/** The caller's AbortSignal fired. */
export class APIUserAbortError extends TinkerError {
  override name = "APIUserAbortError";
  /** `cause` is the signal's `reason`, when it had one. */
  constructor(message = "Request was aborted.", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A response arrived but did not have the shape the contract promises. */
export class ResponseValidationError extends TinkerError {
  override name = "ResponseValidationError";
}

/**
 * Whose fault a failed request was, as the server says: `user` (the input was wrong, fix it),
 * `server` (the service failed, trying again may work), `unknown` (the server did not say).
 */
export type FailureCategory = "unknown" | "server" | "user";

/** A submitted request (a future) failed on the server. Terminal: never retried. */
export class RequestFailedError extends TinkerError {
  override name = "RequestFailedError";
  /** The server's id of the failed request (quote it when reporting a problem). */
  readonly requestId: string;
  /** Whose fault it was; `user` means retrying the same input fails the same way. */
  readonly category: FailureCategory;
  /** `message` is the server's error text. */
  constructor(message: string, requestId: string, category: FailureCategory) {
    super(message);
    this.requestId = requestId;
    this.category = category;
  }
}

/** The server no longer knows a future (HTTP 410). Sampling resubmits; training reports it. */
export class FutureExpiredError extends TinkerError {
  override name = "FutureExpiredError";
  /** The id of the request the server forgot. */
  readonly requestId: string;
  /** `message` says which request expired and why it can no longer be fetched. */
  constructor(message: string, requestId: string) {
    super(message);
    this.requestId = requestId;
  }
}

/** `result({ timeout })` gave up waiting. The future is still valid and can be awaited again. */
export class FutureTimeoutError extends TinkerError {
  override name = "FutureTimeoutError";
  /** The id of the request still being waited for; `result()` can be called again. */
  readonly requestId: string;
  /** `message` says how long was waited. */
  constructor(message: string, requestId: string) {
    super(message);
    this.requestId = requestId;
  }
}

/**
 * A training or sampling call's own `timeout` (its `{ timeout }` call option, in ms from the call)
 * passed before it had a result. Not retried. When `submitted` is true the server had accepted the
 * request and may still run it (a training call keeps its place in the model's order); when false
 * nothing of it was applied, unless its submit was already on the wire (see docs/futures.md).
 */
export class CallTimeoutError extends TinkerError {
  override name = "CallTimeoutError";
  /** The call's timeout, ms. */
  readonly timeoutMs: number;
  /** The id of the last request the server acknowledged for this call; undefined if none was. */
  readonly requestId: string | undefined;
  /** Whether the server had acknowledged the call's request before the timeout. */
  readonly submitted: boolean;
  /** `message` names the call and says what the server may still do. */
  constructor(message: string, timeoutMs: number, requestId: string | undefined) {
    super(message);
    this.timeoutMs = timeoutMs;
    this.requestId = requestId;
    this.submitted = requestId !== undefined;
  }
}

/**
 * `future.cancel()` was called: the future stopped (no more polls) and rejects with this. Work the
 * server accepted is not undone; `submitted` says whether it had been accepted.
 */
export class FutureCancelledError extends TinkerError {
  override name = "FutureCancelledError";
  /** The id of the last request the server acknowledged for this future; undefined if none was. */
  readonly requestId: string | undefined;
  /** Whether the server had acknowledged the request before the cancel. */
  readonly submitted: boolean;
  /** `message` names the call and says what the server may still do. */
  constructor(message: string, requestId: string | undefined) {
    super(message);
    this.requestId = requestId;
    this.submitted = requestId !== undefined;
  }
}

/** The client was closed; create a new one to make more calls. */
export class ClientClosedError extends TinkerError {
  override name = "ClientClosedError";
  /** The default message says to create a new ServiceClient. */
  constructor(message = "This ServiceClient is closed; create a new ServiceClient to make more calls.") {
    super(message);
  }
}

/**
 * A model creation (`createLoraTrainingClient`, `createTrainingClientFromState`) passed its own
 * `timeout` before the TrainingClient was ready. When `requestId` is set the server had accepted
 * the creation and may still finish it: the model then exists in the session (it shows in
 * `tinker run list`) but no client of this process drives it.
 */
export class ModelCreationTimeoutError extends TinkerError {
  override name = "ModelCreationTimeoutError";
  /** The creation's timeout, ms. */
  readonly timeoutMs: number;
  /** The last creation request the server acknowledged; undefined if none was sent or answered. */
  readonly requestId: string | undefined;
  /** `message` names the call and what the server may still do. */
  constructor(message: string, timeoutMs: number, requestId: string | undefined) {
    super(message);
    this.timeoutMs = timeoutMs;
    this.requestId = requestId;
  }
}
