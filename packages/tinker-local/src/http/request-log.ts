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

export function describeRequest(
  request: FastifyRequest,
): Pick<
  RequestRecord,
  "method" | "path" | "query" | "contentType" | "contentEncoding" | "accept" | "idempotencyKey"
> {
  return {
    method: request.method,
    ...splitUrl(request.url),
    contentType: header(request, "content-type"),
    contentEncoding: header(request, "content-encoding"),
    accept: header(request, "accept"),
    idempotencyKey: header(request, "x-idempotency-key"),
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
    if (this.ring.length < this.capacity) return this.ring.map((r) => ({ ...r }));
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)].map((r) => ({ ...r }));
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
