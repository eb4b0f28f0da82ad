// RestClient: runs, checkpoints, sessions, samplers, audit and billing over REST (contract 3.3-3.7,
// 3.12). It is session-less: it needs only start-up steps 1-3 (client/config, the JWT exchange,
// dynamic_config), never creates a session and sends no heartbeat. Get one from
// `serviceClient.createRestClient()` (sharing that client's session-less connection) or construct it
// on its own with the same options as a ServiceClient (connection.ts).
//
// Inputs are checked before anything is sent (params.ts: ids, tinker paths, TTLs, billing ranges,
// paging); list calls send exactly the contract's defaults and page with `for await`. The two
// waits live in archive-url.ts and trace-export.ts.

import { checkPageRequest, PagePromise } from "../../api/paging.js";
import * as rest from "../../api/rest.js";
import type {
  AccessScope,
  ArchiveUrl,
  AuditLogEntry,
  BillingUsage,
  Checkpoint,
  SamplerInfo,
  SessionInfo,
  TrainingRun,
  WeightsInfo,
} from "../../api/rest-schemas.js";
import { ApiKeyAuth, type Identity, identityFromClaims, readClaims } from "../../client/auth.js";
import { ClientClosedError, NotFoundError, ValidationError } from "../../client/errors.js";
import type { HttpClient } from "../../client/http.js";
import type { ClientOptions } from "../../client/options.js";
import { CHECKPOINT_FILES, type DownloadResult, downloadArchive } from "../../download/download.js";
import { targetState } from "../../download/target.js";
import { pathSegment } from "../../paths/segments.js";
import { parseTinkerPath, TINKER_SCHEME } from "../../paths/tinker-path.js";
import { captureFailures, reportingFailures } from "../../telemetry/capture.js";
import type { Telemetry } from "../../telemetry/telemetry.js";
import { checkArchiveWaitOptions, waitForArchiveUrl } from "./archive-url.js";
import { type ConnectionSource, ownConnection } from "./connection.js";
import {
  checkBillingRange,
  checkCheckpointTtl,
  checkDay,
  checkProjectId,
  checkpointRef,
  checkScope,
  conflictWithMeaning,
  rfc3339,
} from "./params.js";
import { checkTracePollInterval, pollTraceExport } from "./trace-export.js";
import type {
  ArchiveUrlOptions,
  BillingRange,
  DownloadCheckpointOptions,
  ListSessionsParams,
  ListTrainingRunsParams,
  ListUserCheckpointsParams,
  RestCallOptions,
  TraceExportOptions,
} from "./types.js";

/**
 * The REST side of Tinker: training runs, checkpoints (list, publish, TTL, archive download),
 * sessions, samplers, the audit log and billing usage. Session-less (no heartbeat). Get one from
 * `serviceClient.createRestClient()` or construct it with the same options as a ServiceClient.
 * Bad ids, paths and ranges throw `ValidationError` before anything is sent.
 */
export class RestClient {
  readonly #source: ConnectionSource;
  readonly #owned: { close(): Promise<void> } | undefined;
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
    const own = ownConnection(options, () => this.#closed);
    this.#source = own.source;
    this.#owned = own;
  }

  /**
   * Sends what telemetry has queued and stops JWT refresh timers of a standalone client. A client
   * from a ServiceClient is closed with it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#owned?.close();
  }

  /**
   * The session-less telemetry (Python's `get_telemetry()`, events under `sessionless-<uuid>`) that
   * failed calls are reported to; undefined before the first request and when telemetry is off.
   */
  getTelemetry(): Telemetry | undefined {
    return this.#source.sessionlessTelemetry();
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
    checkProjectId(projectId, false);
    return new PagePromise(
      first,
      reportingFailures(this, async (page) =>
        rest.listTrainingRuns(await this.http(), { ...page, accessScope, projectId }, options),
      ),
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
    return new PagePromise(
      { limit: Number.MAX_SAFE_INTEGER, offset: 0 },
      reportingFailures(this, async () => {
        const items = await rest.listRunCheckpoints(await this.http(), id, options);
        return { items, totalCount: items.length };
      }),
    );
  }

  /** The caller's checkpoints across runs, newest first (pages of 100 by default). */
  listUserCheckpoints(
    params: ListUserCheckpointsParams = {},
    options: RestCallOptions = {},
  ): PagePromise<Checkpoint> {
    const first = checkPageRequest(params.limit ?? 100, params.offset ?? 0);
    return new PagePromise(
      first,
      reportingFailures(this, async (page) => rest.listUserCheckpoints(await this.http(), page, options)),
    );
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
    checkCheckpointTtl(ttlSeconds);
    await rest.setCheckpointTtl(await this.http(), ref, ttlSeconds, options);
  }

  /**
   * A signed download URL for the checkpoint's archive. While the server answers 503 ("still
   * building") it waits `archiveWaitMs` (30 s) and asks again, `archiveMaxPasses` (6) times in all;
   * each attempt also has the HTTP layer's own retries.
   */
  async getCheckpointArchiveUrl(path: string, options: ArchiveUrlOptions = {}): Promise<ArchiveUrl> {
    const ref = checkpointRef(path);
    checkArchiveWaitOptions(options);
    return waitForArchiveUrl(await this.http(), path, ref, options);
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
    return new PagePromise(
      first,
      reportingFailures(this, async (page) =>
        rest.listSessions(await this.http(), { ...page, accessScope }, options),
      ),
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
    checkProjectId(projectId, true);
    await rest.assignSessionProject(await this.http(), id, projectId, options);
  }

  /**
   * Starts (or reuses) the server-side trace export of a session and polls every `pollIntervalMs`
   * (5 s) until it is ready; returns the signed URL of the trace. No overall deadline (contract
   * 3.5): pass a `signal` to stop. TraceExportFailedError when the server reports failure.
   */
  async exportSessionTrace(sessionId: string, options: TraceExportOptions = {}): Promise<string> {
    const id = pathSegment(sessionId, "sessionId");
    checkTracePollInterval(options);
    return pollTraceExport(await this.http(), id, options);
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
    const { start, end } = checkBillingRange(range);
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
    const claims = key?.startsWith("eyJ") ? await readClaims(key) : undefined;
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

// Failures of these calls go to the session-less telemetry, as Python's @capture_exceptions(fatal=True);
// the list calls report through their page fetcher (reportingFailures), so every page is covered.
captureFailures(RestClient, [
  "getTrainingRun",
  "getCheckpoint",
  "deleteCheckpoint",
  "publishCheckpoint",
  "unpublishCheckpoint",
  "setCheckpointTtl",
  "getCheckpointArchiveUrl",
  "downloadCheckpoint",
  "getWeightsInfo",
  "getSession",
  "assignSessionProject",
  "exportSessionTrace",
  "getSampler",
  "getAuditLog",
  "getBillingUsage",
  "whoami",
]);

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
