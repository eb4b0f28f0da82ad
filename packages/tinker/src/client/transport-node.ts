// The Node transport: node:http / node:https with one keep-alive Agent per pool of contract 1.7
// (see transport-pools.ts). Chosen over undici's `Agent.request` and Node's fetch by
// bench/transport.ts (docs/benchmarks.md#transport): on a quiet machine its client overhead on a
// sequential forward over a bare node:http client was 0.03 ms against undici's 0.65 ms, with less
// CPU per call and a lower resting RSS, and it needs no dependency. Loaded only on Node, by a
// dynamic import from http.ts.

import http, { type IncomingMessage } from "node:http";
import type https from "node:https";
import { isIP } from "node:net";
import { abortSourceOf } from "./attempt-abort.js";
import { NodeHeaders } from "./node-headers.js";
import type { Transport, TransportRequest, TransportResponse } from "./transport.js";
import { StreamResponse } from "./transport-body.js";
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

/** Methods Node sends without Content-Length when they have no body; the others get `0`. */
const NO_BODY_METHODS = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

/** Where a URL goes, parsed once (the SDK sends to a handful of URLs, over and over). */
interface Target {
  secure: boolean;
  /** Without IPv6 brackets, for connecting. */
  hostname: string;
  /** The Host header: with brackets, and the port unless it is the default one. */
  host: string;
  port: number;
  path: string;
  /** TLS server name (none for an IP address). */
  servername: string | undefined;
  pool: PoolKind;
}

const targets = new Map<string, Target>();
/** Entries kept before the cache starts over (REST paths carry ids, so it is bounded). */
const MAX_TARGETS = 512;

function targetOf(href: string): Target {
  const cached = targets.get(href);
  if (cached) return cached;
  const url = new URL(href);
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") throw new TypeError(`not an HTTP URL (${url.protocol})`);
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const target: Target = {
    secure,
    hostname,
    host: url.host,
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    servername: secure ? (isIP(hostname) ? "" : hostname) : undefined,
    pool: poolFor(url.pathname),
  };
  if (targets.size >= MAX_TARGETS) targets.clear();
  targets.set(href, target);
  return target;
}

/**
 * The request's headers as Node's flat raw list [name, value, ...]: Node then writes them as they
 * are, without building its own header map first (half of node:http's per-request allocations in
 * the burst benchmark). With a list Node adds no Host header itself, so it is added here.
 */
function rawHeaders(request: TransportRequest, target: Target): string[] {
  const raw: string[] = [];
  const headers = request.headers;
  const body = request.body;
  let host = false;
  let encoding = false;
  for (const name of Object.keys(headers)) {
    if (name === "content-length" && body !== undefined) continue;
    if (name === "host") host = true;
    else if (name === "accept-encoding") encoding = true;
    raw.push(name, headers[name] as string);
  }
  if (!host) raw.push("host", target.host);
  if (!encoding) raw.push("accept-encoding", ACCEPT_ENCODING);
  if (body !== undefined) raw.push("content-length", String(Buffer.byteLength(body)));
  else if (!NO_BODY_METHODS.has(request.method)) raw.push("content-length", "0");
  return raw;
}

type AnyAgent = http.Agent | https.Agent;

/**
 * node:https, loaded by the first https request: it brings TLS and most of node:crypto, about
 * 1 MiB of resident memory that a process talking plain http (tinker-local) never needs.
 */
let httpsModule: typeof https | undefined;
function httpsOf(): typeof https {
  httpsModule ??= process.getBuiltinModule("node:https");
  return httpsModule;
}

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
      agent = secure ? new (httpsOf().Agent)(options) : new http.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Sends one request, following redirects as fetch does unless it asks for `manual`. */
  request(request: TransportRequest): Promise<TransportResponse> {
    return followRedirects((hop) => this.send(hop), request);
  }

  private send(request: TransportRequest): Promise<HopResponse> {
    const abort = abortSourceOf(request);
    if (abort.aborted) return Promise.reject(abort.reason);
    let target: Target;
    try {
      target = targetOf(request.url);
    } catch (error) {
      return Promise.reject(error);
    }
    const body = request.body;
    return new Promise<HopResponse>((resolve, reject) => {
      const req = (target.secure ? httpsOf() : http).request({
        protocol: target.secure ? "https:" : "http:",
        host: target.hostname,
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        servername: target.servername,
        method: request.method,
        headers: rawHeaders(request, target),
        agent: this.agent(target.secure, target.pool),
      });
      let res: IncomingMessage | undefined;
      // The abort is this attempt's own (http.ts makes one per attempt and fans the caller's
      // long-lived signal out to it), so one watcher here is one per request, removed at the end.
      const unwatch = abort.watch(() => {
        const reason = abort.reason instanceof Error ? abort.reason : new Error("aborted");
        req.destroy(reason);
        res?.destroy(reason);
      });
      // `on`, not `once`, for events Node emits once: `once` wraps each listener in a bound copy.
      req.on("response", (incoming: IncomingMessage) => {
        res = incoming;
        // Nobody may be reading when an abort or a reset destroys the body: that error must not
        // become an uncaught one. A reader attaches its own listener and still gets it.
        incoming.on("error", noop);
        incoming.on("close", unwatch);
        resolve(new StreamResponse(incoming.statusCode ?? 0, new NodeHeaders(incoming.headers), incoming));
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
