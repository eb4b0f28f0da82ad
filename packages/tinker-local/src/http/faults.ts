// Fault injection for tests, in-process only: nothing here is reachable over HTTP. Faults are
// checked before authentication, so they apply to any request, known path or not.
import type { Socket } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";
import { splitUrl } from "./request-log.js";

/**
 * One fault to inject: which requests it matches (method, path) and what happens to them (one of
 * `status`, `hang`, `reset`, `answerLost`, optionally with `delayMs` and `headers`).
 */
export interface FaultSpec {
  /** Matches any method when absent; case-insensitive. */
  method?: string;
  /** Exact path (no query string), or a RegExp tested against the path. Any path when absent. */
  path?: string | RegExp;
  /** Answer with this status instead of running the route. */
  status?: number;
  /** Response body for `status`; default `{"detail": "Injected fault: <status>"}`. Strings are sent as is. */
  body?: unknown;
  /** Headers added to the response (the injected one, or the real one when no status is given). */
  headers?: Record<string, string>;
  /** How many matching requests this fault applies to. Default 1. */
  times?: number;
  /** Wait this long first; alone, it only slows the real answer down. */
  delayMs?: number;
  /** Never answer; the connection is closed when the server closes. */
  hang?: boolean;
  /** Destroy the connection without an answer. */
  reset?: boolean;
  /**
   * Applied, answer lost: the route runs (its work is done and stored), then the connection is
   * destroyed before the answer is written. What a client sees when a proxy or the network drops a
   * response: the one case where a retry must not apply the work a second time.
   */
  answerLost?: boolean;
}

/** A fault that was added, to watch how often it applied. */
export interface FaultHandle {
  /** A copy of the spec it was added with. */
  readonly spec: Readonly<FaultSpec>;
  /** Matches still to apply; 0 once used up (it is then removed). */
  readonly remaining: number;
  /** Requests it has applied to. */
  readonly hits: number;
}

class ActiveFault implements FaultHandle {
  remaining: number;
  hits = 0;
  constructor(readonly spec: Readonly<FaultSpec>) {
    this.remaining = spec.times ?? 1;
  }

  matches(method: string, path: string): boolean {
    if (this.spec.method !== undefined && this.spec.method.toUpperCase() !== method.toUpperCase())
      return false;
    if (this.spec.path === undefined) return true;
    return typeof this.spec.path === "string" ? this.spec.path === path : this.spec.path.test(path);
  }
}

function validate(spec: FaultSpec): void {
  const { status, times, delayMs } = spec;
  if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599)) {
    throw new RangeError(`fault status must be an integer HTTP status, got ${status}`);
  }
  if (times !== undefined && (!Number.isSafeInteger(times) || times < 1)) {
    throw new RangeError(`fault times must be a positive integer, got ${times}`);
  }
  if (delayMs !== undefined && (!Number.isFinite(delayMs) || delayMs < 0)) {
    throw new RangeError(`fault delayMs must be a non-negative number, got ${delayMs}`);
  }
  const modes = [status !== undefined, spec.hang === true, spec.reset === true, spec.answerLost === true];
  if (modes.filter(Boolean).length > 1) {
    throw new TypeError("a fault takes at most one of status, hang, reset and answerLost");
  }
  const hasEffect = modes.some(Boolean) || delayMs !== undefined || spec.headers !== undefined;
  if (!hasEffect) {
    throw new TypeError("a fault needs one of status, hang, reset, answerLost, delayMs or headers");
  }
}

/** Logs a request that got no answer; `lostStatus` is the status of an answer that was dropped. */
export type NoResponseRecorder = (request: FastifyRequest, lostStatus?: number) => void;

/**
 * The faults a test has armed (`server.faults`). Each request takes one use of the first matching
 * fault, in the order they were added; a request no fault matches runs normally.
 */
export class FaultInjector {
  private readonly active: ActiveFault[] = [];
  private readonly hungSockets = new Set<Socket>();
  private readonly pendingDelays = new Set<() => void>();
  /** Requests whose route runs but whose answer is to be dropped (the `answerLost` mode). */
  private readonly losing = new WeakSet<FastifyRequest>();
  private closed = false;

  /**
   * Arms a fault for the next `spec.times` (default 1) matching requests. Throws `RangeError` for
   * a bad status, times or delay, and `TypeError` when the spec has no effect or several modes.
   */
  add(spec: FaultSpec): FaultHandle {
    validate(spec);
    const fault = new ActiveFault({ ...spec });
    this.active.push(fault);
    return fault;
  }

  /** Removes every fault not yet used up. Requests already hanging stay hung until close. */
  clear(): void {
    this.active.length = 0;
  }

  /** The faults not yet used up, in the order they were added. */
  list(): readonly FaultHandle[] {
    return [...this.active];
  }

  /** Takes one use of the first matching fault, in the order they were added. */
  private take(method: string, path: string): ActiveFault | undefined {
    const index = this.active.findIndex((fault) => fault.matches(method, path));
    if (index === -1) return undefined;
    const fault = this.active[index]!;
    fault.remaining -= 1;
    fault.hits += 1;
    if (fault.remaining === 0) this.active.splice(index, 1);
    return fault;
  }

  /** The onRequest hook body. Returns after sending, hijacking, or deciding to let the route run. */
  async apply(
    request: FastifyRequest,
    reply: FastifyReply,
    recordNoResponse: NoResponseRecorder,
  ): Promise<void> {
    if (this.active.length === 0) return;
    const fault = this.take(request.method, splitUrl(request.url).path);
    if (fault === undefined) return;
    const { spec } = fault;
    if (spec.delayMs !== undefined && spec.delayMs > 0) await this.delay(spec.delayMs);
    const socket = request.raw.socket;
    if (spec.reset) {
      reply.hijack();
      recordNoResponse(request);
      socket.destroy();
      return;
    }
    if (spec.hang) {
      reply.hijack();
      if (this.closed) {
        socket.destroy();
      } else {
        this.hungSockets.add(socket);
        socket.once("close", () => this.hungSockets.delete(socket));
      }
      recordNoResponse(request);
      return;
    }
    if (spec.answerLost) {
      this.losing.add(request);
      return;
    }
    if (spec.headers !== undefined) reply.headers(spec.headers);
    if (spec.status !== undefined) {
      const body = spec.body === undefined ? { detail: `Injected fault: ${spec.status}` } : spec.body;
      reply.code(spec.status).send(body);
    }
  }

  /** True for a request under `answerLost`: the request log leaves it to `dropAnswer`. */
  isLosingAnswer(request: FastifyRequest): boolean {
    return this.losing.has(request);
  }

  /**
   * The onSend hook body: the route has answered; under `answerLost` the connection is destroyed
   * before a byte of that answer is written, and the request is logged with status 0.
   */
  dropAnswer(request: FastifyRequest, reply: FastifyReply, recordNoResponse: NoResponseRecorder): void {
    if (!this.losing.has(request)) return;
    recordNoResponse(request, reply.statusCode);
    request.raw.socket.destroy();
  }

  /** Ends pending delays and closes connections left hanging. Called when the server closes. */
  releaseAll(): void {
    this.closed = true;
    for (const resolve of this.pendingDelays) resolve();
    this.pendingDelays.clear();
    for (const socket of this.hungSockets) socket.destroy();
    this.hungSockets.clear();
  }

  private delay(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pendingDelays.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pendingDelays.add(done);
    });
  }
}
