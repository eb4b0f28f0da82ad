// The entry point of the SDK. Constructing it checks the options and makes no network call; the
// session opens on `openSession()` or on the first call that needs it, and session-less calls
// (capabilities, later REST) go through a separate connection that never creates a session.

import { getWeightsInfo } from "../api/rest.js";
import type { WeightsInfo } from "../api/rest-schemas.js";
import { getServerCapabilities, type ServerCapabilities } from "../api/service.js";
import { ClientClosedError } from "../client/errors.js";
import { type ClientOptions, type ResolvedOptions, resolveOptions } from "../client/options.js";
import { type Connection, type ConnectionHooks, connect } from "../session/connection.js";
import { EventRegistry, type TinkerEventName, type TinkerListener } from "../session/events.js";
import type { HeartbeatStats } from "../session/heartbeat.js";
import { SessionHolder } from "../session/session-holder.js";
import { openTelemetry } from "../session/telemetry-link.js";
import { reportFatal } from "../telemetry/capture.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { ClientContext, SessionCounters } from "./context.js";
import { DispatchThrottles } from "./dispatch-throttles.js";
import { RestClient } from "./rest/rest-client.js";
import { SamplingClient } from "./sampling/sampling-client.js";
import type { CreateSamplingClientOptions } from "./sampling/types.js";
import { createLoraTrainingClient, trainingClientFromState } from "./training/model-creation.js";
import { checkWeightsAccessToken } from "./training/params.js";
import type { TrainingClient } from "./training/training-client.js";
import type { LoraTrainingOptions, TrainingFromStateOptions } from "./training/types.js";

/**
 * The entry point of the SDK: holds the credentials and the session, and creates training,
 * sampling and REST clients. Nothing is sent until the first call (or `openSession()`); `close()`
 * ends the session and its heartbeat. Options come from the arguments, then `TINKER_*` variables.
 */
export class ServiceClient {
  // #private: it holds the API key, and must not show up in console.log(client).
  readonly #options: ResolvedOptions;
  private readonly events: EventRegistry;
  private readonly hooks: ConnectionHooks;
  private sessionPromise: Promise<SessionHolder> | undefined;
  private holder: SessionHolder | undefined;
  private connectionPromise: Promise<Connection> | undefined;
  private conn: Connection | undefined;
  /** Telemetry of the session-less connection (`sessionless-<uuid>`): REST and capabilities failures. */
  #sessionlessTelemetry: Telemetry | undefined;
  private closed = false;
  /** Aborted by close(): cancels a start-up in progress and later token fetches. */
  private readonly lifetime = new AbortController();
  /** model_seq_id and sampling_session_seq_id of this client's session (contract 2.7). */
  private readonly counters = new SessionCounters();
  /** Submit-phase byte budgets and sampling limits, shared by all clients made here (contract 1.7). */
  private throttles: DispatchThrottles | undefined;

  /**
   * Throws a ValidationError when the options (or the environment) are unusable, e.g. no API key.
   * `hooks` are test seams for the HTTP core (@internal).
   */
  constructor(options: ClientOptions = {}, hooks: Omit<ConnectionHooks, "signal"> = {}) {
    this.#options = resolveOptions(options);
    this.events = new EventRegistry(this.#options.logger);
    this.hooks = { ...hooks, signal: this.lifetime.signal };
  }

  /** The session id once the session is open; undefined before. */
  get sessionId(): string | undefined {
    return this.holder?.sessionId;
  }

  /**
   * Opens the session now instead of on first use, and returns its id. Calling it again (also
   * concurrently) returns the same session. A failed attempt is not cached: the next call retries.
   */
  async openSession(): Promise<string> {
    return (await this.session()).sessionId;
  }

  /** @internal The open session, created on first use. */
  session(): Promise<SessionHolder> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (!this.sessionPromise) {
      const opening = SessionHolder.open(this.#options, this.events, this.hooks).then(
        async (holder) => {
          if (this.closed) {
            // close() ran while the session was being created: do not leave a heartbeat behind.
            await holder.close();
            throw new ClientClosedError();
          }
          this.holder = holder;
          return holder;
        },
        (error: unknown) => {
          this.sessionPromise = undefined;
          throw error;
        },
      );
      this.sessionPromise = opening;
    }
    return this.sessionPromise;
  }

  /** @internal The session-less connection (steps 1-3 of start-up), created on first use. */
  connection(): Promise<Connection> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (!this.connectionPromise) {
      this.connectionPromise = connect(this.#options, this.hooks).then(
        (conn) => {
          if (this.closed) {
            conn.close();
            throw new ClientClosedError();
          }
          this.conn = conn;
          if (this.#options.telemetry)
            this.#sessionlessTelemetry = openTelemetry(conn.http, undefined, this.#options);
          return conn;
        },
        (error: unknown) => {
          this.connectionPromise = undefined;
          throw error;
        },
      );
    }
    return this.connectionPromise;
  }

  /** Listens for heartbeat events; returns a function that removes the listener. */
  on<E extends TinkerEventName>(event: E, listener: TinkerListener<E>): () => void {
    return this.events.on(event, listener);
  }

  /** Removes a listener added with `on` (a listener not added is ignored). */
  off<E extends TinkerEventName>(event: E, listener: TinkerListener<E>): void {
    this.events.off(event, listener);
  }

  /**
   * The session's telemetry (Python's `get_telemetry()`), to log events of your own; undefined
   * before the session is open and when telemetry is off (`TINKER_TELEMETRY=0`).
   */
  getTelemetry(): Telemetry | undefined {
    return this.holder?.telemetry;
  }

  /**
   * Runs a public call; if it fails, reports the failure to telemetry as fatal (the exception and
   * SESSION_END, sent before the error is raised), as the Python SDK's public methods do.
   */
  async #captured<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      await reportFatal(this.holder?.telemetry, error);
      throw error;
    }
  }

  /** Heartbeat counters of the open session; undefined before the session is open. */
  heartbeatStats(): HeartbeatStats | undefined {
    return this.holder?.heartbeatStats();
  }

  /** The models the server offers. Uses the session-less connection: no session is created. */
  async getServerCapabilities(options: { signal?: AbortSignal } = {}): Promise<ServerCapabilities> {
    const conn = await this.connection();
    try {
      return await getServerCapabilities(conn.http, options);
    } catch (error) {
      await reportFatal(this.#sessionlessTelemetry, error);
      throw error;
    }
  }

  /**
   * @internal The session-less connection's telemetry (what `createRestClient()` clients report
   * to); undefined before that connection opens and when telemetry is off.
   */
  sessionlessTelemetry(): Telemetry | undefined {
    return this.#sessionlessTelemetry;
  }

  /**
   * A RestClient (runs, checkpoints, sessions, billing) that shares this client's session-less
   * connection: no session is created for it. Closing this ServiceClient closes it too.
   */
  createRestClient(): RestClient {
    return new RestClient({}, this);
  }

  /** @internal What training and sampling clients share: the session, counters, lifetime. */
  async clientContext(): Promise<ClientContext> {
    const holder = await this.session();
    this.throttles ??= new DispatchThrottles(holder.config, () => holder.http.clock.now());
    return new ClientContext({
      throttles: this.throttles,
      http: holder.http,
      config: holder.config,
      sessionId: holder.sessionId,
      counters: this.counters,
      signal: this.lifetime.signal,
      ...(holder.telemetry ? { telemetry: holder.telemetry } : {}),
      ...(this.hooks.sleep ? { sleep: this.hooks.sleep } : {}),
    });
  }

  /**
   * A TrainingClient on a new LoRA model of `baseModel` (create_model). Options: `rank` (32), `seed`,
   * `trainMlp`/`trainAttn`/`trainUnembed` (true; at least one must be), `userMetadata`, `wireFormat`;
   * `signal`/`timeout` stop the creation (APIUserAbortError / ModelCreationTimeoutError) and
   * `onQueueState` sees where it waits. A paused creation is also logged as a warning (once a minute).
   */
  async createLoraTrainingClient(
    baseModel: string,
    options: LoraTrainingOptions = {},
  ): Promise<TrainingClient> {
    return this.#captured(async () =>
      createLoraTrainingClient(await this.clientContext(), baseModel, options),
    );
  }

  /**
   * A TrainingClient restored from a `tinker://…/weights/<name>` checkpoint; `withOptimizer` also
   * restores the Adam state, to resume training exactly. `weightsAccessToken` (another user's key)
   * reads a checkpoint of that user (contract 2.8). `signal`, `timeout` and `onQueueState` as for
   * createLoraTrainingClient, over the whole lookup, creation and load.
   */
  async createTrainingClientFromState(
    path: string,
    options: TrainingFromStateOptions = {},
  ): Promise<TrainingClient> {
    return this.#captured(async () => {
      const token = checkWeightsAccessToken(options.weightsAccessToken);
      const ctx = await this.clientContext();
      if (token === undefined) return trainingClientFromState(ctx, path, options);
      return trainingClientFromState(ctx, path, options, (p, signal) =>
        this.#weightsInfoWithToken(p, token, signal),
      );
    });
  }

  /**
   * weights_info asked as the token's user: a separate session-less connection authenticated with
   * the token (its own client/config, and JWT exchange when the server wants it), closed after.
   */
  async #weightsInfoWithToken(path: string, token: string, signal: AbortSignal): Promise<WeightsInfo> {
    const conn = await connect({ ...this.#options, apiKey: token, credentialCmd: undefined }, this.hooks);
    try {
      return await getWeightsInfo(conn.http, path, { signal });
    } finally {
      conn.close();
    }
  }

  /** A SamplingClient on saved weights (`modelPath`, a tinker:// path) or on a base model. */
  async createSamplingClient(options: CreateSamplingClientOptions): Promise<SamplingClient> {
    return this.#captured(async () => SamplingClient.create(await this.clientContext(), options));
  }

  /**
   * Stops the heartbeat and any JWT refresh timers, and every poll of a pending future (which then
   * rejects with ClientClosedError). Idempotent. Later calls throw ClientClosedError.
   * There is no end-session call in the API: the server lets the session expire.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort(new ClientClosedError());
    // What the session-less telemetry has queued goes out before its connection closes.
    await this.#sessionlessTelemetry?.close();
    this.conn?.close();
    await this.holder?.close();
    // A start-up still in progress has just been aborted; let it settle so nothing is left running.
    await Promise.allSettled([this.sessionPromise, this.connectionPromise]);
  }

  /** Whether `close()` was called; a closed client refuses new calls with `ClientClosedError`. */
  get isClosed(): boolean {
    return this.closed;
  }
}
