// Small fetch wrappers for tests that talk HTTP to a tinker-local server.
export const DEFAULT_KEY = "tml-local-dev";

export interface CallOptions {
  /** Sent as X-API-Key; omitted when undefined. */
  key?: string;
  /** JSON-encoded unless a string or Buffer. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body, or undefined when the body is not JSON. */
  json: unknown;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers["x-api-key"] = options.key;
  let body: string | Buffer | undefined;
  if (typeof options.body === "string" || Buffer.isBuffer(options.body)) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body, signal: options.signal });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** `key` null sends no X-API-Key. */
export const post = (baseUrl: string, path: string, body: unknown, key: string | null = DEFAULT_KEY) =>
  call(baseUrl, "POST", path, { key: key ?? undefined, body });

/** `key` null sends no X-API-Key. */
export const get = (baseUrl: string, path: string, key: string | null = DEFAULT_KEY) =>
  call(baseUrl, "GET", path, { key: key ?? undefined });

export const SESSION_BODY = {
  tags: ["test"],
  user_metadata: {},
  sdk_version: "0.25.0",
  type: "create_session",
} as const;

export async function createSession(baseUrl: string, key: string = DEFAULT_KEY): Promise<string> {
  const result = await post(baseUrl, "/api/v1/create_session", SESSION_BODY, key);
  if (result.status !== 200) throw new Error(`create_session failed: ${result.status} ${result.text}`);
  return (result.json as { session_id: string }).session_id;
}

/** A clock tests move by hand. */
export class FakeClock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Asserts the error-body contract: JSON `{detail: string}` with a Content-Length that matches. */
export function errorDetail(result: CallResult): string {
  const length = result.headers.get("content-length");
  if (length === null || Number(length) !== Buffer.byteLength(result.text)) {
    throw new Error(`error response without a matching Content-Length (got ${length})`);
  }
  const detail = (result.json as { detail?: unknown } | undefined)?.detail;
  if (typeof detail !== "string" || Object.keys(result.json as object).length !== 1) {
    throw new Error(`error body is not {detail: string}: ${result.text}`);
  }
  return detail;
}
