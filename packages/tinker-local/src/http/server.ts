// The fastify application: body parsing, fault injection, authentication, the request log, error
// bodies, 404s, and the route groups. Each route group is one module under routes/ and one line in
// ROUTE_GROUPS below.
import { mkdirSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import { type Clock, systemClock } from "../clock.js";
import type { FutureControls } from "../engine/futures.js";
import type { ModelControls } from "../engine/model-registry.js";
import { SessionService } from "../engine/sessions.js";
import {
  resolveTrainingOptions,
  TrainingRuntime,
  type TrainingServerOptions,
} from "../engine/training-runtime.js";
import { HttpError } from "../errors.js";
import { type LocalLogger, silentLogger } from "../log.js";
import { servedModels } from "../model/served.js";
import { openStore, type Store } from "../store/index.js";
import { Authenticator, DEFAULT_LOCAL_API_KEY, loadKeysFile, presentedCredential } from "./auth.js";
import type { ClientConfigOverrides, ResolvedServerOptions, RouteContext, RouteGroup } from "./context.js";
import { FaultInjector } from "./faults.js";
import {
  checkRecordHeaders,
  describeRequest,
  formatRequestLine,
  RequestLog,
  type RequestRecord,
  splitUrl,
} from "./request-log.js";
import { restRoutes } from "./rest.js";
import { type RestServerOptions, resolveRestOptions } from "./rest-options.js";
import { futureRoutes } from "./routes/futures.js";
import { samplingRoutes } from "./routes/sampling.js";
import { serviceRoutes } from "./routes/service.js";
import { telemetryRoutes } from "./routes/telemetry.js";
import { trainingModelRoutes } from "./routes/training-models.js";
import { trainingSaveRoutes } from "./routes/training-saves.js";
import { trainingStepRoutes } from "./routes/training-steps.js";

/**
 * One entry per module under routes/ (the REST group's handlers live in rest/). Fastify matches a
 * request by its path, not by the order routes were added, so the order here does not matter.
 */
const ROUTE_GROUPS: readonly RouteGroup[] = [
  serviceRoutes,
  restRoutes,
  trainingModelRoutes,
  trainingStepRoutes,
  trainingSaveRoutes,
  samplingRoutes,
  futureRoutes,
  telemetryRoutes,
];

/** Loopback only: nothing outside this machine can reach a default server. */
export const DEFAULT_HOST = "127.0.0.1";
/** Seconds without a heartbeat before a session expires (15 minutes). */
export const DEFAULT_SESSION_TTL_SECONDS = 900;
/** Lifetime of a JWT from `auth/token`, seconds (one hour). */
export const DEFAULT_JWT_TTL_SECONDS = 3600;
/** Longest a long-polled `retrieve_future` is held before answering "still pending", ms. */
export const DEFAULT_LONG_POLL_HOLD_MS = 25_000;
/** Largest accepted request body, bytes (64 MiB); a larger one gets 413. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
/** How many requests `LocalServer.requests()` keeps, oldest dropped first. */
export const DEFAULT_REQUEST_LOG_CAPACITY = 10_000;
/** A request whose headers and body have not all arrived after this long is answered 408. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Options of {@link startServer}. Every field is optional: the defaults give a loopback server on a
 * free port with a temporary data directory and the documented default key. Bad values throw a
 * `RangeError` naming the option before anything is created.
 */
export interface ServerOptions extends RestServerOptions, TrainingServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where SQLite and checkpoints live. Default: a fresh temporary directory, removed on close. */
  dataDir?: string;
  /** A session with no heartbeat for this long expires. Default 900. */
  sessionTtlSeconds?: number;
  /** Print `METHOD PATH STATUS` to stdout for every request. */
  logRequests?: boolean;
  /** Accepted API keys, one user each. With none here nor in `keysFile`, `tml-local-dev` is accepted. */
  apiKeys?: readonly string[];
  /** A file with one API key per line; `#` starts a comment line. */
  keysFile?: string;
  /** JWT mode: `client/config` says `pjwt_auth_enabled: true`. */
  jwt?: boolean;
  /** Lifetime of JWTs from `auth/token`. Default 3600. */
  jwtTtlSeconds?: number;
  /** Overrides merged over the `client/config` answer. */
  clientConfig?: ClientConfigOverrides;
  /** Overrides merged over the `client/dynamic_config` answer (`{refresh_interval_sec: 300}`). */
  dynamicConfig?: Record<string, unknown>;
  /** Longest hold of a long-polled `retrieve_future`. Default 25000. */
  longPollHoldMs?: number;
  /**
   * A finished result whose payload is larger than this many bytes is first announced with
   * `{"status": "complete_metadata", "response_payload_size"}` to a poll that allows it
   * (contract 4.14), and sent on the next poll. Default: never (tinker-local's results are small);
   * 0 announces every result, for tests of the client's response budget.
   */
  metadataOnlyAboveBytes?: number;
  /** Non-request diagnostics. Default: silent. */
  logger?: LocalLogger;
  /** Time source for sessions, tokens and the request log. Default: `Date.now`. */
  clock?: Clock;
  /** Largest accepted request body. Default 64 MiB. */
  bodyLimitBytes?: number;
  /** Requests kept by `requests()`. Default 10000. */
  requestLogCapacity?: number;
  /**
   * Request headers to keep in each `requests()` record's `headers` (e.g. `["x-trace-id"]`), so a
   * test can prove a client sent them. Default none. Credential headers (X-API-Key,
   * Authorization, Cookie, CF-Access-Client-Secret) are refused with a RangeError.
   */
  recordHeaders?: readonly string[];
  /**
   * A request whose headers and body have not all been received this long after it started is
   * answered 408 `{"detail"}` and its connection closed, so a client that stalls mid-body cannot
   * hold a connection (and its buffered bytes) forever. Time spent in a handler (a long-polled
   * retrieve_future) does not count. Default 60000, the official client's write timeout.
   */
  requestTimeoutMs?: number;
  /**
   * Twins of hosted models to serve, by name (`--model`); tinker-local's own models are always
   * served. Default: every twin whose tokenizer data is installed.
   */
  models?: readonly string[];
}

/** A running tinker-local, as {@link startServer} returns it. Call `close()` when done. */
export interface LocalServer {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  /** The port it listens on (the one picked when 0 was asked for). */
  readonly port: number;
  /** The interface it listens on. */
  readonly host: string;
  /** Absolute path of the data directory; a temporary one is removed by `close()`. */
  readonly dataDir: string;
  /** Persistent state, for tests that check what the server recorded. */
  readonly store: Store;
  /** Arms failures on routes (status codes, delays, dropped connections) for tests. */
  readonly faults: FaultInjector;
  /** Test hooks on submitted requests: expire one, make the next one fail, read a state. */
  readonly futures: FutureControls;
  /** Test hooks on the models in memory: applied/held seq ids, loaded ids, `idle()`. */
  readonly models: ModelControls;
  /** True when no key was configured and the documented default key is accepted. */
  readonly usingDefaultKey: boolean;
  /** Requests answered so far (bounded), oldest first. */
  requests(): RequestRecord[];
  /** Empties the request log (e.g. between the steps of a test). */
  clearRequests(): void;
  /** Stops listening, drops open connections, closes the store; removes a temporary data dir. */
  close(): Promise<void>;
}

function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) {
    throw new RangeError(`${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`);
  }
  return value;
}

function nonNegativeOrUndefined(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  }
  return value;
}

function checkPort(port: number | undefined): number {
  if (port === undefined) return 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  return port;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function configuredKeys(options: ServerOptions): string[] {
  const keys = [...(options.apiKeys ?? [])];
  if (options.keysFile !== undefined) keys.push(...loadKeysFile(options.keysFile));
  // An admin key is also a user key; listing it in both places is fine.
  for (const key of options.adminKeys ?? []) if (!keys.includes(key)) keys.push(key);
  return keys;
}

/** A body sent with a Content-Encoding (zstd on forward_backward) reaches handlers undecoded. */
function isEncoded(request: FastifyRequest): boolean {
  const encoding = request.headers["content-encoding"];
  return encoding !== undefined && encoding !== "" && encoding !== "identity";
}

function installBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const buffer = body as Buffer;
    if (isEncoded(request)) return done(null, buffer);
    // Some clients send an empty body with a JSON content type (e.g. on GET); that is "no body".
    if (buffer.length === 0) return done(null, undefined);
    parseJson(request, buffer.toString("utf8"), done);
  });
  app.addContentTypeParser("application/x-protobuf", { parseAs: "buffer" }, (_request, body, done) => {
    done(null, body);
  });
  // Anything else arrives as bytes; JSON routes then answer 400 saying they want JSON, not 415.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => {
    done(null, body);
  });
}

function installErrorHandling(app: FastifyInstance, logger: LocalLogger): void {
  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).headers(error.headers).send({ detail: error.message });
    }
    const reported = (error as Partial<FastifyError>).statusCode;
    const status = typeof reported === "number" && reported >= 400 && reported <= 599 ? reported : 500;
    if (status >= 500) {
      logger.error(
        `${request.method} ${splitUrl(request.url).path} (request ${request.id}) failed: ${error.stack ?? error.message}`,
      );
    }
    // An unexpected error's message may hold server file paths or internals: it is logged above,
    // never sent. Errors fastify raised itself (reported status) describe the request and are sent.
    // A server error always carries the request id, so the client can quote it.
    const detail =
      status < 500
        ? error.message
        : reported === undefined
          ? `Internal server error (request ${request.id}); the server log has the details`
          : `${error.message} (request ${request.id})`;
    return reply.code(status).send({ detail });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ detail: `Not Found: ${request.method} ${splitUrl(request.url).path}` }),
  );
}

/** What an HTTP-parser error means for the client, with our `{"detail"}` body. */
function describeClientError(error: NodeJS.ErrnoException): {
  status: number;
  reason: string;
  detail: string;
} {
  if (error.code === "HPE_HEADER_OVERFLOW") {
    return {
      status: 431,
      reason: "Request Header Fields Too Large",
      detail: "Request header fields too large: send fewer or shorter headers",
    };
  }
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return {
      status: 408,
      reason: "Request Timeout",
      detail: "Request timed out: the request was not received in time",
    };
  }
  return { status: 400, reason: "Bad Request", detail: "Bad request: the HTTP request could not be parsed" };
}

/**
 * Node's parser rejected the bytes before any route saw them (malformed request line, headers too
 * large, a request that never finished). Answer like every other error, `{"detail"}` with a
 * Content-Length, then close: the connection's framing can no longer be trusted.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, reason, detail } = describeClientError(error);
  const body = JSON.stringify({ detail });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function resolveOptions(options: ServerOptions, dataDir: string): ResolvedServerOptions {
  return {
    port: checkPort(options.port),
    host: options.host ?? DEFAULT_HOST,
    dataDir,
    sessionTtlSeconds: positive("sessionTtlSeconds", options.sessionTtlSeconds, DEFAULT_SESSION_TTL_SECONDS),
    logRequests: options.logRequests ?? false,
    jwt: options.jwt ?? false,
    jwtTtlSeconds: positive("jwtTtlSeconds", options.jwtTtlSeconds, DEFAULT_JWT_TTL_SECONDS, true),
    clientConfig: { ...options.clientConfig },
    dynamicConfig: { refresh_interval_sec: 300, ...options.dynamicConfig },
    models: servedModels(options.models),
    longPollHoldMs: positive("longPollHoldMs", options.longPollHoldMs, DEFAULT_LONG_POLL_HOLD_MS),
    metadataOnlyAboveBytes: nonNegativeOrUndefined("metadataOnlyAboveBytes", options.metadataOnlyAboveBytes),
    bodyLimitBytes: positive("bodyLimitBytes", options.bodyLimitBytes, DEFAULT_BODY_LIMIT_BYTES, true),
    recordHeaders: checkRecordHeaders(options.recordHeaders),
    requestLogCapacity: positive(
      "requestLogCapacity",
      options.requestLogCapacity,
      DEFAULT_REQUEST_LOG_CAPACITY,
      true,
    ),
    requestTimeoutMs: positive(
      "requestTimeoutMs",
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      true,
    ),
    rest: resolveRestOptions(options),
    training: resolveTrainingOptions(options),
  };
}

/**
 * Starts a tinker-local in this process and resolves once it listens. Throws a `RangeError` for a
 * bad option, and rejects when the port is taken or the data directory cannot be opened.
 */
export async function startServer(options: ServerOptions = {}): Promise<LocalServer> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  // Validate everything that can be wrong before creating anything on disk.
  const { jwtTtlSeconds } = resolveOptions(options, "");
  const keys = configuredKeys(options);
  const auth = new Authenticator({ keys, jwtTtlSeconds, clock });
  const temporaryDataDir = options.dataDir === undefined;
  const dataDir = temporaryDataDir
    ? await mkdtemp(join(tmpdir(), "tinker-local-"))
    : resolve(options.dataDir as string);
  if (!temporaryDataDir) mkdirSync(dataDir, { recursive: true });
  const resolved = resolveOptions(options, dataDir);
  const cleanupDataDir = (): void => {
    if (temporaryDataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  let store: Store;
  try {
    store = openStore(dataDir, { clock, checkpointSweepIntervalMs: resolved.rest.checkpointSweepIntervalMs });
  } catch (error) {
    cleanupDataDir();
    throw error;
  }

  const faults = new FaultInjector();
  const requestLog = new RequestLog(
    resolved.requestLogCapacity,
    resolved.logRequests ? (record) => process.stdout.write(`${formatRequestLine(record)}\n`) : undefined,
  );
  const ctx: RouteContext = {
    options: resolved,
    store,
    faults,
    clock,
    logger,
    sessions: new SessionService(store.sessions, clock, resolved.sessionTtlSeconds * 1000),
    training: new TrainingRuntime({ clock, logger, options: resolved.training }),
    auth,
  };

  const { requestTimeoutMs } = resolved;
  const app = Fastify({
    logger: false,
    bodyLimit: resolved.bodyLimitBytes,
    // Node checks for expired requests every `connectionsCheckingInterval` (30 s by default), which
    // would let a short timeout run up to 30 s late; check a few times per timeout instead.
    requestTimeout: requestTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(requestTimeoutMs / 4))),
    },
    // close() must not wait for held or hanging requests.
    forceCloseConnections: true,
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
  });
  app.decorateRequest("user", null);
  installBodyParsers(app);
  installErrorHandling(app, logger);

  const recordNoResponse = (request: FastifyRequest, lostStatus?: number): void =>
    requestLog.add({
      ...describeRequest(request, resolved.recordHeaders),
      status: 0,
      lostStatus: lostStatus ?? null,
      durationMs: 0,
      time: clock.now(),
    });
  // Faults first: they must fire whatever the credentials.
  app.addHook("onRequest", (request, reply) => faults.apply(request, reply, recordNoResponse));
  app.addHook("onRequest", async (request) => {
    if (request.is404 || request.routeOptions.config.auth === false) return;
    request.user = await auth.authenticate(presentedCredential(request));
  });
  app.addHook("onSend", async (request, reply, payload) => {
    faults.dropAnswer(request, reply, recordNoResponse);
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    if (faults.isLosingAnswer(request)) return;
    requestLog.add({
      ...describeRequest(request, resolved.recordHeaders),
      status: reply.statusCode,
      lostStatus: null,
      durationMs: reply.elapsedTime,
      time: clock.now(),
    });
  });

  for (const group of ROUTE_GROUPS) group(app, ctx);

  try {
    await app.listen({ port: resolved.port, host: resolved.host });
  } catch (error) {
    await app.close().catch(() => {});
    store.close();
    cleanupDataDir();
    throw error;
  }

  if (auth.usingDefaultKey) {
    logger.warn(`no API key configured: accepting the documented local key ${DEFAULT_LOCAL_API_KEY}`);
  }
  const unprefixed = keys.filter((key) => !key.startsWith("tml-")).length;
  if (unprefixed > 0) {
    logger.warn(
      `${unprefixed} configured key(s) do not start with "tml-"; the official Python client refuses such keys`,
    );
  }

  const { port } = app.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl(resolved.host)}:${port}`,
    port,
    host: resolved.host,
    dataDir,
    store,
    faults,
    futures: ctx.training.futures.controls,
    models: ctx.training.modelControls,
    usingDefaultKey: auth.usingDefaultKey,
    requests: () => requestLog.list(),
    clearRequests: () => requestLog.clear(),
    close: () => {
      closing ??= (async () => {
        faults.releaseAll();
        try {
          await app.close();
        } finally {
          store.close();
          cleanupDataDir();
        }
      })();
      return closing;
    },
  };
}
