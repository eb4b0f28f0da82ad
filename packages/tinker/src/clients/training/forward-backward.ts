// The forward_backward pipeline: check → chunk → encode → budget → send → merge. A batch is checked
// once and cut into chunks the server accepts (contract 1.7 limits); each chunk is encoded in the
// client's wire format, holds its bytes of the session's submit budget until acknowledged, and is
// submitted in its turn; the chunks' results are polled and merged back into one answer.

import { forwardBackwardJson, forwardBackwardProto, type SubmitAck } from "../../api/training.js";
import { ResponseValidationError } from "../../client/errors.js";
import type { FutureHandle } from "../../futures/future.js";
import { pollFuture, type ResultDecoder } from "../../futures/poll.js";
import { queueStateListeners } from "../../futures/queue-state-log.js";
import type { Turn } from "../../futures/turn-gate.js";
import { chunkForwardBackwardData, estimateDatumBytes } from "../../wire/chunking.js";
import { decodeForwardBackwardOutputJson, encodeForwardBackwardRequestJson } from "../../wire/json-codec.js";
import { mergeForwardBackwardOutputs } from "../../wire/metrics.js";
import {
  decodeForwardBackwardOutputProto,
  encodeCheckedForwardBackwardRequestProto,
} from "../../wire/proto-codec.js";
import { TensorData } from "../../wire/tensor-data.js";
import type { ForwardBackwardOutput, LossFnConfig, LossFnType, WireDatum } from "../../wire/types.js";
import { zstdCompress } from "../../wire/zstd.js";
import type { ClientContext } from "../context.js";
import { checkTrainingBatch } from "./params.js";
import { requestOptions, type Sequencer } from "./sequencer.js";
import type { DatumLike, ForwardBackwardResult } from "./types.js";

const FBO_DECODER: ResultDecoder<ForwardBackwardOutput> = {
  name: "ForwardBackwardOutput",
  proto: decodeForwardBackwardOutputProto,
  json: decodeForwardBackwardOutputJson,
};

/** A checked batch cut into chunks; `counts[i]` datums in chunk i. */
export interface Chunked {
  chunks: WireDatum[][];
  counts: number[];
}

/** Cuts checked wire datums into chunks by the server's limits (contract 1.7). */
export function chunkBatch(ctx: ClientContext, wires: WireDatum[]): Chunked {
  const { config } = ctx;
  const chunks = chunkForwardBackwardData(wires, {
    maxChunkLen: config.fwdbwdMaxChunkLen,
    maxChunkBytes: config.fwdbwdMaxChunkBytesCount,
  });
  return { chunks, counts: chunks.map((c) => c.length) };
}

/** Check and chunk: everything forward/forwardBackward does before returning its future. */
export function prepareBatch(
  ctx: ClientContext,
  data: readonly DatumLike[],
  lossFn: LossFnType,
  lossFnConfig: LossFnConfig | undefined,
  call: string,
  baseModel: string | undefined,
): Chunked {
  return chunkBatch(ctx, checkTrainingBatch(data, lossFn, lossFnConfig, call, baseModel));
}

/**
 * The public result: decoded tensors as TensorData, in the order the datums were given. The decoder
 * has checked the answer's structure; its values are not checked again as if the user had sent them.
 */
export function toResult(out: ForwardBackwardOutput): ForwardBackwardResult {
  return {
    lossFnOutputType: out.loss_fn_output_type,
    lossFnOutputs: out.loss_fn_outputs.map((record) => {
      const converted: Record<string, TensorData> = {};
      for (const [key, td] of Object.entries(record)) {
        Object.defineProperty(converted, key, { value: TensorData.fromDecoded(td), enumerable: true });
      }
      return converted;
    }),
    metrics: out.metrics,
  };
}

/** What one forward/forward_backward call sends: the loss, and whether gradients are kept. */
export interface ForwardBackwardCall {
  lossFn: LossFnType;
  lossFnConfig: LossFnConfig | undefined;
  forwardOnly: boolean;
  /** The call's extra headers (FutureCallOptions.headers, checked), on its submits and polls. */
  headers?: Record<string, string> | undefined;
}

/**
 * Submits every chunk in its turn (reserved by the caller when the call was made), polls each
 * chunk's result, and merges them. A chunk the server refused gets its seq id filled.
 */
export async function runForwardBackward(
  seq: Sequencer,
  input: Chunked,
  call: ForwardBackwardCall,
  turns: Turn[],
  handle: FutureHandle,
): Promise<ForwardBackwardOutput> {
  const { ctx, modelId, wireFormat } = seq;
  const { lossFn, lossFnConfig, forwardOnly } = call;
  // The call's stop signal (client closed, call aborted, timed out or cancelled) and headers.
  const signal = handle.signal;
  const options = requestOptions({ signal, headers: call.headers });
  const started = ctx.now();
  const { chunks } = input;
  const seqOf = (i: number) => (turns.length === 1 ? turns[0]!.seqIds[i]! : turns[i]!.seqIds[0]!);
  const submitChunk = async (i: number): Promise<SubmitAck> => {
    const request = {
      model_id: modelId,
      seq_id: seqOf(i),
      data: chunks[i]!,
      loss_fn: lossFn,
      ...(lossFnConfig !== undefined ? { loss_fn_config: lossFnConfig } : {}),
      ...(forwardOnly ? { forward_only: true } : {}),
    };
    let send: () => Promise<SubmitAck>;
    if (wireFormat === "json") {
      const body = encodeForwardBackwardRequestJson(request);
      send = () => forwardBackwardJson(ctx.http, body, options);
    } else {
      const compress = ctx.config.protoCompressFwdbwd;
      // checkTrainingBatch checked every datum; the encoder does not walk them again.
      let bytes = encodeCheckedForwardBackwardRequestProto(request);
      if (compress) bytes = await zstdCompress(bytes);
      send = () => forwardBackwardProto(ctx.http, bytes, compress, options);
    }
    // Held until this chunk's submit is acknowledged (contract 1.7), not while it runs.
    const bytes = chunks[i]!.reduce((n, d) => n + estimateDatumBytes(d), 0);
    return ctx.throttles.fwdbwdBytes.with(
      bytes,
      () => seq.withRetries(send, forwardOnly ? "forward" : "forward_backward", signal),
      signal,
    );
  };

  const acks: SubmitAck[] = new Array(chunks.length);
  try {
    if (turns.length === 1) {
      const turn = turns[0]!;
      await turn.wait();
      // The first chunk goes last, so the server holds the others until the batch is complete.
      const order = [...chunks.keys()].slice(1).concat(0);
      const settled = await Promise.allSettled(
        order.map(async (i) => {
          acks[i] = await submitChunk(i);
        }),
      );
      const failedSeqs = order.filter((_, k) => settled[k]!.status === "rejected").map(seqOf);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failed) {
        await seq.fillSeqGap(
          failedSeqs.sort((a, b) => a - b),
          failed.reason,
        );
        throw failed.reason;
      }
    } else {
      for (let i = 0; i < chunks.length; i++) {
        await turns[i]!.wait();
        try {
          acks[i] = await submitChunk(i);
        } catch (error) {
          // This chunk's seq id and the later ones of this call will not be used otherwise.
          await seq.fillSeqGap(chunks.map((_, j) => seqOf(j)).slice(i), error);
          throw error;
        } finally {
          turns[i]!.release();
        }
      }
    }
  } finally {
    for (const turn of turns) turn.release();
  }
  for (const ack of acks) handle.setRequestId(ack.request_id);
  const roundtrip = (ctx.now() - started) / 1000;
  const outputs = await Promise.all(
    acks.map((ack) =>
      pollFuture(
        ctx.pollOptions(started, signal, {
          headers: call.headers,
          createPromiseRoundtripSec: roundtrip,
          requestId: ack.request_id,
          requestType: forwardOnly ? "Forward" : "ForwardBackward",
          decoder: FBO_DECODER,
          wireFormat,
          onQueueState: queueStateListeners(handle, seq.queueLog.observe),
        }),
      ),
    ),
  );
  outputs.forEach((out, i) => {
    if (out.loss_fn_outputs.length !== input.counts[i]) {
      throw new ResponseValidationError(
        `forward_backward chunk ${i} answered ${out.loss_fn_outputs.length} outputs for ${input.counts[i]} datums`,
      );
    }
  });
  return mergeForwardBackwardOutputs(outputs, input.counts);
}
