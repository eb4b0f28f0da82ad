// The Node transport: undici's `Agent.request`, one Agent per pool of contract 1.7 (see
// transport-pools.ts), keep-alive connections. It beats Node's built-in fetch (the same undici
// underneath, plus the WHATWG Request/Response/stream machinery on every call) in bench/transport.ts
// on every row. Against node:http with a keep-alive Agent (the candidate in bench/) the one run so far,
// on a heavily loaded machine, was mixed: see docs/benchmarks.md. Loaded only on Node, by a dynamic
// import from http.ts.

import { Agent } from "undici";
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

export class NodeTransport implements Transport {
  readonly name = "undici";
  private readonly agents = new Map<PoolKind, Agent>();
  private readonly connections: number;

  constructor(options: NodeTransportOptions = {}) {
    this.connections = options.connections ?? POOL_CONNECTIONS;
  }

  private agent(kind: PoolKind): Agent {
    let agent = this.agents.get(kind);
    if (!agent) {
      agent = new Agent({
        connections: this.connections,
        // The HTTP core's per-attempt deadline covers waiting for the answer; undici's own 300 s
        // headers timeout would cut a longer one short. Between body chunks undici's default
        // (300 s, as for fetch) still applies, which matters for a streamed body once handed over.
        headersTimeout: 0,
      });
      this.agents.set(kind, agent);
    }
    return agent;
  }

  request(request: TransportRequest): Promise<TransportResponse> {
    return followRedirects((hop) => this.send(hop), request);
  }

  private async send(request: TransportRequest): Promise<HopResponse> {
    const url = new URL(request.url);
    const headers = request.headers["accept-encoding"]
      ? request.headers
      : { ...request.headers, "accept-encoding": ACCEPT_ENCODING };
    const res = await this.agent(poolFor(url.pathname)).request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: request.method as "GET",
      headers,
      body: request.body,
      signal: request.signal,
    });
    return new StreamResponse(res.statusCode, toHeaders(res.headers), res.body);
  }

  /** Closes every pooled connection; requests still running fail. */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.destroy()));
  }
}

let shared: NodeTransport | undefined;

/**
 * The transport every HttpClient on Node uses unless given `fetch` or a transport: one set of pools
 * per process, as fetch has one global dispatcher, so clients to the same server share connections.
 * Idle connections do not keep the process alive (undici unrefs them).
 */
export function sharedNodeTransport(): NodeTransport {
  shared ??= new NodeTransport();
  return shared;
}
