// Every error the SDK throws is a TinkerError, so callers can catch one class. Below it the tree
// separates what went wrong where: the server answered with a status (APIError and its per-status
// subclasses, made by one factory), the request never got an answer (APIConnectionError and
// APITimeoutError), the caller gave bad input before anything was sent (ValidationError), or a
// submitted request failed on the server (RequestFailedError). Messages never carry credentials:
// everything that builds one passes it through `redact` first.

import { redact } from "./redact.js";

export class TinkerError extends Error {
  override name = "TinkerError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(message), options);
  }
}

/** Bad input caught on the client, before anything was sent. `field` names what to fix. */
export class ValidationError extends TinkerError {
  override name = "ValidationError";
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** The server answered with a status the call could not accept. */
export class APIError extends TinkerError {
  override name = "APIError";
  readonly status: number;
  /** Parsed JSON body when the response had one, else the raw text (possibly empty). */
  readonly body: unknown;
  readonly headers: Headers;
  /** The server's request id for this response, when it sent one. */
  readonly requestId: string | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;

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

export class BadRequestError extends APIError {
  override name = "BadRequestError";
}
export class AuthenticationError extends APIError {
  override name = "AuthenticationError";
}
export class PermissionDeniedError extends APIError {
  override name = "PermissionDeniedError";
}
export class NotFoundError extends APIError {
  override name = "NotFoundError";
}
export class ConflictError extends APIError {
  override name = "ConflictError";
}
export class UnprocessableEntityError extends APIError {
  override name = "UnprocessableEntityError";
}
export class RateLimitError extends APIError {
  override name = "RateLimitError";
}
export class PaymentRequiredError extends APIError {
  override name = "PaymentRequiredError";
}
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
  constructor(message = "Request was aborted.", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A response arrived but did not have the shape the contract promises. */
export class ResponseValidationError extends TinkerError {
  override name = "ResponseValidationError";
}

export type FailureCategory = "unknown" | "server" | "user";

/** A submitted request (a future) failed on the server. Terminal: never retried. */
export class RequestFailedError extends TinkerError {
  override name = "RequestFailedError";
  readonly requestId: string;
  readonly category: FailureCategory;
  constructor(message: string, requestId: string, category: FailureCategory) {
    super(message);
    this.requestId = requestId;
    this.category = category;
  }
}

/** The server no longer knows a future (HTTP 410). Sampling resubmits; training reports it. */
export class FutureExpiredError extends TinkerError {
  override name = "FutureExpiredError";
  readonly requestId: string;
  constructor(message: string, requestId: string) {
    super(message);
    this.requestId = requestId;
  }
}

/** `result({ timeout })` gave up waiting. The future is still valid and can be awaited again. */
export class FutureTimeoutError extends TinkerError {
  override name = "FutureTimeoutError";
  readonly requestId: string;
  constructor(message: string, requestId: string) {
    super(message);
    this.requestId = requestId;
  }
}

/** The client was closed; create a new one to make more calls. */
export class ClientClosedError extends TinkerError {
  override name = "ClientClosedError";
  constructor(message = "This ServiceClient is closed; create a new ServiceClient to make more calls.") {
    super(message);
  }
}
