// The `{ signal, timeout, onQueueState }` of a model creation (createLoraTrainingClient,
// createTrainingClientFromState): checked before anything is sent, then one AbortSignal that fires
// on the client's close(), on the caller's signal, or when the timeout passes, and the queue-state
// listener (the caller's typed events plus the default paused warning) for its polls.

import { watchAbort } from "../../client/abort-watch.js";
import { ModelCreationTimeoutError, ValidationError } from "../../client/errors.js";
import { abortError } from "../../client/wait.js";
import { checkStopOptions } from "../../futures/call-options.js";
import type { QueueStateEvent } from "../../futures/poll.js";
import { QueueStateLog } from "../../futures/queue-state-log.js";
import type { ClientContext } from "../context.js";

/** Options every model creation takes, to stop it and to watch where it waits. */
export interface ModelCreationOptions {
  /**
   * Aborting it stops the creation (APIUserAbortError): no more submits or polls. A creation the
   * server had already accepted still completes there; see docs/futures.md.
   */
  signal?: AbortSignal;
  /** Stop the creation this many ms after the call (ModelCreationTimeoutError). Default: none. */
  timeout?: number;
  /** Called with every queue-state report of the creation's polls (e.g. paused for capacity). */
  onQueueState?: (event: QueueStateEvent) => void;
}

/** @internal One creation's stop signal, request bookkeeping and queue-state listener. */
export interface CreationScope {
  /** Fires on close(), the caller's signal or the timeout; its reason is the typed error. */
  readonly signal: AbortSignal;
  /** Record an acknowledged request (for the timeout error). */
  submitted(requestId: string): void;
  /** The listener for pollFuture's onQueueState. */
  readonly onQueueState: (event: QueueStateEvent) => void;
  /** The error to throw for `error` when the scope stopped the call; else `error` itself. */
  translate(error: unknown): unknown;
  /** Clears the timer and watchers. */
  dispose(): void;
}

/** The creation options out of a bigger option bag (createLoraTrainingClient's, fromState's). */
export function creationOptionsOf(options: ModelCreationOptions): ModelCreationOptions {
  const { signal, timeout, onQueueState } = options;
  return {
    ...(signal !== undefined ? { signal } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(onQueueState !== undefined ? { onQueueState } : {}),
  };
}

/** Throws ValidationError for unusable options; `call` names the method in messages. */
export function checkCreationOptions(options: ModelCreationOptions, call: string): void {
  const { signal, timeout, onQueueState } = options;
  checkStopOptions(signal, timeout, call, "");
  if (onQueueState !== undefined && typeof onQueueState !== "function") {
    throw new ValidationError(`${call}: onQueueState must be a function`, "onQueueState");
  }
}

/**
 * Opens the scope of one creation. `subject` names what is created in the paused warning
 * ("Model creation for <base model>").
 */
export function openCreationScope(
  ctx: ClientContext,
  options: ModelCreationOptions,
  call: string,
  subject: string,
): CreationScope {
  checkCreationOptions(options, call);
  const controller = new AbortController();
  let requestId: string | undefined;
  const unwatch: (() => void)[] = [];
  const follow = (signal: AbortSignal | undefined) => {
    if (!signal) return;
    if (signal.aborted) controller.abort(abortError(signal, { message: `${call} was aborted` }));
    else
      unwatch.push(
        watchAbort(signal, () => controller.abort(abortError(signal, { message: `${call} was aborted` }))),
      );
  };
  follow(ctx.signal);
  follow(options.signal);
  let timer: unknown;
  const { timeout } = options;
  if (timeout !== undefined && !controller.signal.aborted) {
    timer = ctx.clock.setTimeout(() => {
      controller.abort(
        new ModelCreationTimeoutError(
          requestId === undefined
            ? `${call} did not finish within ${timeout} ms; nothing had been accepted by the server.`
            : `${call} did not finish within ${timeout} ms; the server had accepted request ${requestId} ` +
                "and may still create the model in this session (it shows in `tinker run list`), but no client drives it.",
          timeout,
          requestId,
        ),
      );
    }, timeout);
  }
  const log = new QueueStateLog(ctx.logger, ctx.now, () => subject);
  const user = options.onQueueState;
  return {
    signal: controller.signal,
    submitted: (id) => {
      requestId = id;
    },
    onQueueState: (event) => {
      log.observe(event);
      if (!user) return;
      try {
        user(event);
      } catch (error) {
        ctx.logger.error("An onQueueState listener threw", { error });
      }
    },
    translate: (error) => (controller.signal.aborted ? controller.signal.reason : error),
    dispose: () => {
      if (timer !== undefined) ctx.clock.clearTimeout(timer);
      for (const u of unwatch) u();
    },
  };
}
