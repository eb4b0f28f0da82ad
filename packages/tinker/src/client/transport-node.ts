// The Node transport: node:http / node:https with one keep-alive Agent per pool of contract 1.7
// (see transport-pools.ts). Chosen over undici's `Agent.request` and Node's fetch by
// bench/transport.ts (docs/benchmarks.md#transport): on a quiet machine its client overhead on a
// sequential forward over a bare node:http client was 0.03 ms against undici's 0.65 ms, with less
// CPU per call and a lower resting RSS, and it needs no dependency. Loaded only on Node, by a
// dynamic import from http.ts.

import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { Transport, TransportRequest, TransportResponse } from "./transport.js";
import { StreamResponse, toHeaders } from "./transport-body.js";
import { POOL_CONNECTIONS, type PoolKind, poolFor } from "./transport-pools.js";
import { followRedirects, type HopResponse } from "./transport-redirect.js";

/** Options of the Node transport. */
export interface NodeTransportOptions {
  /** Connections per pool and origin. Default POOL_CONNECTIONS (1000, contract 1.7). */
  connections?: number;
}

/** Sent when the caller set no Accept-Encoding, as fetch does; the body is decompressed on read. */
const ACCEPT_ENCODING = "gzip, deflate";

/**
 * An idle connection closes after this long, or 1 s before the server's `Keep-Alive: timeout=N`
 * when that is shorter (Node's Agent applies the hint only below its own timeout). 4 s as undici
 * and fetch, so a connection is not reused just as the server drops it.
 */
const IDLE_TIMEOUT_MS = 4_000;

const noop = () => {};

type AnyAgent = http.Agent | https.Agent;

/** The Node transport. One instance holds its own pools; `sharedNodeTransport()` is the default one. */
export class NodeTransport implements Transport {
  /** "node:http". */
  readonly name = "node:http";
  private readonly agents = new Map<string, AnyAgent>();
  private readonly connections: number;

  /** A transport with its own pools; the SDK's default is `sharedNodeTransport()`. */
  constructor(options: NodeTransportOptions = {}) {
    this.connections = options.connections ?? POOL_CONNECTIONS;
  }

  private agent(secure: boolean, kind: PoolKind): AnyAgent {
    const key = secure ? `https:${kind}` : kind;
    let agent = this.agents.get(key);
    if (!agent) {
      const options = {
        keepAlive: true,
        maxSockets: this.connections,
        timeout: IDLE_TIMEOUT_MS,
        // Requests are written in one piece; Nagle's algorithm would only delay the last segment.
        noDelay: true,
      };
      agent = secure ? new https.Agent(options) : new http.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Sends one request, following redirects as fetch does unless it asks for `manual`. */
  request(request: TransportRequest): Promise<TransportResponse> {
    return followRedirects((hop) => this.send(hop), request);
  }

  private send(request: TransportRequest): Promise<HopResponse> {
    const signal = request.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    const url = new URL(request.url);
    const secure = url.protocol === "https:";
    if (!secure && url.protocol !== "http:") {
      return Promise.reject(new TypeError(`not an HTTP URL (${url.protocol})`));
    }
    const headers: Record<string, string> = { ...request.headers };
    headers["accept-encoding"] ??= ACCEPT_ENCODING;
    const body = request.body;
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
    return new Promise<HopResponse>((resolve, reject) => {
      const req = (secure ? https : http).request(url, {
        method: request.method,
        headers,
        agent: this.agent(secure, poolFor(url.pathname)),
      });
      let res: IncomingMessage | undefined;
      // The signal is this attempt's own (http.ts makes one per attempt and fans the caller's
      // long-lived signal out to it), so one listener here is one per request, removed at the end.
      const onAbort = () => {
        const reason = signal.reason instanceof Error ? signal.reason : new Error("aborted");
        req.destroy(reason);
        res?.destroy(reason);
      };
      const unwatch = () => signal.removeEventListener("abort", onAbort);
      signal.addEventListener("abort", onAbort, { once: true });
      req.once("response", (incoming: IncomingMessage) => {
        res = incoming;
        // Nobody may be reading when an abort or a reset destroys the body: that error must not
        // become an uncaught one. A reader attaches its own listener and still gets it.
        incoming.on("error", noop);
        incoming.once("close", unwatch);
        resolve(new StreamResponse(incoming.statusCode ?? 0, toHeaders(incoming.headers), incoming));
      });
      // `on`, not `once`: a socket error after the response can reach the request again.
      req.on("error", (error) => {
        unwatch();
        reject(error);
      });
      req.end(body);
    });
  }

  /** Closes every pooled connection; requests still running fail. */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    for (const agent of agents) agent.destroy();
  }
}

let shared: NodeTransport | undefined;

/**
 * The transport every HttpClient on Node uses unless given `fetch` or a transport: one set of pools
 * per process, as fetch has one global dispatcher, so clients to the same server share connections.
 * Idle connections do not keep the process alive (Node's Agent unrefs them).
 */
export function sharedNodeTransport(): NodeTransport {
  shared ??= new NodeTransport();
  return shared;
}
