// The columns `tinker run list --columns` can show, with the Python CLI's names and headers, and
// its default set (id, model, lora, updated, status).

import type { TrainingRun } from "../api/rest-schemas.js";
import { ValidationError } from "../client/errors.js";
import { formatTime } from "./common.js";

interface Column {
  header: string;
  cell: (run: TrainingRun) => string;
  help: string;
}

export const RUN_COLUMNS: Readonly<Record<string, Column>> = {
  id: { header: "Run ID", cell: (r) => r.trainingRunId, help: "training run ID" },
  model: { header: "Base Model", cell: (r) => r.baseModel, help: "base model name" },
  owner: { header: "Owner", cell: (r) => r.modelOwner, help: "model owner" },
  lora: {
    header: "LoRA",
    cell: (r) => (r.isLora ? (r.loraRank ? `Rank ${r.loraRank}` : "Yes") : "No"),
    help: "LoRA status and rank",
  },
  updated: { header: "Last Update", cell: (r) => formatTime(r.lastRequestTime), help: "last request time" },
  status: { header: "Status", cell: (r) => (r.corrupted ? "Failed" : "OK"), help: "OK or Failed" },
  checkpoint: {
    header: "Last Checkpoint",
    cell: (r) => r.lastCheckpoint?.checkpointId ?? "None",
    help: "most recent training checkpoint ID",
  },
  checkpoint_time: {
    header: "Checkpoint Time",
    cell: (r) => (r.lastCheckpoint ? formatTime(r.lastCheckpoint.time) : "N/A"),
    help: "time of the last checkpoint",
  },
};

export const DEFAULT_RUN_COLUMNS = ["id", "model", "lora", "updated", "status"];

/** `--columns a,b,c` → column names, checked (ValidationError, exit 2, naming the valid ones). */
export function parseRunColumns(value: string | undefined): string[] {
  if (value === undefined) return DEFAULT_RUN_COLUMNS;
  const names = value
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  const unknown = names.filter((c) => !(c in RUN_COLUMNS));
  if (names.length === 0 || unknown.length > 0) {
    throw new ValidationError(
      `--columns: unknown column(s) ${unknown.join(", ") || "(none given)"}; choose from ${Object.keys(RUN_COLUMNS).join(", ")}`,
      "columns",
    );
  }
  return names;
}
