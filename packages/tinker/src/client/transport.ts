// What the HTTP core needs from the layer that moves bytes: send one request, get a status, headers
// and a body to read once. Two implementations: `transport-fetch.ts` (any runtime's fetch: Bun,
// Deno, browsers, or a fetch the user passed) and `transport-node.ts` (node:http keep-alive pools,
// Node only, loaded lazily so nothing Node-specific is imported where it cannot run). Retries,
// timeouts, headers, redaction and error mapping stay in `http.ts`, above either one.

/** One HTTP request, fully built: the transport adds nothing but framing. */
export interface TransportRequest {
  /** Absolute URL. */
  url: string;
  /** Upper-case HTTP method. */
  method: string;
  /** Header names in lower case, each once. */
  headers: Record<string, string>;
  /** Sent as is: JSON text, or the raw bytes of e.g. a protobuf message. */
  body: Uint8Array | string | undefined;
  /** Aborts the request and any body read still running. Fired for timeouts and by the caller. */
  signal: AbortSignal;
  /** `manual` hands 3xx responses back instead of following them. */
  redirect: "follow" | "manual";
}

/** A response whose body has not been read yet; read it once, by one of the three methods. */
export interface TransportResponse {
  /** HTTP status code. */
  readonly status: number;
  /** Response headers. */
  readonly headers: Headers;
  /** The whole body, decompressed (gzip/deflate/br) as fetch would. */
  bytes(): Promise<Uint8Array>;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** The unread body as a web Response, for callers that stream it themselves. */
  toResponse(): Response;
}

/** Sends requests. One instance is shared by every HttpClient that uses it. */
export interface Transport {
  /** Names the implementation in logs and benchmarks: "fetch" or "node:http". */
  readonly name: string;
  /** Sends one request. Rejects on a connection failure or when `request.signal` aborts. */
  request(request: TransportRequest): Promise<TransportResponse>;
}

/** True on Node itself; Bun and Deno also set `process.versions.node` but keep their own fetch. */
export function isNodeRuntime(): boolean {
  const versions = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process
    ?.versions;
  return versions?.node !== undefined && versions.bun === undefined && versions.deno === undefined;
}
