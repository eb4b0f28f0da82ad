// Futures: the awaitable result of every submitted call, the retrieve_future loop, the retry layer
// around submissions, and the per-client turn gate.

export { type CheckedCallOptions, checkCallOptions, type FutureCallOptions } from "./call-options.js";
export { type FutureEvents, type FutureHandle, type ResultOptions, TinkerFuture } from "./future.js";
export {
  POLL_TIMINGS,
  type PollOptions,
  type PollReply,
  type PollTransport,
  pollFuture,
  type QueueStateEvent,
  type QueueStateName,
  type ResultDecoder,
  type WireFormat,
} from "./poll.js";
export {
  isRetryableSubmitError,
  SUBMIT_TIMINGS,
  type SubmitRetryOptions,
  submitWithRetries,
} from "./submit.js";
export { httpPollTransport } from "./transport.js";
export { type Turn, TurnGate } from "./turn-gate.js";
