// The ordered sequencer of one training model (contract 5.4): seq ids taken at call time (so call
// order is execution order), each submit made in its turn with the L2 retry layer, a refused
// submit's seq id filled with a no-op so the server does not hold the later ones, and the result
// polled outside the turn gate.

import type { FutureRequestType } from "../../api/futures.js";
import { forwardBackwardJson, forwardBackwardProto, type SubmitAck } from "../../api/training.js";
import { ConflictError } from "../../client/errors.js";
import { type CheckedCallOptions, callScope } from "../../futures/call-options.js";
import { TinkerFuture } from "../../futures/future.js";
import { pollFuture, type ResultDecoder, type WireFormat } from "../../futures/poll.js";
import { QueueStateLog, queueStateListeners } from "../../futures/queue-state-log.js";
import { submitWithRetries } from "../../futures/submit.js";
import { type Turn, TurnGate } from "../../futures/turn-gate.js";
import { encodeForwardBackwardRequestJson } from "../../wire/json-codec.js";
import { encodeForwardBackwardRequestProto } from "../../wire/proto-codec.js";
import type { ClientContext } from "../context.js";

/** How one call's HTTP requests go: its stop signal (a future's handle.signal) and extra headers. */
export interface RequestScope {
  signal: AbortSignal;
  headers: Record<string, string> | undefined;
}

/** The API layer's per-request options for a scope (only the fields that are set). */
export function requestOptions(scope: RequestScope): {
  signal: AbortSignal;
  headers?: Record<string, string>;
} {
  return scope.headers ? { signal: scope.signal, headers: scope.headers } : { signal: scope.signal };
}

const NO_OPTIONS: CheckedCallOptions = { signal: undefined, timeout: undefined, headers: undefined };

/** What a one-seq-id request does once its turn comes: submit, and map the polled result. */
export interface SingleRequest<R, T> {
  submit: (scope: RequestScope) => Promise<SubmitAck>;
  map: (r: R) => T;
  /** A save whose retried submit gets 409 was saved by an earlier attempt (decision 3). */
  savedPath?: string;
}

/** The seq ids of one training model, and the submit/poll of each request in its turn. */
export class Sequencer {
  readonly ctx: ClientContext;
  readonly modelId: string;
  readonly wireFormat: WireFormat;
  /** The model's paused-queue warning, shared by all its calls (one a minute at most). */
  readonly queueLog: QueueStateLog;
  readonly #gate: TurnGate;

  constructor(ctx: ClientContext, modelId: string, wireFormat: WireFormat, firstSeqId: number) {
    this.ctx = ctx;
    this.modelId = modelId;
    this.wireFormat = wireFormat;
    this.#gate = new TurnGate(firstSeqId);
    this.queueLog = new QueueStateLog(ctx.logger, ctx.now, () => `Training for model ${modelId}`);
  }

  /** One turn holding every chunk (parallel chunks), or one turn per chunk. */
  reserveChunks(count: number): Turn[] {
    if (this.ctx.config.parallelFwdbwdChunks) return [this.#gate.reserve(count)];
    return Array.from({ length: count }, () => this.#gate.reserve(1));
  }

  /**
   * A submit the server refused (a 409 on a save name, a 400) did not take its seq id there, and
   * the server would hold every later request of this model waiting for it. Each such seq id is
   * filled, still inside the turn, with a no-op: a forward-only pass over one token with zero
   * weights, which changes nothing. If the server did take the seq id after all, it refuses the
   * filler, which is fine too.
   */
  async fillSeqGap(seqIds: readonly number[], cause: unknown): Promise<void> {
    const ctx = this.ctx;
    if (ctx.signal.aborted) return;
    for (const seqId of seqIds) {
      const request = {
        model_id: this.modelId,
        seq_id: seqId,
        data: [
          {
            model_input: { chunks: [{ type: "encoded_text" as const, tokens: [0] }] },
            loss_fn_inputs: {
              target_tokens: { data: [0], dtype: "int64" as const, shape: [1] },
              weights: { data: [0], dtype: "float32" as const, shape: [1] },
            },
          },
        ],
        loss_fn: "cross_entropy" as const,
        forward_only: true,
      };
      try {
        if (this.wireFormat === "json") {
          await forwardBackwardJson(ctx.http, encodeForwardBackwardRequestJson(request), {
            signal: ctx.signal,
          });
        } else {
          await forwardBackwardProto(ctx.http, encodeForwardBackwardRequestProto(request), false, {
            signal: ctx.signal,
          });
        }
        ctx.logger.debug(
          `seq_id ${seqId} of ${this.modelId} was refused (${(cause as Error).message}); filled with a no-op`,
        );
      } catch (error) {
        ctx.logger.debug(`Filling seq_id ${seqId} of ${this.modelId} failed: ${(error as Error).message}`);
      }
    }
  }

  /** `send` with the L2 retry layer (contract 1.6): the same body and seq id on every attempt. */
  withRetries<T>(send: () => Promise<T>, what: string, signal?: AbortSignal): Promise<T> {
    return submitWithRetries(() => send(), this.ctx.submitOptions(what, signal));
  }

  /**
   * One request with one seq id: reserve now, submit in turn (with the L2 retry layer), poll.
   * `savedPath`: a save whose retried submit gets 409 was saved by an earlier attempt (decision 3).
   * `options` (checked by the caller before anything was reserved) stop or decorate this call; a
   * call stopped before its submit was acknowledged has its seq id filled in its turn, as a refused
   * one has, so the model's later calls are not held.
   */
  single<R, T>(
    label: string,
    requestType: FutureRequestType,
    decoder: ResultDecoder<R>,
    make: (seqId: number) => SingleRequest<R, T>,
    options: CheckedCallOptions = NO_OPTIONS,
  ): TinkerFuture<T> {
    const turn = this.#gate.reserve(1);
    const ctx = this.ctx;
    const { submit, map, savedPath } = make(turn.seqIds[0]!);
    return new TinkerFuture(
      async (handle) => {
        const started = ctx.now();
        const scope: RequestScope = { signal: handle.signal, headers: options.headers };
        let ack: SubmitAck | undefined;
        try {
          await turn.wait();
          ack = await submitWithRetries(
            async (attempt) => {
              try {
                return await submit(scope);
              } catch (error) {
                if (savedPath !== undefined && attempt > 0 && error instanceof ConflictError) {
                  ctx.logger.debug(
                    `${label}: a retried save got 409; an earlier attempt reached the server, so ${savedPath} is saved`,
                  );
                  return undefined;
                }
                throw error;
              }
            },
            ctx.submitOptions(label, handle.signal),
          );
        } catch (error) {
          await this.fillSeqGap(turn.seqIds, error);
          throw error;
        } finally {
          turn.release();
        }
        if (ack === undefined) return map({ path: savedPath } as R);
        handle.setRequestId(ack.request_id);
        const result = await pollFuture(
          ctx.pollOptions(started, handle.signal, {
            requestId: ack.request_id,
            requestType,
            decoder,
            wireFormat: this.wireFormat,
            onQueueState: queueStateListeners(handle, this.queueLog.observe),
            headers: options.headers,
          }),
        );
        return map(result);
      },
      label,
      callScope(ctx.signal, ctx.clock, options),
    );
  }
}
