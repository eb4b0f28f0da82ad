// `POST /api/v1/retrieve_future` (contract 5.2, master table row 17): a long poll. A finished
// request answers its result at once; a pending one is held until it finishes or
// `longPollHoldMs` passes, then answers `try_again`. Results of forward_backward and sample go out
// as protobuf when the poll's Accept header includes application/x-protobuf, JSON otherwise.
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  encodeForwardBackwardOutputJson,
  encodeForwardBackwardOutputProto,
  encodeSampleResponseJson,
  encodeSampleResponseProto,
} from "tinker-ts/wire";
import type { FutureRecord, FutureResult } from "../../engine/futures.js";
import type { TrainingRuntime } from "../../engine/training-runtime.js";
import { requireUser } from "../auth.js";
import { BodyReader } from "../body-reader.js";
import type { RouteContext, RouteGroup } from "../context.js";
import { PROTOBUF } from "../wire-body.js";

function acceptsProtobuf(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  const values = Array.isArray(accept) ? accept.join(",") : (accept ?? "");
  return values.toLowerCase().includes(PROTOBUF);
}

/** Aborts when the client goes away, so a held poll does not outlive its connection. */
function disconnectSignal(request: FastifyRequest): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onClose = (): void => controller.abort();
  request.raw.socket.once("close", onClose);
  return { signal: controller.signal, dispose: () => request.raw.socket.off("close", onClose) };
}

/** The answer to a finished poll: its body, and the content type when it is not JSON. */
type Payload = { protobuf: Uint8Array } | { json: unknown };

function payloadOf(result: FutureResult, protobuf: boolean): Payload {
  if (result.type === "json") return { json: result.value };
  if (protobuf) {
    return {
      protobuf:
        result.type === "forward_backward"
          ? encodeForwardBackwardOutputProto(result.value)
          : encodeSampleResponseProto(result.value, { topkK: result.topkK }),
    };
  }
  return {
    json:
      result.type === "forward_backward"
        ? encodeForwardBackwardOutputJson(result.value)
        : encodeSampleResponseJson(result.value),
  };
}

function payloadBytes(payload: Payload): number {
  if ("protobuf" in payload) return payload.protobuf.byteLength;
  return Buffer.byteLength(JSON.stringify(payload.json), "utf8");
}

function sendResult(
  reply: FastifyReply,
  result: FutureResult,
  protobuf: boolean,
  metadataOnlyAbove: number | undefined,
): FastifyReply {
  try {
    const payload = payloadOf(result, protobuf);
    if (metadataOnlyAbove !== undefined) {
      // Contract 4.14: a large result is announced first; the client reserves its size from its
      // in-flight response budget and polls again with allow_metadata_only false for the payload.
      const size = payloadBytes(payload);
      if (size > metadataOnlyAbove) {
        return reply.send({ status: "complete_metadata", response_payload_size: size });
      }
    }
    if ("json" in payload) return reply.send(payload.json);
    const bytes = payload.protobuf;
    return reply
      .header("content-type", PROTOBUF)
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    // JSON cannot carry every float (NaN, infinities); protobuf can.
    return reply.send({
      error: `The result cannot be written as JSON (${(error as Error).message}); poll with Accept: ${PROTOBUF}`,
      category: "server",
    });
  }
}

function answer(
  reply: FastifyReply,
  record: FutureRecord,
  protobuf: boolean,
  queueState: TrainingRuntime["queueState"],
  metadataOnlyAbove: number | undefined,
): FastifyReply {
  if (record.state === "failed" && record.failure !== undefined) return reply.send(record.failure);
  if (record.state === "done" && record.result !== undefined)
    return sendResult(reply, record.result, protobuf, metadataOnlyAbove);
  return reply.send({ type: "try_again", request_id: record.requestId, ...queueState(record) });
}

export const futureRoutes: RouteGroup = (app, ctx: RouteContext) => {
  const { futures } = ctx.training;

  // Held polls and queued work must not delay close(): preClose answers them and drops the queue
  // (synchronously, inside close()); once the server stopped listening, onClose waits for the work
  // already running in the workers, so a save in progress completes before the store closes.
  app.addHook("preClose", (done) => {
    void ctx.training.close();
    done();
  });
  app.addHook("onClose", async () => {
    await ctx.training.close();
  });

  app.post("/api/v1/retrieve_future", async (request, reply) => {
    const user = requireUser(request);
    const body = BodyReader.of(request.body);
    const requestId = body.string("request_id");
    // The metadata-only outcome (`complete_metadata`) is used when the server is started with
    // `metadataOnlyAboveBytes` and the client says it understands it (clients before 0.14 do not
    // send the flag, and must get the payload).
    const allowMetadataOnly = body.optionalBoolean("allow_metadata_only") ?? false;
    const metadataOnlyAbove = allowMetadataOnly ? ctx.options.metadataOnlyAboveBytes : undefined;
    const protobuf = acceptsProtobuf(request);
    let record = futures.lookup(user.id, requestId);
    if (record.state === "queued" || record.state === "running") {
      const { signal, dispose } = disconnectSignal(request);
      try {
        await futures.wait(record, ctx.options.longPollHoldMs, signal);
      } finally {
        dispose();
      }
      // It may have expired while held: that is a 410 now.
      record = futures.lookup(user.id, requestId);
    }
    return answer(reply, record, protobuf, (pending) => ctx.training.queueState(pending), metadataOnlyAbove);
  });
};
