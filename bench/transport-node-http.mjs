// @ts-check
// The candidate the SDK's Node transport was measured against: node:http with keep-alive Agents,
// behind the same Transport interface as the shipped undici transport and doing the same work per
// request (web Headers for the response, a tight copy of the body, UTF-8 text; one Agent per pool of
// contract 1.7, up to 1000 sockets each), so that the benchmark compares the two HTTP stacks and
// nothing else. Redirects and Content-Encoding are left out: tinker-local sends neither. It lives
// here as the comparison row for the shipped undici transport (docs/benchmarks.md, transport).
import http from "node:http";

/** @typedef {import("tinker-ts").Transport} Transport */
/** @typedef {import("tinker-ts").TransportResponse} TransportResponse */

const POOL_CONNECTIONS = 1000;
const POOLS = /** @type {Record<string, string>} */ ({
  create_session: "session",
  session_heartbeat: "session",
  create_sampling_session: "session",
  "client/dynamic_config": "session",
  "client/config": "session",
  asample: "sample",
  retrieve_future: "retrieve",
  telemetry: "telemetry",
});

/** @param {import("node:http").IncomingMessage} res @returns {Promise<Buffer[]>} */
function collect(res) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    res.on("data", (c) => chunks.push(c));
    res.once("end", () => resolve(chunks));
    res.once("error", reject);
  });
}

/** @implements {TransportResponse} */
class NodeHttpResponse {
  /** @param {import("node:http").IncomingMessage} res */
  constructor(res) {
    this.res = res;
    this.status = res.statusCode ?? 0;
    this.headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (typeof v === "string") this.headers.append(k, v);
      else if (v) for (const x of v) this.headers.append(k, x);
    }
  }

  async bytes() {
    const chunks = await collect(this.res);
    let length = 0;
    for (const c of chunks) length += c.byteLength;
    const out = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }

  async text() {
    return Buffer.concat(await collect(this.res)).toString("utf8");
  }

  /** @returns {Response} */
  toResponse() {
    throw new Error("the benchmark never streams a body");
  }
}

/** @implements {Transport} */
export class NodeHttpTransport {
  constructor() {
    this.name = "node:http";
    /** @type {Map<string, http.Agent>} */
    this.agents = new Map();
  }

  /** @param {string} pathname */
  agent(pathname) {
    const at = pathname.lastIndexOf("/api/v1/");
    const kind = (at >= 0 && POOLS[pathname.slice(at + 8)]) || "train";
    let agent = this.agents.get(kind);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: POOL_CONNECTIONS, noDelay: true });
      this.agents.set(kind, agent);
    }
    return agent;
  }

  /**
   * @param {import("tinker-ts").TransportRequest} request
   * @returns {Promise<import("tinker-ts").TransportResponse>}
   */
  request(request) {
    const url = new URL(request.url);
    /** @type {Record<string, string>} */
    const headers = { "accept-encoding": "gzip, deflate", ...request.headers };
    if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(request.body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        { method: request.method, headers, agent: this.agent(url.pathname), signal: request.signal },
        (res) => resolve(new NodeHttpResponse(res)),
      );
      req.on("error", reject);
      req.end(request.body);
    });
  }

  close() {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
