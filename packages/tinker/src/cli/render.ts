// How REST objects look on the command line: tables for people, and JSON in the wire's snake_case
// (the shape the official CLI prints and the API documents), so scripts written against either
// work. Tables have no colours, so piping `--format table` into a file stays clean.

import Table from "cli-table3";
import type { Checkpoint, TrainingRun } from "../api/rest-schemas.js";
import { formatBytes, formatTime, isoOrNull } from "./common.js";

const PLAIN = { head: [] as string[], border: [] as string[] };

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: PLAIN });
  for (const row of rows) t.push(row.map(String));
  return t.toString();
}

/** Two columns: field, value. */
export function keyValueTable(entries: [string, string | number | boolean][]): string {
  const t = new Table({ style: PLAIN });
  for (const [k, v] of entries) t.push({ [k]: String(v) });
  return t.toString();
}

export function checkpointJson(c: Checkpoint) {
  return {
    checkpoint_id: c.checkpointId,
    checkpoint_type: c.checkpointType,
    time: c.time.toISOString(),
    tinker_path: c.tinkerPath,
    size_bytes: c.sizeBytes ?? null,
    public: c.public,
    expires_at: isoOrNull(c.expiresAt),
  };
}

export function trainingRunJson(r: TrainingRun) {
  return {
    training_run_id: r.trainingRunId,
    base_model: r.baseModel,
    model_owner: r.modelOwner,
    is_lora: r.isLora,
    corrupted: r.corrupted,
    lora_rank: r.loraRank ?? null,
    last_request_time: r.lastRequestTime.toISOString(),
    last_checkpoint: r.lastCheckpoint ? checkpointJson(r.lastCheckpoint) : null,
    last_sampler_checkpoint: r.lastSamplerCheckpoint ? checkpointJson(r.lastSamplerCheckpoint) : null,
    user_metadata: r.userMetadata ?? null,
  };
}

export function checkpointsTable(checkpoints: Checkpoint[]): string {
  return table(
    ["Checkpoint ID", "Type", "Size", "Public", "Created", "Expires", "Path"],
    checkpoints.map((c) => [
      c.checkpointId,
      c.checkpointType,
      formatBytes(c.sizeBytes),
      c.public ? "yes" : "no",
      formatTime(c.time),
      c.expiresAt ? formatTime(c.expiresAt) : "never",
      c.tinkerPath,
    ]),
  );
}

export function runDetails(r: TrainingRun): string {
  const rows: [string, string | number | boolean][] = [
    ["Run ID", r.trainingRunId],
    ["Base model", r.baseModel],
    ["Owner", r.modelOwner],
    ["LoRA", r.isLora ? `yes (rank ${r.loraRank ?? "?"})` : "no"],
    ["Corrupted", r.corrupted ? "yes" : "no"],
    ["Last request", formatTime(r.lastRequestTime)],
    ["Last checkpoint", r.lastCheckpoint?.tinkerPath ?? "-"],
    ["Last sampler checkpoint", r.lastSamplerCheckpoint?.tinkerPath ?? "-"],
  ];
  for (const [k, v] of Object.entries(r.userMetadata ?? {})) rows.push([`metadata.${k}`, v]);
  return keyValueTable(rows);
}

export function checkpointDetails(c: Checkpoint, run?: TrainingRun): string {
  const rows: [string, string | number | boolean][] = [
    ["Path", c.tinkerPath],
    ["Checkpoint ID", c.checkpointId],
    ["Type", c.checkpointType],
    ["Size", formatBytes(c.sizeBytes)],
    ["Public", c.public ? "yes" : "no"],
    ["Created", formatTime(c.time)],
    ["Expires", c.expiresAt ? formatTime(c.expiresAt) : "never"],
  ];
  if (run) {
    rows.push(["Run ID", run.trainingRunId], ["Base model", run.baseModel]);
    if (run.isLora) rows.push(["LoRA rank", run.loraRank ?? "-"]);
  }
  return keyValueTable(rows);
}
