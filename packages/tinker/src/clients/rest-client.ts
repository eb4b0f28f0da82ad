// RestClient: runs, checkpoints, sessions, samplers, audit and billing over REST (contract 3.3-3.7,
// 3.12). It is session-less: it needs only start-up steps 1-3 (client/config, the JWT exchange,
// dynamic_config), never creates a session and sends no heartbeat. Get one from
// `serviceClient.createRestClient()` (sharing that client's session-less connection) or construct it
// on its own with the same options as a ServiceClient.
//
// Inputs are checked before anything is sent (ids, tinker paths, TTLs, billing ranges, paging);
// list calls send exactly the contract's defaults and page with `for await`.

import { checkPageRequest, PagePromise } from "../api/paging.js";
import * as rest from "../api/rest.js";
import {
  type AccessScope,
  type ArchiveUrl,
  type AuditLogEntry,
  archiveUrlBody,
  type BillingUsage,
  type Checkpoint,
  type SamplerInfo,
  type SessionInfo,
  type TrainingRun,
  type WeightsInfo,
} from "../api/rest-schemas.js";
import type { CallOptions } from "../api/service.js";
import { ApiKeyAuth, decodeClaims, type Identity, identityFromClaims } from "../client/auth.js";
import {
  APIError,
  ClientClosedError,
  ConflictError,
  InternalServerError,
  makeAPIError,
  NotFoundError,
  ResponseValidationError,
  TinkerError,
  ValidationError,
} from "../client/errors.js";
import type { HttpClient } from "../client/http.js";
import { type ClientOptions, resolveOptions } from "../client/options.js";
import { abortableSleep, sleep } from "../client/wait.js";
import {
  type ArchiveDownloadOptions,
  CHECKPOINT_FILES,
  type DownloadResult,
  downloadArchive,
} from "../download/download.js";
import { targetState } from "../download/target.js";
import { pathSegment } from "../paths/segments.js";
import { parseTinkerPath, TINKER_SCHEME, type TinkerPath } from "../paths/tinker-path.js";
import { type Connection, connect } from "../session/connection.js";

/** Per-call options of every RestClient method: an AbortSignal, a timeout, extra headers. */
export type RestCallOptions = CallOptions;

/** Something that hands out the session-less connection (a ServiceClient does). */
export interface ConnectionSource {
  connection(): Promise<Connection>;
}

/** Paging and filters of `RestClient.listTrainingRuns`. */
export interface ListTrainingRunsParams {
  /** Page size. Default 20 (contract). */
  limit?: number;
  /** Runs to skip before the first page. Default 0. */
  offset?: number;
  /** Default "owned". */
  accessScope?: AccessScope;
  /** Only runs whose session is in this project. */
  projectId?: string;
}

/** Paging of `RestClient.listUserCheckpoints`. */
export interface ListUserCheckpointsParams {
  /** Page size. Default 100 (contract). */
  limit?: number;
  /** Checkpoints to skip before the first page. Default 0. */
  offset?: number;
}

/** Paging and scope of `RestClient.listSessions`. */
export interface ListSessionsParams {
  /** Page size. Default 20 (contract). */
  limit?: number;
  /** Sessions to skip before the first page. Default 0. */
  offset?: number;
  /** Default "owned". */
  accessScope?: AccessScope;
}

/** What `onWait` is told while a checkpoint archive is still being built (HTTP 503). */
export interface ArchiveWaitInfo {
  /** The attempt that was answered "still building" (1-based). */
  pass: number;
  /** Attempts allowed in all (`archiveMaxPasses`). */
  maxPasses: number;
  /** How long the client waits now before asking again. */
  waitMs: number;
  /** Time since the first attempt. */
  elapsedMs: number;
}

/** Options of `RestClient.getCheckpointArchiveUrl`: how long to wait for an archive being built. */
export interface ArchiveUrlOptions extends RestCallOptions {
  /** Wait between attempts while the server answers 503 "still building". Default 30 000 ms. */
  archiveWaitMs?: number;
  /** Attempts in all before giving up. Default 6 (contract 3.3). */
  archiveMaxPasses?: number;
  /** Called before each wait. */
  onWait?: (info: ArchiveWaitInfo) => void;
}

/** Options of `RestClient.downloadCheckpoint`. */
export interface DownloadCheckpointOptions extends ArchiveUrlOptions {
  /** Called as bytes arrive (once at the start, then once per received chunk). */
  onProgress?: ArchiveDownloadOptions["onProgress"];
  /** Replace a non-empty target directory. Default false. */
  force?: boolean;
  /** Fail the download when no bytes arrive for this long. Default 60 000 ms. */
  idleTimeout?: number;
  /** fetch for the signed URL (no credentials are ever added). Default globalThis.fetch. */
  fetch?: typeof fetch;
}

/** Options of `RestClient.exportSessionTrace`. */
export interface TraceExportOptions extends RestCallOptions {
  /** Pause between polls while the export is pending. Default 5000 ms. */
  pollIntervalMs?: number;
  /** Called after each "pending" answer. */
  onPending?: (polls: number) => void;
}

/** The time range of `RestClient.getBillingUsage`: whole UTC hours, at most 14 days. */
export interface BillingRange {
  /** Inclusive start: a Date or RFC 3339 text, on a UTC hour. */
  startingOn: Date | string;
  /** Exclusive end: on a UTC hour, later than the start, at most 14 days after it. */
  endingBefore: Date | string;
}

/** The server reported that a session trace export failed. */
export class TraceExportFailedError extends TinkerError {
  override name = "TraceExportFailedError";
  /** The session whose trace could not be exported. */
  readonly sessionId: string;
  /** The server's reason, when it gave one. */
  readonly detail: string | undefined;
  /** The message names the session and includes `detail`. */
  constructor(sessionId: string, detail: string | undefined) {
    super(`The trace export of session ${sessionId} failed${detail ? `: ${detail}` : ""}`);
    this.sessionId = sessionId;
    this.detail = detail;
  }
}

export const DEFAULT_ARCHIVE_WAIT_MS = 30_000;
export const DEFAULT_ARCHIVE_MAX_PASSES = 6;
export const DEFAULT_TRACE_POLL_MS = 5_000;
const ARCHIVE_URL_FALLBACK_TTL_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
const MAX_BILLING_RANGE_MS = 14 * 24 * HOUR_MS;

function checkScope(scope: AccessScope | undefined): AccessScope {
  const value = scope ?? "owned";
  if (value !== "owned" && value !== "accessible") {
    throw new ValidationError(
      `accessScope must be "owned" or "accessible", got ${JSON.stringify(value)}`,
      "accessScope",
    );
  }
  return value;
}

function checkpointRef(path: string): TinkerPath {
  return parseTinkerPath(path, "path");
}

function conflictWithMeaning(error: unknown, message: string): unknown {
  if (!(error instanceof ConflictError)) return error;
  const detail = APIError.detailOf(error.body);
  return new ConflictError(error.status, error.body, error.headers, {
    method: error.method,
    path: error.path,
    message: detail && !/already/i.test(detail) ? `${message} (server: ${detail})` : message,
  });
}

function toBillingTime(value: Date | string, field: string): number {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === "string" &&
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)
        ? Date.parse(value)
        : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(
      `${field} must be a Date or an RFC 3339 time with a zone, such as 2026-01-01T00:00:00Z; got ${JSON.stringify(
        value instanceof Date ? "Invalid Date" : value,
      )}`,
      field,
    );
  }
  if (ms % HOUR_MS !== 0) {
    throw new ValidationError(
      `${field} must be on a UTC hour (minutes and seconds zero), got ${new Date(ms).toISOString()}`,
      field,
    );
  }
  return ms;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

function checkDay(day: string | Date | undefined): string | undefined {
  if (day === undefined) return undefined;
  if (day instanceof Date) {
    if (Number.isNaN(day.getTime())) throw new ValidationError("day is an invalid Date", "day");
    return day.toISOString().slice(0, 10);
  }
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  const ok = !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day;
  if (!ok) throw new ValidationError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day)}`, "day");
  return day;
}

/**
 * The REST side of Tinker: training runs, checkpoints (list, publish, TTL, archive download),
 * sessions, samplers, the audit log and billing usage. Session-less (no heartbeat). Get one from
 * `serviceClient.createRestClient()` or construct it with the same options as a ServiceClient.
 * Bad ids, paths and ranges throw `ValidationError` before anything is sent.
 */
export class RestClient {
  readonly #source: ConnectionSource;
  readonly #owned: { close(): void } | undefined;
  #closed = false;

  /**
   * A standalone REST client with ServiceClient options (key, base URL, timeouts, ...). Throws a
   * ValidationError when they are unusable. `source` is internal: ServiceClient.createRestClient().
   */
  constructor(options: ClientOptions = {}, source?: ConnectionSource) {
    if (source) {
      this.#source = source;
      this.#owned = undefined;
      return;
    }
    const resolved = resolveOptions(options);
    let pending: Promise<Connection> | undefined;
    let conn: Connection | undefined;
    const lifetime = new AbortController();
    this.#source = {
      connection: () => {
        if (this.#closed) return Promise.reject(new ClientClosedError("This RestClient is closed."));
        pending ??= connect(resolved, { signal: lifetime.signal }).then(
          (c) => {
            conn = c;
            return c;
          },
          (error: unknown) => {
            pending = undefined;
            throw error;
          },
        );
        return pending;
      },
    };
    this.#owned = {
      close: () => {
        lifetime.abort(new ClientClosedError("This RestClient is closed."));
        conn?.close();
      },
    };
  }

  /** Stops JWT refresh timers of a standalone client. A client from a ServiceClient is closed with it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#owned?.close();
  }

  private async http(): Promise<HttpClient> {
    if (this.#closed) throw new ClientClosedError("This RestClient is closed.");
    return (await this.#source.connection()).http;
  }

  // ---- training runs ----

  /** Training runs, newest first; await for the first page or `for await` over all of them. */
  listTrainingRuns(
    params: ListTrainingRunsParams = {},
    options: RestCallOptions = {},
  ): PagePromise<TrainingRun> {
    const first = checkPageRequest(params.limit ?? 20, params.offset ?? 0);
    const accessScope = checkScope(params.accessScope);
    const projectId = params.projectId;
    if (projectId !== undefined && (typeof projectId !== "string" || projectId === "")) {
      throw new ValidationError("projectId must be a non-empty string when given", "projectId");
    }
    return new PagePromise(first, async (page) =>
      rest.listTrainingRuns(await this.http(), { ...page, accessScope, projectId }, options),
    );
  }

  /** One run, by its id or by a tinker path of one of its checkpoints. */
  async getTrainingRun(
    runIdOrPath: string,
    params: { accessScope?: AccessScope } = {},
    options: RestCallOptions = {},
  ): Promise<TrainingRun> {
    const runId =
      typeof runIdOrPath === "string" && runIdOrPath.startsWith(TINKER_SCHEME)
        ? parseTinkerPath(runIdOrPath, "runIdOrPath").runId
        : pathSegment(runIdOrPath, "runId");
    const scope = checkScope(params.accessScope);
    return rest.getTrainingRun(await this.http(), runId, scope, options);
  }

  // ---- checkpoints ----

  /** A run's checkpoints. Unpaged on the wire: the one page holds them all. */
  listCheckpoints(runId: string, options: RestCallOptions = {}): PagePromise<Checkpoint> {
    const id = pathSegment(runId, "runId");
    return new PagePromise({ limit: Number.MAX_SAFE_INTEGER, offset: 0 }, async () => {
      const items = await rest.listRunCheckpoints(await this.http(), id, options);
      return { items, totalCount: items.length };
    });
  }

  /** The caller's checkpoints across runs, newest first (pages of 100 by default). */
  listUserCheckpoints(
    params: ListUserCheckpointsParams = {},
    options: RestCallOptions = {},
  ): PagePromise<Checkpoint> {
    const first = checkPageRequest(params.limit ?? 100, params.offset ?? 0);
    return new PagePromise(first, async (page) => rest.listUserCheckpoints(await this.http(), page, options));
  }

  /**
   * One checkpoint by tinker path: found in its run's checkpoint list (there is no single-checkpoint
   * endpoint). NotFoundError when the run has no such checkpoint.
   */
  async getCheckpoint(path: string, options: RestCallOptions = {}): Promise<Checkpoint> {
    const ref = checkpointRef(path);
    const all = await rest.listRunCheckpoints(await this.http(), ref.runId, options);
    const found = all.find((c) => c.tinkerPath === path || c.checkpointId === ref.checkpointId);
    if (!found) {
      throw new NotFoundError(404, { detail: `Checkpoint not found: ${path}` }, new Headers(), {
        message: `Checkpoint not found: ${path} (run ${ref.runId} has ${all.length} listed checkpoint(s))`,
      });
    }
    return found;
  }

  /** Deletes the checkpoint at `path` (a `tinker://` path you own). NotFoundError when there is none. */
  async deleteCheckpoint(path: string, options: RestCallOptions = {}): Promise<void> {
    const ref = checkpointRef(path);
    await rest.deleteCheckpoint(await this.http(), ref, options);
  }

  /** Makes a checkpoint public. ConflictError at once (not retried) when it already is. */
  async publishCheckpoint(path: string, options: RestCallOptions = {}): Promise<void> {
    const ref = checkpointRef(path);
    try {
      await rest.publishCheckpoint(await this.http(), ref, options);
    } catch (error) {
      throw conflictWithMeaning(error, `Checkpoint ${path} is already public`);
    }
  }

  /** Makes a checkpoint private. ConflictError at once (not retried) when it already is. */
  async unpublishCheckpoint(path: string, options: RestCallOptions = {}): Promise<void> {
    const ref = checkpointRef(path);
    try {
      await rest.unpublishCheckpoint(await this.http(), ref, options);
    } catch (error) {
      throw conflictWithMeaning(error, `Checkpoint ${path} is already private`);
    }
  }

  /** Expires the checkpoint `ttlSeconds` from now; null removes the expiry. */
  async setCheckpointTtl(
    path: string,
    ttlSeconds: number | null,
    options: RestCallOptions = {},
  ): Promise<void> {
    const ref = checkpointRef(path);
    if (
      ttlSeconds !== null &&
      (typeof ttlSeconds !== "number" || !Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0)
    ) {
      throw new ValidationError(
        `ttlSeconds must be a whole number of seconds > 0, or null to remove the expiry; got ${String(ttlSeconds)}`,
        "ttlSeconds",
      );
    }
    await rest.setCheckpointTtl(await this.http(), ref, ttlSeconds, options);
  }

  /**
   * A signed download URL for the checkpoint's archive. While the server answers 503 ("still
   * building") it waits `archiveWaitMs` (30 s) and asks again, `archiveMaxPasses` (6) times in all;
   * each attempt also has the HTTP layer's own retries.
   */
  async getCheckpointArchiveUrl(path: string, options: ArchiveUrlOptions = {}): Promise<ArchiveUrl> {
    const ref = checkpointRef(path);
    const { archiveWaitMs, archiveMaxPasses, onWait, ...call } = options;
    const waitMs = archiveWaitMs ?? DEFAULT_ARCHIVE_WAIT_MS;
    const maxPasses = archiveMaxPasses ?? DEFAULT_ARCHIVE_MAX_PASSES;
    if (!Number.isFinite(waitMs) || waitMs < 0)
      throw new ValidationError("archiveWaitMs must be >= 0", "archiveWaitMs");
    if (!Number.isSafeInteger(maxPasses) || maxPasses < 1) {
      throw new ValidationError("archiveMaxPasses must be a whole number >= 1", "archiveMaxPasses");
    }
    const http = await this.http();
    const started = http.clock.now();
    for (let pass = 1; ; pass++) {
      try {
        return await this.archiveUrlOnce(http, ref, call);
      } catch (error) {
        if (!(error instanceof InternalServerError) || error.status !== 503) throw error;
        const elapsedMs = http.clock.now() - started;
        if (pass >= maxPasses) {
          throw makeAPIError(503, error.body, error.headers, {
            method: error.method,
            path: error.path,
            message:
              `The archive of ${path} was still being built after ${maxPasses} attempts ` +
              `(${Math.round(elapsedMs / 1000)} s); try again later. Server: ${APIError.detailOf(error.body) || "503"}`,
          });
        }
        if (pass === 1) http.logger.info(`The archive of ${path} is being built; this may take a while`);
        else if (pass === 5) http.logger.warn(`The archive of ${path} is still being built`);
        onWait?.({ pass, maxPasses, waitMs, elapsedMs });
        await abortableSleep((ms, signal) => sleep(http.clock, ms, signal), waitMs, call.signal);
      }
    }
  }

  private async archiveUrlOnce(
    http: HttpClient,
    ref: TinkerPath,
    call: RestCallOptions,
  ): Promise<ArchiveUrl> {
    const res = await rest.requestCheckpointArchive(http, ref, call);
    const response = res.data;
    const where = `GET .../checkpoints/${ref.checkpointId}/archive`;
    if (res.status >= 300 && res.status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = res.headers.get("location");
      if (!location) {
        throw new ResponseValidationError(
          `The server answered ${res.status} without a Location header (${where})`,
        );
      }
      const url = new URL(location, http.url("/")).toString();
      const expiresHeader = res.headers.get("expires");
      const parsed = expiresHeader ? Date.parse(expiresHeader) : Number.NaN;
      const expires = new Date(
        Number.isNaN(parsed) ? http.clock.now() + ARCHIVE_URL_FALLBACK_TTL_MS : parsed,
      );
      return { url, expires };
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ResponseValidationError(
        `Expected JSON {url, expires} from ${where}, got: ${text.slice(0, 200)}`,
      );
    }
    const checked = archiveUrlBody.safeParse(json);
    if (!checked.success) {
      const issues = checked.error.issues
        .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
        .join("; ");
      throw new ResponseValidationError(`Unexpected response from ${where}: ${issues}`);
    }
    return { url: checked.data.url, expires: checked.data.expires };
  }

  /**
   * Downloads a checkpoint's archive and extracts it into `dir` (atomically: see docs). The target is
   * checked before anything is sent; a non-empty one is refused unless `force`.
   */
  async downloadCheckpoint(
    path: string,
    dir: string,
    options: DownloadCheckpointOptions = {},
  ): Promise<DownloadResult> {
    checkpointRef(path);
    if (typeof dir !== "string" || dir === "")
      throw new ValidationError("dir must be a directory path", "dir");
    const { onProgress, force, idleTimeout, fetch: fetchImpl, ...urlOptions } = options;
    await targetState(dir, force ?? false);
    const { url } = await this.getCheckpointArchiveUrl(path, urlOptions);
    return downloadArchive(url, dir, {
      requiredFiles: CHECKPOINT_FILES,
      ...(urlOptions.signal ? { signal: urlOptions.signal } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(force !== undefined ? { force } : {}),
      ...(idleTimeout !== undefined ? { idleTimeout } : {}),
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    });
  }

  /** What a checkpoint was trained from (works for other users' public checkpoints). */
  async getWeightsInfo(tinkerPath: string, options: RestCallOptions = {}): Promise<WeightsInfo> {
    checkpointRef(tinkerPath);
    return rest.getWeightsInfo(await this.http(), tinkerPath, options);
  }

  // ---- sessions and samplers ----

  /** Session ids (no cursor: a short page ends the listing). */
  listSessions(params: ListSessionsParams = {}, options: RestCallOptions = {}): PagePromise<string> {
    const first = checkPageRequest(params.limit ?? 20, params.offset ?? 0);
    const accessScope = checkScope(params.accessScope);
    return new PagePromise(first, async (page) =>
      rest.listSessions(await this.http(), { ...page, accessScope }, options),
    );
  }

  /** The training runs and samplers created in a session. `accessScope` defaults to "owned". */
  async getSession(
    sessionId: string,
    params: { accessScope?: AccessScope } = {},
    options: RestCallOptions = {},
  ): Promise<SessionInfo> {
    const id = pathSegment(sessionId, "sessionId");
    const scope = checkScope(params.accessScope);
    const info = await rest.getSession(await this.http(), id, scope, options);
    return { sessionId: id, ...info };
  }

  /** Puts a session into a project. A session cannot be moved out of a project once in one. */
  async assignSessionProject(
    sessionId: string,
    projectId: string,
    options: RestCallOptions = {},
  ): Promise<void> {
    const id = pathSegment(sessionId, "sessionId");
    if (typeof projectId !== "string" || projectId === "") {
      throw new ValidationError("projectId must be a non-empty string", "projectId");
    }
    await rest.assignSessionProject(await this.http(), id, projectId, options);
  }

  /**
   * Starts (or reuses) the server-side trace export of a session and polls every `pollIntervalMs`
   * (5 s) until it is ready; returns the signed URL of the trace. No overall deadline (contract
   * 3.5): pass a `signal` to stop. TraceExportFailedError when the server reports failure.
   */
  async exportSessionTrace(sessionId: string, options: TraceExportOptions = {}): Promise<string> {
    const id = pathSegment(sessionId, "sessionId");
    const { pollIntervalMs, onPending, ...call } = options;
    const interval = pollIntervalMs ?? DEFAULT_TRACE_POLL_MS;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new ValidationError("pollIntervalMs must be >= 0", "pollIntervalMs");
    }
    const http = await this.http();
    for (let polls = 1; ; polls++) {
      const answer = await rest.pollTraceExport(http, id, call);
      if (answer.status === "ready") {
        if (!answer.url) {
          throw new ResponseValidationError(`The trace export of session ${id} is ready but has no url`);
        }
        return answer.url;
      }
      if (answer.status === "failed") throw new TraceExportFailedError(id, answer.error);
      onPending?.(polls);
      await abortableSleep((ms, signal) => sleep(http.clock, ms, signal), interval, call.signal);
    }
  }

  /** What a sampling session samples from (base model and, if any, the checkpoint path). */
  async getSampler(samplerId: string, options: RestCallOptions = {}): Promise<SamplerInfo> {
    return rest.getSampler(await this.http(), samplerId, options);
  }

  // ---- audit, billing, identity ----

  /** The checkpoint audit log of one UTC day (default today). Needs the tinker-admin role. */
  async getAuditLog(
    params: { eventType?: "all" | "checkpoints"; day?: string | Date } = {},
    options: RestCallOptions = {},
  ): Promise<AuditLogEntry[]> {
    const eventType = params.eventType ?? "all";
    if (eventType !== "all" && eventType !== "checkpoints") {
      throw new ValidationError(
        `eventType must be "all" or "checkpoints", got ${JSON.stringify(eventType)}`,
        "eventType",
      );
    }
    return rest.getAuditLog(await this.http(), { eventType, day: checkDay(params.day) }, options);
  }

  /**
   * Usage in hourly buckets. Checked before sending: both ends on a UTC hour, the end after the
   * start, at most 14 days apart, the start not in the future.
   */
  async getBillingUsage(range: BillingRange, options: RestCallOptions = {}): Promise<BillingUsage> {
    const start = toBillingTime(range?.startingOn, "startingOn");
    const end = toBillingTime(range?.endingBefore, "endingBefore");
    if (end <= start) throw new ValidationError("endingBefore must be later than startingOn", "endingBefore");
    if (end - start > MAX_BILLING_RANGE_MS) {
      throw new ValidationError(
        `startingOn and endingBefore must be at most 14 days apart; they are ${((end - start) / (24 * HOUR_MS)).toFixed(1)} days apart`,
        "endingBefore",
      );
    }
    const http = await this.http();
    if (start > http.clock.now()) {
      throw new ValidationError(`startingOn must not be in the future (${rfc3339(start)})`, "startingOn");
    }
    return rest.getBillingUsage(http, { startingOn: rfc3339(start), endingBefore: rfc3339(end) }, options);
  }

  /**
   * Who the credential belongs to, from the JWT the client holds (contract 3.12); no request beyond
   * start-up. Fails with a ValidationError when the server is not in JWT mode and the key is not a
   * Tinker-issued ("passport-") JWT.
   */
  async whoami(): Promise<Identity> {
    const conn = await this.#source.connection();
    if (conn.jwt) return conn.jwt.whoami();
    const auth = conn.http.auth;
    const key = auth instanceof ApiKeyAuth ? await auth.apiKey() : undefined;
    const claims = key?.startsWith("eyJ") ? decodeClaims(key) : undefined;
    const issuer = claims?.iss;
    if (claims && typeof issuer === "string" && issuer.startsWith("passport-"))
      return identityFromClaims(claims);
    throw new ValidationError(
      "whoami needs a JWT: this server does not use JWT auth (client/config pjwt_auth_enabled is false) and the " +
        "API key is not a Tinker-issued JWT, so the client holds no identity claims.",
      "apiKey",
    );
  }
}

/**
 * Downloads a checkpoint without keeping a client around: uses `client` when given, else a
 * temporary RestClient built from `clientOptions` (or the environment) and closed afterwards.
 */
export async function downloadCheckpoint(
  path: string,
  dir: string,
  options: DownloadCheckpointOptions & { client?: RestClient; clientOptions?: ClientOptions } = {},
): Promise<DownloadResult> {
  const { client, clientOptions, ...rest } = options;
  const owned = client ? undefined : new RestClient(clientOptions ?? {});
  try {
    return await (client ?? (owned as RestClient)).downloadCheckpoint(path, dir, rest);
  } finally {
    await owned?.close();
  }
}
