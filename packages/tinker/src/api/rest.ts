// Thin endpoint functions for the REST side (contract master table rows 18-34): each builds one
// path, query and body, calls the HTTP core and converts the checked response. No other module
// builds these paths. Ids arrive already checked (paths/segments.ts) because they go into the path
// unescaped (contract 1.4); the checkpoint id keeps its inner '/'.

import type { HttpClient, HttpResponse } from "../client/http.js";
import { pathSegment } from "../paths/segments.js";
import type { PageData } from "./paging.js";
import {
  type AccessScope,
  type AuditLogEntry,
  auditLogResponse,
  type BillingUsage,
  billingUsageResponse,
  type Checkpoint,
  checkpointsListResponse,
  getSessionResponse,
  listSessionsResponse,
  type SamplerInfo,
  samplerResponse,
  type TrainingRun,
  toBillingUsage,
  toCheckpoint,
  toTrainingRun,
  toWeightsInfo,
  traceExportResponse,
  trainingRunSchema,
  trainingRunsResponse,
  type WeightsInfo,
  weightsInfoResponse,
} from "./rest-schemas.js";
import type { CallOptions } from "./service.js";

export const REST_PATHS = {
  trainingRuns: "/api/v1/training_runs",
  trainingRun: (runId: string) => `/api/v1/training_runs/${runId}`,
  runCheckpoints: (runId: string) => `/api/v1/training_runs/${runId}/checkpoints`,
  checkpoint: (runId: string, checkpointId: string) =>
    `/api/v1/training_runs/${runId}/checkpoints/${checkpointId}`,
  userCheckpoints: "/api/v1/checkpoints",
  sessions: "/api/v1/sessions",
  session: (id: string) => `/api/v1/sessions/${id}`,
  sampler: (id: string) => `/api/v1/samplers/${pathSegment(id, "samplerId")}`,
  weightsInfo: "/api/v1/weights_info",
  audit: "/api/v1/audit",
  billingUsage: "/api/v1/billing/usage/events",
} as const;

export interface CheckpointRef {
  runId: string;
  checkpointId: string;
}

/** The checkpoint's path, or that of one of its sub-resources (`/publish`, `/ttl`, `/archive`). */
function checkpointPath(ref: CheckpointRef, subPath = ""): string {
  return `${REST_PATHS.checkpoint(ref.runId, ref.checkpointId)}${subPath}`;
}

export async function listTrainingRuns(
  http: HttpClient,
  query: { limit: number; offset: number; accessScope: AccessScope; projectId?: string | undefined },
  options: CallOptions = {},
): Promise<PageData<TrainingRun>> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.trainingRuns,
    query: {
      limit: query.limit,
      offset: query.offset,
      access_scope: query.accessScope,
      project_id: query.projectId,
    },
    schema: trainingRunsResponse,
    ...options,
  });
  return { items: res.data.training_runs.map(toTrainingRun), totalCount: res.data.cursor.total_count };
}

export async function getTrainingRun(
  http: HttpClient,
  runId: string,
  accessScope: AccessScope,
  options: CallOptions = {},
): Promise<TrainingRun> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.trainingRun(runId),
    query: { access_scope: accessScope },
    schema: trainingRunSchema,
    ...options,
  });
  return toTrainingRun(res.data);
}

/** A run's checkpoints: no query at all, no paging (contract 3.3). */
export async function listRunCheckpoints(
  http: HttpClient,
  runId: string,
  options: CallOptions = {},
): Promise<Checkpoint[]> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.runCheckpoints(runId),
    schema: checkpointsListResponse,
    ...options,
  });
  return res.data.checkpoints.map(toCheckpoint);
}

export async function listUserCheckpoints(
  http: HttpClient,
  query: { limit: number; offset: number },
  options: CallOptions = {},
): Promise<PageData<Checkpoint>> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.userCheckpoints,
    query: { limit: query.limit, offset: query.offset },
    schema: checkpointsListResponse,
    ...options,
  });
  return { items: res.data.checkpoints.map(toCheckpoint), totalCount: res.data.cursor?.total_count };
}

/** For calls whose answer body the contract says to ignore (delete, publish, ttl, project). */
async function send(
  http: HttpClient,
  method: "POST" | "PUT" | "DELETE",
  path: string,
  body: unknown,
  options: CallOptions,
): Promise<void> {
  await http.request({
    method,
    path,
    ...(body === undefined ? {} : { body }),
    responseType: "bytes",
    ...options,
  });
}

export function deleteCheckpoint(
  http: HttpClient,
  ref: CheckpointRef,
  options: CallOptions = {},
): Promise<void> {
  return send(http, "DELETE", checkpointPath(ref), undefined, options);
}

export function publishCheckpoint(
  http: HttpClient,
  ref: CheckpointRef,
  options: CallOptions = {},
): Promise<void> {
  return send(http, "POST", checkpointPath(ref, "/publish"), undefined, options);
}

export function unpublishCheckpoint(
  http: HttpClient,
  ref: CheckpointRef,
  options: CallOptions = {},
): Promise<void> {
  return send(http, "DELETE", checkpointPath(ref, "/publish"), undefined, options);
}

/** `ttl_seconds: null` goes out as JSON null: it removes the expiry (contract 1.4). */
export function setCheckpointTtl(
  http: HttpClient,
  ref: CheckpointRef,
  ttlSeconds: number | null,
  options: CallOptions = {},
): Promise<void> {
  return send(http, "PUT", checkpointPath(ref, "/ttl"), { ttl_seconds: ttlSeconds }, options);
}

/**
 * One request for the archive URL: `Accept: application/json`, redirects not followed. Returns the
 * unread response (302 or 200); error statuses (503 "still building" among them) are thrown.
 */
export function requestCheckpointArchive(
  http: HttpClient,
  ref: CheckpointRef,
  options: CallOptions = {},
): Promise<HttpResponse<Response>> {
  return http.request({
    method: "GET",
    path: checkpointPath(ref, "/archive"),
    accept: "application/json",
    redirect: "manual",
    responseType: "raw",
    ...options,
  });
}

export async function listSessions(
  http: HttpClient,
  query: { limit: number; offset: number; accessScope: AccessScope },
  options: CallOptions = {},
): Promise<PageData<string>> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.sessions,
    query: { limit: query.limit, offset: query.offset, access_scope: query.accessScope },
    schema: listSessionsResponse,
    ...options,
  });
  return { items: res.data.sessions, totalCount: undefined };
}

export async function getSession(
  http: HttpClient,
  sessionId: string,
  accessScope: AccessScope,
  options: CallOptions = {},
): Promise<{ trainingRunIds: string[]; samplerIds: string[] }> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.session(sessionId),
    query: { access_scope: accessScope },
    schema: getSessionResponse,
    ...options,
  });
  return { trainingRunIds: res.data.training_run_ids, samplerIds: res.data.sampler_ids };
}

export function assignSessionProject(
  http: HttpClient,
  sessionId: string,
  projectId: string,
  options: CallOptions = {},
): Promise<void> {
  return send(http, "PUT", `${REST_PATHS.session(sessionId)}/project`, { project_id: projectId }, options);
}

export async function pollTraceExport(
  http: HttpClient,
  sessionId: string,
  options: CallOptions = {},
): Promise<{ status: "pending" | "ready" | "failed"; url: string | undefined; error: string | undefined }> {
  const res = await http.request({
    method: "GET",
    path: `${REST_PATHS.session(sessionId)}/trace_export`,
    schema: traceExportResponse,
    ...options,
  });
  return { status: res.data.status, url: res.data.url ?? undefined, error: res.data.error ?? undefined };
}

export async function getSampler(
  http: HttpClient,
  samplerId: string,
  options: CallOptions = {},
): Promise<SamplerInfo> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.sampler(samplerId),
    schema: samplerResponse,
    ...options,
  });
  return {
    samplerId: res.data.sampler_id,
    baseModel: res.data.base_model,
    modelPath: res.data.model_path ?? undefined,
  };
}

export async function getWeightsInfo(
  http: HttpClient,
  tinkerPath: string,
  options: CallOptions = {},
): Promise<WeightsInfo> {
  const res = await http.request({
    method: "POST",
    path: REST_PATHS.weightsInfo,
    body: { tinker_path: tinkerPath },
    schema: weightsInfoResponse,
    ...options,
  });
  return toWeightsInfo(res.data);
}

export async function getAuditLog(
  http: HttpClient,
  query: { eventType: "all" | "checkpoints"; day: string | undefined },
  options: CallOptions = {},
): Promise<AuditLogEntry[]> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.audit,
    query: { event_type: query.eventType, day: query.day },
    schema: auditLogResponse,
    ...options,
  });
  return res.data.entries.map((e) => ({
    timestamp: e.timestamp,
    event: e.event,
    modelId: e.model_id ?? undefined,
    tinkerPath: e.tinker_path ?? undefined,
    purpose: e.purpose ?? undefined,
  }));
}

export async function getBillingUsage(
  http: HttpClient,
  query: { startingOn: string; endingBefore: string },
  options: CallOptions = {},
): Promise<BillingUsage> {
  const res = await http.request({
    method: "GET",
    path: REST_PATHS.billingUsage,
    query: { starting_on: query.startingOn, ending_before: query.endingBefore },
    schema: billingUsageResponse,
    ...options,
  });
  return toBillingUsage(res.data);
}
