// Following redirects for a transport that does not (node:http), the way fetch
// does: up to 20 hops; 303, and 301/302 after a POST, continue as a GET without the body. One
// difference, on purpose: fetch drops only `Authorization` when a redirect leaves the origin; here
// every credential header the SDK sends (X-API-Key, the Cloudflare Access pair) is dropped as well,
// so a redirect to another host never carries the key there.

import type { TransportRequest, TransportResponse } from "./transport.js";

/** Hops before giving up, as fetch. */
export const MAX_REDIRECTS = 20;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const CREDENTIAL_HEADERS = [
  "x-api-key",
  "authorization",
  "proxy-authorization",
  "cookie",
  "cf-access-client-id",
  "cf-access-client-secret",
];

const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language"];

/** One hop's response, which can be dropped unread when the hop is followed. */
export interface HopResponse extends TransportResponse {
  discard(): void;
}

/** The request for the hop after `response`, or undefined when `response` is the answer. */
function nextHop(request: TransportRequest, response: HopResponse): TransportRequest | undefined {
  if (request.redirect === "manual" || !REDIRECT_STATUSES.has(response.status)) return undefined;
  const location = response.headers.get("location");
  if (location === null) return undefined;
  const from = new URL(request.url);
  const to = new URL(location, from);
  if (to.protocol !== "http:" && to.protocol !== "https:") {
    throw new TypeError(`redirect to a non-HTTP URL (${to.protocol})`);
  }
  const headers = { ...request.headers };
  let { method, body } = request;
  const status = response.status;
  if (
    (status === 303 && method !== "GET" && method !== "HEAD") ||
    ((status === 301 || status === 302) && method === "POST")
  ) {
    method = "GET";
    body = undefined;
    for (const name of BODY_HEADERS) delete headers[name];
  }
  if (to.origin !== from.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
  // `signal` by name: a request's signal may be a getter (http.ts makes it on first read), which a
  // spread of a class instance would not copy.
  return { ...request, signal: request.signal, url: to.href, method, headers, body };
}

/**
 * Sends `request` through `send`, following redirects unless `request.redirect` is manual. A chain
 * of `then`s rather than an async loop: a request waiting for its answer (a long poll, a thousand
 * at once) then holds a reaction, not a suspended async frame.
 */
export function followRedirects(
  send: (request: TransportRequest) => Promise<HopResponse>,
  request: TransportRequest,
  hops = 0,
): Promise<TransportResponse> {
  return send(request).then((response) => {
    const next = nextHop(request, response);
    if (next === undefined) return response;
    response.discard();
    if (hops + 1 > MAX_REDIRECTS) throw new TypeError(`more than ${MAX_REDIRECTS} redirects`);
    return followRedirects(send, next, hops + 1);
  });
}
