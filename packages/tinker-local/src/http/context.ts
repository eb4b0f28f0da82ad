// What every route group receives. Route groups are plain functions so that adding one is a single
// line in server.ts and each group stays testable on its own.
import type { FastifyInstance } from "fastify";
import type { Clock } from "../clock.js";
import type { SessionService } from "../engine/sessions.js";
import type { ResolvedTrainingOptions, TrainingRuntime } from "../engine/training-runtime.js";
import type { LocalLogger } from "../log.js";
import type { ModelSpec } from "../model/catalog.js";
import type { Store } from "../store/index.js";
import type { Authenticator } from "./auth.js";
import type { FaultInjector } from "./faults.js";
import type { ResolvedRestOptions } from "./rest-options.js";

/** The `client/config` answer (contract 2.2). Every field is optional on the wire; we always send all. */
export interface ClientConfig {
  /**
   * Clients exchange the API key for a JWT (`auth/token`) and send that. False unless the server
   * runs with `jwt`.
   */
  pjwt_auth_enabled: boolean;
  /** Where clients get their credential: `api_key`, or `credential_cmd` to force `TINKER_CREDENTIAL_CMD`. */
  credential_default_source: string;
  /** Bytes of sampling requests a client may be submitting at once. */
  sample_dispatch_bytes_semaphore_size: number;
  /** Bytes of large (metadata-only) results a client may be fetching at once. */
  inflight_response_bytes_semaphore_size: number;
  /** Submit the chunks of one forward/backward call concurrently. */
  parallel_fwdbwd_chunks: boolean;
  /** zstd-compress protobuf forward/backward bodies (`Content-Encoding: zstd`). */
  proto_compress_fwdbwd: boolean;
  /** Most datums per forward/backward request; larger calls are split into chunks. */
  fwdbwd_max_chunk_len: number;
  /** Most estimated protobuf bytes per forward/backward request. */
  fwdbwd_max_chunk_bytes_count: number;
  /** Estimated forward/backward bytes a client may be submitting at once. */
  fwdbwd_dispatch_bytes_semaphore_size: number;
  /** How long, in seconds, a 402 (billing) pauses a client's work before it fails. */
  billing_exception_max_pause_duration_sec: number;
  /** Turns off the retry layer of `sample()`. */
  sample_no_retries: boolean;
  /** Lets the sampling retry layer resubmit a request that looks stuck. */
  sample_enable_stuck_detection: boolean;
  /** Most sampling requests a client keeps in flight. */
  sample_max_concurrent_requests: number;
  /** The official Python client's transport choice; tinker-local sends false unless overridden. */
  use_pyqwest_transport: boolean;
  /** Restoring from a checkpoint becomes one `load_weights` call instead of create-then-load. */
  create_model_via_load_weights: boolean;
}

/** Overrides for `client/config`; extra keys are passed through so tests can check clients ignore them. */
export type ClientConfigOverrides = Partial<ClientConfig> & Record<string, unknown>;

/** Server options after defaults are applied. Holds no credentials. */
export interface ResolvedServerOptions {
  /** The port asked for; 0 means any free one (the bound port is `LocalServer.port`). */
  readonly port: number;
  /** The interface to listen on. */
  readonly host: string;
  /** Absolute path of the data directory (SQLite and checkpoints). */
  readonly dataDir: string;
  /** Seconds without a heartbeat after which a session expires. */
  readonly sessionTtlSeconds: number;
  /** Whether each request is printed as `METHOD PATH STATUS`. */
  readonly logRequests: boolean;
  /** Whether clients must exchange their key for a JWT. */
  readonly jwt: boolean;
  /** Lifetime of issued JWTs, seconds. */
  readonly jwtTtlSeconds: number;
  /** Fields merged over the default `client/config` answer. */
  readonly clientConfig: ClientConfigOverrides;
  /** The `client/dynamic_config` answer. */
  readonly dynamicConfig: {
    /** How often clients should ask again, seconds (300 unless overridden). */
    refresh_interval_sec: number;
  } & Record<string, unknown>;
  /** Longest hold of a long-polled `retrieve_future`, ms. */
  readonly longPollHoldMs: number;
  /** Results larger than this are announced with `complete_metadata` first; undefined: never. */
  readonly metadataOnlyAboveBytes: number | undefined;
  /** Largest accepted request body, bytes. */
  readonly bodyLimitBytes: number;
  /** How many requests the request log keeps. */
  readonly requestLogCapacity: number;
  /** Request headers kept in the request log's records (lower case; never credentials). */
  readonly recordHeaders: readonly string[];
  /** How long a request may take to arrive in full (headers and body) before it gets 408, ms. */
  readonly requestTimeoutMs: number;
  /** The models served (get_server_capabilities order): own models plus twins. */
  readonly models: readonly ModelSpec[];
  /** Options of the REST side (archives, trace export, audit admins). */
  readonly rest: ResolvedRestOptions;
  /** Options of the training side (future retention, seq gap timeout). */
  readonly training: ResolvedTrainingOptions;
}

/** What every route group is given: the server's state, shared by all routes. */
export interface RouteContext {
  /** The server's options, defaults applied. */
  readonly options: ResolvedServerOptions;
  /** Persistent state. */
  readonly store: Store;
  /** Faults tests have armed; routes consult them before answering. */
  readonly faults: FaultInjector;
  /** The time source (tests may pass a fake one). */
  readonly clock: Clock;
  /** Where diagnostics go. */
  readonly logger: LocalLogger;
  /** Session lifecycle: creation, heartbeats, expiry. */
  readonly sessions: SessionService;
  /** API-key and JWT checks. */
  readonly auth: Authenticator;
  /** Requests, ordering and the models in memory, shared by the training, sampling and future routes. */
  readonly training: TrainingRuntime;
}

/** A module of routes, e.g. `routes/service.ts`. Registered once at start-up, in order. */
export type RouteGroup = (app: FastifyInstance, ctx: RouteContext) => void;
