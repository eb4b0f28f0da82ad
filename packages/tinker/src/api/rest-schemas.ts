// Response shapes of the REST endpoints (contract 3.3-3.7, 4.10, 4.11, 4.16), checked with valibot at
// the boundary and turned into the SDK's camelCase types with Date objects. Like the official
// client's strict validation: a missing required field or a wrong type is a ResponseValidationError;
// extra fields are ignored, except inside billing `event_info`, where the contract forbids them.
// Optional fields accept null as well as absence (servers written in Python send null).

import * as v from "valibot";

/** ISO 8601 text as a Date. A time without a zone is read as UTC, as the server means it. */
const wireDate = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const text = dataset.value;
    const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
    const ms = Date.parse(withZone);
    if (Number.isNaN(ms)) {
      addIssue({ message: `not an ISO 8601 date-time: '${text}'` });
      return NEVER;
    }
    return new Date(ms);
  }),
);

const int = v.pipe(v.number(), v.integer());
const count = v.pipe(int, v.minValue(0));

/**
 * What a checkpoint holds: `training` (weights and optimizer state, to resume) or `sampler`
 * (weights, to sample).
 */
export type CheckpointType = "training" | "sampler";
/**
 * Which runs or sessions a list returns: `owned` (yours) or `accessible` (yours plus those shared
 * with you).
 */
export type AccessScope = "owned" | "accessible";

export const checkpointSchema = v.object({
  checkpoint_id: v.string(),
  checkpoint_type: v.picklist(["training", "sampler"]),
  time: wireDate,
  tinker_path: v.string(),
  size_bytes: v.nullish(count),
  public: v.nullish(v.boolean()),
  expires_at: v.nullish(wireDate),
});

/** A saved checkpoint, as the REST endpoints list it. */
export interface Checkpoint {
  /** `weights/<name>` or `sampler_weights/<name>`. */
  checkpointId: string;
  /** Training state or sampler weights. */
  checkpointType: CheckpointType;
  /** When it was saved. */
  time: Date;
  /** `tinker://<run_id>/<checkpoint_id>`. */
  tinkerPath: string;
  /** Bytes on the server; undefined when the server does not say. */
  sizeBytes: number | undefined;
  /** Whether anyone with the path may read it (see `RestClient.publishCheckpoint`); false when not sent. */
  public: boolean;
  /** null: never expires. */
  expiresAt: Date | null;
}

export function toCheckpoint(w: v.InferOutput<typeof checkpointSchema>): Checkpoint {
  return {
    checkpointId: w.checkpoint_id,
    checkpointType: w.checkpoint_type,
    time: w.time,
    tinkerPath: w.tinker_path,
    sizeBytes: w.size_bytes ?? undefined,
    public: w.public ?? false,
    expiresAt: w.expires_at ?? null,
  };
}

export const cursorSchema = v.object({ offset: count, limit: count, total_count: count });

/** Where a page sits in a listing. */
export interface Cursor {
  /** Items skipped before this page. */
  offset: number;
  /** The page size that was asked for. */
  limit: number;
  /** Items in the whole listing. */
  totalCount: number;
}

export const trainingRunSchema = v.object({
  training_run_id: v.string(),
  base_model: v.string(),
  model_owner: v.string(),
  is_lora: v.boolean(),
  corrupted: v.nullish(v.boolean()),
  lora_rank: v.nullish(int),
  last_request_time: wireDate,
  last_checkpoint: v.nullish(checkpointSchema),
  last_sampler_checkpoint: v.nullish(checkpointSchema),
  user_metadata: v.nullish(v.record(v.string(), v.string())),
});

/** A training run (one per training client created), as the REST endpoints report it. */
export interface TrainingRun {
  /** The run's id, which is its model id. */
  trainingRunId: string;
  /** The model it fine-tunes. */
  baseModel: string;
  /** Who created it (the server's user id). */
  modelOwner: string;
  /** Whether it trains a LoRA adapter. */
  isLora: boolean;
  /** The server flagged the run's state as unusable; false when not sent. */
  corrupted: boolean;
  /** LoRA rank, for LoRA runs. */
  loraRank: number | undefined;
  /** When the run last received a training request. */
  lastRequestTime: Date;
  /** Its newest training checkpoint, if any. */
  lastCheckpoint: Checkpoint | undefined;
  /** Its newest sampler checkpoint, if any. */
  lastSamplerCheckpoint: Checkpoint | undefined;
  /** The metadata given when the run was created. */
  userMetadata: Record<string, string> | undefined;
}

export function toTrainingRun(w: v.InferOutput<typeof trainingRunSchema>): TrainingRun {
  return {
    trainingRunId: w.training_run_id,
    baseModel: w.base_model,
    modelOwner: w.model_owner,
    isLora: w.is_lora,
    corrupted: w.corrupted ?? false,
    loraRank: w.lora_rank ?? undefined,
    lastRequestTime: w.last_request_time,
    lastCheckpoint: w.last_checkpoint ? toCheckpoint(w.last_checkpoint) : undefined,
    lastSamplerCheckpoint: w.last_sampler_checkpoint ? toCheckpoint(w.last_sampler_checkpoint) : undefined,
    userMetadata: w.user_metadata ?? undefined,
  };
}

export const trainingRunsResponse = v.object({
  training_runs: v.array(trainingRunSchema),
  cursor: cursorSchema,
});

export const checkpointsListResponse = v.object({
  checkpoints: v.array(checkpointSchema),
  cursor: v.nullish(cursorSchema),
});

export const listSessionsResponse = v.object({ sessions: v.array(v.string()) });

export const getSessionResponse = v.object({
  training_run_ids: v.array(v.string()),
  sampler_ids: v.array(v.string()),
});

/** A session and what was created in it. */
export interface SessionInfo {
  /** The session's id. */
  sessionId: string;
  /** Training runs created in the session. */
  trainingRunIds: string[];
  /** Sampling sessions created in the session. */
  samplerIds: string[];
}

export const samplerResponse = v.object({
  sampler_id: v.string(),
  base_model: v.string(),
  model_path: v.nullish(v.string()),
});

/** A sampling session: what it samples from. */
export interface SamplerInfo {
  /** The sampling session's id. */
  samplerId: string;
  /** The base model it samples. */
  baseModel: string;
  /** The tinker path of the weights it samples from, when it was made from a checkpoint. */
  modelPath: string | undefined;
}

export const weightsInfoResponse = v.object({
  base_model: v.string(),
  is_lora: v.boolean(),
  lora_rank: v.nullish(int),
  train_unembed: v.nullish(v.boolean()),
  train_mlp: v.nullish(v.boolean()),
  train_attn: v.nullish(v.boolean()),
});

/** What a checkpoint's weights are (from `tinker://` path info): enough to restore a run from them. */
export interface WeightsInfo {
  /** The base model the weights belong to. */
  baseModel: string;
  /** Whether they are a LoRA adapter. */
  isLora: boolean;
  /** The adapter's rank, for LoRA weights. */
  loraRank: number | undefined;
  /** Missing on the wire counts as true (contract 3.6). */
  trainUnembed: boolean;
  /** Whether the MLP projections have adapters (missing counts as true). */
  trainMlp: boolean;
  /** Whether the attention projections have adapters (missing counts as true). */
  trainAttn: boolean;
}

export function toWeightsInfo(w: v.InferOutput<typeof weightsInfoResponse>): WeightsInfo {
  return {
    baseModel: w.base_model,
    isLora: w.is_lora,
    loraRank: w.lora_rank ?? undefined,
    trainUnembed: w.train_unembed ?? true,
    trainMlp: w.train_mlp ?? true,
    trainAttn: w.train_attn ?? true,
  };
}

export const archiveUrlBody = v.object({ url: v.pipe(v.string(), v.minLength(1)), expires: wireDate });

/** Where to download a checkpoint's archive (a tar of its files). */
export interface ArchiveUrl {
  /** A signed URL: download it with a plain GET and no credentials. */
  url: string;
  /** When the URL stops working; ask for a new one after. */
  expires: Date;
}

export const traceExportResponse = v.object({
  status: v.picklist(["pending", "ready", "failed"]),
  url: v.nullish(v.string()),
  error: v.nullish(v.string()),
});

export const auditLogResponse = v.object({
  entries: v.array(
    v.object({
      timestamp: wireDate,
      event: v.string(),
      model_id: v.nullish(v.string()),
      tinker_path: v.nullish(v.string()),
      purpose: v.nullish(v.string()),
    }),
  ),
});

/** One audit-log event (admins only): who did what to which checkpoint. */
export interface AuditLogEntry {
  /** When it happened. */
  timestamp: Date;
  /** What happened, e.g. `checkpoint_save` or `checkpoint_download`. */
  event: string;
  /** The training run concerned, when there is one. */
  modelId: string | undefined;
  /** The checkpoint concerned, when there is one. */
  tinkerPath: string | undefined;
  /** The purpose the server recorded with the event, when it gives one. */
  purpose: string | undefined;
}

// `event_info` variants: no field beyond the contract's is accepted (v.strictObject).
const eventInfoSchema = v.variant("type", [
  v.strictObject({ type: v.literal("training"), token_count: count }),
  v.strictObject({ type: v.literal("sampling_prefill"), cached: v.boolean(), token_count: count }),
  v.strictObject({ type: v.literal("sampling_sample"), token_count: count }),
  v.strictObject({ type: v.literal("checkpoint"), count }),
  v.strictObject({ type: v.literal("storage"), gigabyte_hours: v.pipe(v.number(), v.minValue(0)) }),
]);

/** What one billing bucket counted; `type` says which kind of usage. */
export type BillingEventInfo =
  | {
      /** Tokens trained on (forward/backward). */
      type: "training";
      /** Tokens in the bucket. */
      tokenCount: number;
    }
  | {
      /** Prompt tokens read by sampling. */
      type: "sampling_prefill";
      /** Whether these tokens were served from the prefix cache. */
      cached: boolean;
      /** Tokens in the bucket. */
      tokenCount: number;
    }
  | {
      /** Tokens generated by sampling. */
      type: "sampling_sample";
      /** Tokens in the bucket. */
      tokenCount: number;
    }
  | {
      /** Checkpoints saved. */
      type: "checkpoint";
      /** Checkpoints in the bucket. */
      count: number;
    }
  | {
      /** Checkpoint storage. */
      type: "storage";
      /** Storage used over the bucket, in gigabyte-hours. */
      gigabyteHours: number;
    };

function toEventInfo(w: v.InferOutput<typeof eventInfoSchema>): BillingEventInfo {
  switch (w.type) {
    case "training":
    case "sampling_sample":
      return { type: w.type, tokenCount: w.token_count };
    case "sampling_prefill":
      return { type: w.type, cached: w.cached, tokenCount: w.token_count };
    case "checkpoint":
      return { type: w.type, count: w.count };
    case "storage":
      return { type: w.type, gigabyteHours: w.gigabyte_hours };
  }
}

export const billingUsageResponse = v.object({
  data: v.array(
    v.object({
      bucket_start: wireDate,
      bucket_end: wireDate,
      base_model: v.nullish(v.string()),
      user_id: v.nullish(v.string()),
      user_name: v.nullish(v.string()),
      session_id: v.nullish(v.string()),
      project_id: v.nullish(v.string()),
      event_info: eventInfoSchema,
    }),
  ),
  sessions: v.nullish(
    v.record(v.string(), v.object({ user_metadata: v.nullish(v.record(v.string(), v.unknown())) })),
  ),
});

/** Usage in one hourly bucket, for one model, user, session and project. */
export interface BillingUsageEvent {
  /** Start of the hour (UTC). */
  bucketStart: Date;
  /** End of the hour (UTC). */
  bucketEnd: Date;
  /** The model used, when the usage has one. */
  baseModel: string | undefined;
  /** The user's id, when sent. */
  userId: string | undefined;
  /** The user's display name, when sent. */
  userName: string | undefined;
  /** The session the usage came from, when sent. */
  sessionId: string | undefined;
  /** The session's project, when it has one. */
  projectId: string | undefined;
  /** What was counted. */
  eventInfo: BillingEventInfo;
}

/** The answer of `RestClient.getBillingUsage`: usage buckets and the metadata of their sessions. */
export interface BillingUsage {
  /** The buckets, as the server orders them. */
  data: BillingUsageEvent[];
  /** Per session id: the session's user metadata, when it has any. */
  sessions: Record<
    string,
    {
      /** The `userMetadata` given when the session was created. */
      userMetadata: Record<string, unknown> | undefined;
    }
  >;
}

export function toBillingUsage(w: v.InferOutput<typeof billingUsageResponse>): BillingUsage {
  const sessions: BillingUsage["sessions"] = {};
  for (const [id, s] of Object.entries(w.sessions ?? {}))
    sessions[id] = { userMetadata: s.user_metadata ?? undefined };
  return {
    data: w.data.map((e) => ({
      bucketStart: e.bucket_start,
      bucketEnd: e.bucket_end,
      baseModel: e.base_model ?? undefined,
      userId: e.user_id ?? undefined,
      userName: e.user_name ?? undefined,
      sessionId: e.session_id ?? undefined,
      projectId: e.project_id ?? undefined,
      eventInfo: toEventInfo(e.event_info),
    })),
    sessions,
  };
}
