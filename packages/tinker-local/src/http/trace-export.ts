// Session trace export (contract 3.5, row 30). Each GET starts or reuses a job per session: it is
// `pending` for the first `traceExportPendingPolls` answers, then `ready` with a signed URL (1 h)
// served at `/traces/<session id>.trace.json?token=<signed token>`. The trace is JSON in the Chrome/Perfetto trace-event format (Perfetto
// UI and chrome://tracing open it), built from what the store knows about the session at download.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { notFound } from "../errors.js";
import type { SessionRecord } from "../store/sessions.js";
import { requestOrigin, signedToken } from "./archive-service.js";
import type { RouteContext } from "./context.js";
import { DEFAULT_TRACE_URL_TTL_SECONDS } from "./rest-options.js";
import type { UrlSigner } from "./signed-urls.js";

export const TRACE_DOWNLOAD_PREFIX = "/traces/";

export type TraceExportAnswer = { status: "pending" } | { status: "ready"; url: string };

interface TraceEvent {
  name: string;
  ph: "M" | "i" | "X";
  pid: number;
  tid: number;
  /** Microseconds since the epoch. */
  ts?: number;
  dur?: number;
  s?: "t" | "p";
  cat?: string;
  args?: Record<string, unknown>;
}

const PID = 1;
const SESSION_TID = 0;
const us = (ms: number) => Math.round(ms * 1000);

export class TraceExportService {
  /** Pending answers still to give, per session id. */
  private readonly pendingLeft = new Map<string, number>();

  constructor(
    private readonly ctx: RouteContext,
    private readonly signer: UrlSigner,
  ) {}

  answer(request: FastifyRequest, session: SessionRecord): TraceExportAnswer {
    let left = this.pendingLeft.get(session.id);
    if (left === undefined) left = this.ctx.options.rest.traceExportPendingPolls;
    if (left > 0) {
      this.pendingLeft.set(session.id, left - 1);
      return { status: "pending" };
    }
    this.pendingLeft.set(session.id, 0);
    const expiresAt = this.ctx.clock.now() + DEFAULT_TRACE_URL_TTL_SECONDS * 1000;
    const token = this.signer.sign({ kind: "trace", sessionId: session.id }, expiresAt);
    const url = `${requestOrigin(request)}${TRACE_DOWNLOAD_PREFIX}${session.id}.trace.json?token=${token}`;
    return { status: "ready", url };
  }

  register(app: FastifyInstance): void {
    app.get<{ Querystring: { token?: unknown } }>(
      `${TRACE_DOWNLOAD_PREFIX}*`,
      { config: { auth: false } },
      async (request, reply: FastifyReply) => {
        const target = this.signer.verify(signedToken(request.query.token), "trace");
        if (target.kind !== "trace") throw notFound("Not a trace URL");
        const session = this.ctx.store.sessions.get(target.sessionId);
        if (session === undefined) throw notFound(`Session not found: ${target.sessionId}`);
        const body = JSON.stringify(this.buildTrace(session));
        return reply
          .header("content-type", "application/json")
          .header("content-disposition", `attachment; filename="${session.id}.trace.json"`)
          .send(body);
      },
    );
  }

  /** Trace events: the session, its runs and samplers (one track each), and every recorded call. */
  buildTrace(session: SessionRecord): {
    traceEvents: TraceEvent[];
    displayTimeUnit: "ms";
    otherData: object;
  } {
    const { store } = this.ctx;
    const events: TraceEvent[] = [
      { name: "process_name", ph: "M", pid: PID, tid: SESSION_TID, args: { name: `session ${session.id}` } },
      { name: "thread_name", ph: "M", pid: PID, tid: SESSION_TID, args: { name: "session" } },
      {
        name: "create_session",
        ph: "i",
        s: "t",
        pid: PID,
        tid: SESSION_TID,
        ts: us(session.createdAt),
        args: { tags: session.tags, sdk_version: session.sdkVersion, project_id: session.projectId },
      },
    ];
    if (session.lastHeartbeatAt !== null) {
      events.push({
        name: "last_heartbeat",
        ph: "i",
        s: "t",
        pid: PID,
        tid: SESSION_TID,
        ts: us(session.lastHeartbeatAt),
        args: { heartbeat_count: session.heartbeatCount },
      });
    }
    const tracks = new Map<string, number>();
    const trackOf = (id: string): number => {
      let tid = tracks.get(id);
      if (tid === undefined) {
        tid = tracks.size + 1;
        tracks.set(id, tid);
        events.push({ name: "thread_name", ph: "M", pid: PID, tid, args: { name: id } });
      }
      return tid;
    };
    for (const run of store.runs.listBySession(session.id)) {
      events.push({
        name: "create_model",
        ph: "i",
        s: "t",
        pid: PID,
        tid: trackOf(run.id),
        ts: us(run.createdAt),
        args: { base_model: run.baseModel, lora_rank: run.loraRank },
      });
    }
    for (const sampler of store.samplers.listBySession(session.id)) {
      events.push({
        name: "create_sampling_session",
        ph: "i",
        s: "t",
        pid: PID,
        tid: trackOf(sampler.id),
        ts: us(sampler.createdAt),
        args: { base_model: sampler.baseModel, model_path: sampler.modelPath },
      });
    }
    for (const usage of store.usage.listBySession(session.id)) {
      const tid = usage.modelId === null ? SESSION_TID : trackOf(usage.modelId);
      const args: Record<string, unknown> = { type: usage.type };
      if (usage.tokenCount !== null) args.token_count = usage.tokenCount;
      if (usage.count !== null) args.count = usage.count;
      if (usage.type === "sampling_prefill") args.cached = usage.cached;
      const name = usage.operation ?? usage.type;
      if (usage.durationMs !== null && usage.durationMs > 0) {
        events.push({
          name,
          cat: usage.type,
          ph: "X",
          pid: PID,
          tid,
          ts: us(usage.at - usage.durationMs),
          dur: us(usage.durationMs),
          args,
        });
      } else {
        events.push({ name, cat: usage.type, ph: "i", s: "t", pid: PID, tid, ts: us(usage.at), args });
      }
    }
    return {
      traceEvents: events,
      displayTimeUnit: "ms",
      otherData: {
        generator: "tinker-local",
        session_id: session.id,
        exported_at: new Date(this.ctx.clock.now()).toISOString(),
      },
    };
  }
}
