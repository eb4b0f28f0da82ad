// The transport over a fetch function: what the SDK uses on Bun, Deno and in browsers, and on Node
// whenever the user passes `fetch` in ClientOptions. fetch itself follows redirects, decompresses
// and frames the body, so this is a thin adapter.

import type { Transport, TransportRequest, TransportResponse } from "./transport.js";

class FetchResponse implements TransportResponse {
  constructor(private readonly res: Response) {}

  get status(): number {
    return this.res.status;
  }

  get headers(): Headers {
    return this.res.headers;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.res.arrayBuffer());
  }

  text(): Promise<string> {
    return this.res.text();
  }

  toResponse(): Response {
    return this.res;
  }
}

/** A Transport that sends every request through `fetchImpl`. */
export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return {
    name: "fetch",
    async request(request: TransportRequest): Promise<TransportResponse> {
      const res = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body as RequestInit["body"],
        signal: request.signal,
        redirect: request.redirect,
      });
      return new FetchResponse(res);
    },
  };
}
