// What a TrainingClient or SamplingClient needs from the ServiceClient that made it: the open
// session (HTTP client, server config, session id), the session-wide counters of contract 2.7, the
// client's lifetime (aborted by ServiceClient.close(), which stops every poll), and the sleep used
// for waits (a test seam). The option bags of pollFuture and submitWithRetries are built here, once.

import type { Clock } from "../client/clock.js";
import { ValidationError } from "../client/errors.js";
import type { HttpClient } from "../client/http.js";
import type { Logger } from "../client/logger.js";
import { sleep as clockSleep, type SleepFn } from "../client/wait.js";
import type { PollOptions, PollTransport, WireFormat } from "../futures/poll.js";
import type { SubmitRetryOptions } from "../futures/submit.js";
import { httpPollTransport } from "../futures/transport.js";
import type { ClientConfig } from "../session/client-config.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { DispatchThrottles } from "./dispatch-throttles.js";

/** Per-session counters (contract 2.7): one per ServiceClient, shared by all its clients. */
export class SessionCounters {
  #model = 0;
  #sampling = 0;
  /** `model_seq_id` for the next training client. */
  nextModelSeqId(): number {
    return this.#model++;
  }
  /** `sampling_session_seq_id`, shared by create_sampling_session and unnamed sampler saves. */
  nextSamplingSessionSeqId(): number {
    return this.#sampling++;
  }
}

export interface ClientContextInit {
  http: HttpClient;
  config: ClientConfig;
  sessionId: string;
  counters: SessionCounters;
  signal: AbortSignal;
  sleep?: SleepFn;
  transport?: PollTransport;
  /** Shared by every client of one ServiceClient (contract 1.7: per holder). */
  throttles?: DispatchThrottles;
  /** The session's telemetry; absent when it is off. */
  telemetry?: Telemetry;
}

/** @internal */
export class ClientContext {
  readonly http: HttpClient;
  readonly config: ClientConfig;
  readonly sessionId: string;
  readonly counters: SessionCounters;
  readonly signal: AbortSignal;
  readonly transport: PollTransport;
  readonly throttles: DispatchThrottles;
  readonly telemetry: Telemetry | undefined;
  readonly #sleep: SleepFn | undefined;

  constructor(init: ClientContextInit) {
    this.http = init.http;
    this.config = init.config;
    this.sessionId = init.sessionId;
    this.counters = init.counters;
    this.signal = init.signal;
    this.#sleep = init.sleep;
    this.transport = init.transport ?? httpPollTransport(init.http);
    this.throttles = init.throttles ?? new DispatchThrottles(init.config, () => init.http.clock.now());
    this.telemetry = init.telemetry;
  }

  get logger(): Logger {
    return this.http.logger;
  }

  get clock(): Clock {
    return this.http.clock;
  }

  now = (): number => this.http.clock.now();

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    this.#sleep ? this.#sleep(ms, signal) : clockSleep(this.http.clock, ms, signal);

  get billingMaxPauseMs(): number {
    return this.config.billingExceptionMaxPauseDurationSec * 1000;
  }

  /**
   * What every submitWithRetries of these clients takes; `what` names the call in logs, `signal`
   * is the call's (a future's handle.signal), else the client's lifetime.
   */
  submitOptions(what: string, signal: AbortSignal = this.signal): SubmitRetryOptions {
    return {
      sleep: this.sleep,
      now: this.now,
      logger: this.logger,
      what,
      billingMaxPauseMs: this.billingMaxPauseMs,
      signal,
    };
  }

  /**
   * The options of one pollFuture: what every poll of these clients shares, and `call`'s own
   * fields. `started` is when the call was submitted (the first poll reports the round trip since
   * then, unless `call` gives it); `signal` is the call's. One object literal: spreading a shared
   * part into each call's options made V8 build a dictionary-mode object, 2.7 KiB per poll instead
   * of 0.3, held for as long as the poll runs.
   */
  pollOptions<T>(started: number, signal: AbortSignal, call: PollCall<T>): PollOptions<T> {
    return {
      transport: this.transport,
      sleep: this.sleep,
      now: this.now,
      logger: this.logger,
      billingMaxPauseMs: this.billingMaxPauseMs,
      createPromiseRoundtripSec: call.createPromiseRoundtripSec ?? (this.now() - started) / 1000,
      signal,
      responseBudget: this.throttles.responseBytes,
      requestId: call.requestId,
      requestType: call.requestType,
      decoder: call.decoder,
      wireFormat: call.wireFormat,
      onQueueState: call.onQueueState,
      headers: call.headers,
    };
  }
}

/** What one pollFuture call adds to the options its client shares (ClientContext.pollOptions). */
export type PollCall<T> = Pick<PollOptions<T>, "requestId" | "requestType" | "decoder"> &
  Partial<Pick<PollOptions<T>, "wireFormat" | "onQueueState" | "headers" | "createPromiseRoundtripSec">>;

/** Options every training and sampling client takes. */
export interface WireFormatOption {
  /**
   * protobuf (default, as the official client) or JSON for forward_backward bodies and for
   * forward_backward/sample results. Other calls are always JSON.
   */
  wireFormat?: WireFormat;
}

export function checkWireFormat(value: unknown): WireFormat {
  if (value === undefined) return "proto";
  if (value === "proto" || value === "json") return value;
  throw new ValidationError(
    `wireFormat must be "proto" or "json", got ${JSON.stringify(value)}`,
    "wireFormat",
  );
}
