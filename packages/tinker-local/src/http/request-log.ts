// An in-memory record of every request the server answered, for tests that need to prove what a
// client sent. It never holds headers that carry credentials.
import type { FastifyRequest } from "fastify";

/** One answered (or cut-off) request, as `LocalServer.requests()` lists it. No credentials. */
export interface RequestRecord {
  /** The HTTP method, upper case. */
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  /** The raw query string without `?`; "" when there is none. */
  query: string;
  /** Response status; 0 when no response reached the client (injected `hang`, `reset` or `answerLost`). */
  status: number;
  /**
   * With an injected `answerLost`: the status the route answered before the connection was dropped
   * (the work was done, the client never heard). Null otherwise.
   */
  lostStatus: number | null;
  /** Request headers that describe the body and the wanted answer; null when absent. */
  contentType: string | null;
  /** `Content-Encoding` (e.g. `zstd` on a compressed forward/backward body); null when absent. */
  contentEncoding: string | null;
  /** `Accept`, the answer format the client asked for; null when absent. */
  accept: string | null;
  /** `X-Idempotency-Key`, so tests can prove that the retries of one call carry the same key. */
  idempotencyKey: string | null;
  /**
   * The request headers named by the server's `recordHeaders` option that the request carried,
   * by lower-case name (`{}` when that option is unset). Credential headers are never recorded.
   */
  headers: Record<string, string>;
  /** Time from the request's arrival to its answer (or cut-off), ms. */
  durationMs: number;
  /** When the request finished (or was cut off), in milliseconds from the server clock. */
  time: number;
}

export function splitUrl(url: string): { path: string; query: string } {
  const mark = url.indexOf("?");
  return mark === -1 ? { path: url, query: "" } : { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Headers that carry credentials: `recordHeaders` may not name them. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  "x-api-key",
  "authorization",
  "cookie",
  "cf-access-client-secret",
];

/** Checks the `recordHeaders` option: lower-cased names, none of them a credential header. */
export function checkRecordHeaders(names: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const name of names ?? []) {
    if (typeof name !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new RangeError(`recordHeaders: ${JSON.stringify(name)} is not an HTTP header name`);
    }
    const lower = name.toLowerCase();
    if (CREDENTIAL_HEADERS.includes(lower)) {
      throw new RangeError(`recordHeaders: ${name} carries credentials and is never recorded`);
    }
    if (!out.includes(lower)) out.push(lower);
  }
  return out;
}

export function describeRequest(
  request: FastifyRequest,
  recordHeaders: readonly string[] = [],
): Pick<
  RequestRecord,
  "method" | "path" | "query" | "contentType" | "contentEncoding" | "accept" | "idempotencyKey" | "headers"
> {
  const headers: Record<string, string> = {};
  for (const name of recordHeaders) {
    const value = header(request, name);
    if (value !== null) Object.defineProperty(headers, name, { value, enumerable: true });
  }
  return {
    method: request.method,
    ...splitUrl(request.url),
    contentType: header(request, "content-type"),
    contentEncoding: header(request, "content-encoding"),
    accept: header(request, "accept"),
    idempotencyKey: header(request, "x-idempotency-key"),
    headers,
  };
}

/** A fixed-size ring: the oldest records are dropped once `capacity` is reached. */
export class RequestLog {
  private readonly ring: RequestRecord[] = [];
  private next = 0;

  constructor(
    private readonly capacity = 10_000,
    private readonly onRecord?: (record: RequestRecord) => void,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError("capacity must be a positive integer");
  }

  add(record: RequestRecord): void {
    if (this.ring.length < this.capacity) {
      this.ring.push(record);
    } else {
      this.ring[this.next] = record;
    }
    this.next = (this.next + 1) % this.capacity;
    this.onRecord?.(record);
  }

  /** Oldest first; a copy. */
  list(): RequestRecord[] {
    const copy = (r: RequestRecord): RequestRecord => ({ ...r, headers: { ...r.headers } });
    if (this.ring.length < this.capacity) return this.ring.map(copy);
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)].map(copy);
  }

  clear(): void {
    this.ring.length = 0;
    this.next = 0;
  }
}

/** The `--log-requests` line. */
export function formatRequestLine(record: RequestRecord): string {
  return `${record.method} ${record.path} ${record.status}`;
}
