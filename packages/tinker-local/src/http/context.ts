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
  pjwt_auth_enabled: boolean;
  credential_default_source: string;
  sample_dispatch_bytes_semaphore_size: number;
  inflight_response_bytes_semaphore_size: number;
  parallel_fwdbwd_chunks: boolean;
  proto_compress_fwdbwd: boolean;
  fwdbwd_max_chunk_len: number;
  fwdbwd_max_chunk_bytes_count: number;
  fwdbwd_dispatch_bytes_semaphore_size: number;
  billing_exception_max_pause_duration_sec: number;
  sample_no_retries: boolean;
  sample_enable_stuck_detection: boolean;
  sample_max_concurrent_requests: number;
  use_pyqwest_transport: boolean;
  create_model_via_load_weights: boolean;
}

/** Overrides for `client/config`; extra keys are passed through so tests can check clients ignore them. */
export type ClientConfigOverrides = Partial<ClientConfig> & Record<string, unknown>;

/** Server options after defaults are applied. Holds no credentials. */
export interface ResolvedServerOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly sessionTtlSeconds: number;
  readonly logRequests: boolean;
  readonly jwt: boolean;
  readonly jwtTtlSeconds: number;
  readonly clientConfig: ClientConfigOverrides;
  readonly dynamicConfig: { refresh_interval_sec: number } & Record<string, unknown>;
  readonly longPollHoldMs: number;
  readonly bodyLimitBytes: number;
  readonly requestLogCapacity: number;
  /** The models served (get_server_capabilities order): own models plus twins. */
  readonly models: readonly ModelSpec[];
  /** Options of the REST side (archives, trace export, audit admins). */
  readonly rest: ResolvedRestOptions;
  /** Options of the training side (future retention, seq gap timeout). */
  readonly training: ResolvedTrainingOptions;
}

export interface RouteContext {
  readonly options: ResolvedServerOptions;
  readonly store: Store;
  readonly faults: FaultInjector;
  readonly clock: Clock;
  readonly logger: LocalLogger;
  readonly sessions: SessionService;
  readonly auth: Authenticator;
  /** Requests, ordering and the models in memory, shared by the training, sampling and future routes. */
  readonly training: TrainingRuntime;
}

/** A module of routes, e.g. `routes/service.ts`. Registered once at start-up, in order. */
export type RouteGroup = (app: FastifyInstance, ctx: RouteContext) => void;
