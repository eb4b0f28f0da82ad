// JSON shapes of contract 4.10/4.11 built from store records. Optional fields that have no value are
// left out, except `expires_at`, where null is meaningful ("never expires").
import type { CheckpointRecord } from "../store/checkpoints.js";
import type { RunRecord } from "../store/runs.js";

/** ISO 8601 in UTC with a `Z` suffix, milliseconds included. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export interface CheckpointJson {
  checkpoint_id: string;
  checkpoint_type: "training" | "sampler";
  time: string;
  tinker_path: string;
  size_bytes?: number;
  public: boolean;
  expires_at: string | null;
}

export function checkpointJson(record: CheckpointRecord): CheckpointJson {
  const json: CheckpointJson = {
    checkpoint_id: record.checkpointId,
    checkpoint_type: record.kind,
    time: isoTime(record.createdAt),
    tinker_path: record.tinkerPath,
    public: record.public,
    expires_at: record.expiresAt === null ? null : isoTime(record.expiresAt),
  };
  if (record.sizeBytes !== null) json.size_bytes = record.sizeBytes;
  return json;
}

export interface TrainingRunJson {
  training_run_id: string;
  base_model: string;
  model_owner: string;
  is_lora: boolean;
  corrupted: boolean;
  lora_rank?: number;
  last_request_time: string;
  last_checkpoint?: CheckpointJson;
  last_sampler_checkpoint?: CheckpointJson;
  user_metadata?: Record<string, string>;
}

export function trainingRunJson(
  run: RunRecord,
  lastCheckpoint: CheckpointRecord | undefined,
  lastSamplerCheckpoint: CheckpointRecord | undefined,
): TrainingRunJson {
  const json: TrainingRunJson = {
    training_run_id: run.id,
    base_model: run.baseModel,
    model_owner: run.owner,
    is_lora: run.isLora,
    corrupted: false,
    last_request_time: isoTime(run.lastRequestAt),
  };
  if (run.loraRank !== null) json.lora_rank = run.loraRank;
  if (lastCheckpoint !== undefined) json.last_checkpoint = checkpointJson(lastCheckpoint);
  if (lastSamplerCheckpoint !== undefined)
    json.last_sampler_checkpoint = checkpointJson(lastSamplerCheckpoint);
  if (run.userMetadata !== null) json.user_metadata = run.userMetadata;
  return json;
}
