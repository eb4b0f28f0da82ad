// The real poll transport: one retrieve_future through the HTTP core (api/futures.ts).

import { retrieveFuture } from "../api/futures.js";
import type { HttpClient } from "../client/http.js";
import type { PollTransport } from "./poll.js";

export function httpPollTransport(http: HttpClient): PollTransport {
  return async (params, signal, headers) => {
    const res = await retrieveFuture(http, params, {
      ...(signal ? { signal } : {}),
      ...(headers ? { headers } : {}),
    });
    return { status: res.status, headers: res.headers, body: res.data };
  };
}
