// The real poll transport: one retrieve_future through the HTTP core (api/futures.ts).

import { retrieveFuture } from "../api/futures.js";
import type { HttpClient } from "../client/http.js";
import type { PollTransport } from "./poll.js";

export function httpPollTransport(http: HttpClient): PollTransport {
  // Not async: a thousand polls waiting at once then hold one reaction each, not a suspended frame.
  return (params, signal, headers) =>
    retrieveFuture(http, params, {
      ...(signal ? { signal } : {}),
      ...(headers ? { headers } : {}),
    }).then((res) => ({
      status: res.status,
      headers: res.headers,
      body: res.data,
    }));
}
