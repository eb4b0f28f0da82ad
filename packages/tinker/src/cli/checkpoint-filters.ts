// Which checkpoints of a run `tinker checkpoint delete --run-id` takes: --type (weights or
// sampler_weights; the API's training/sampler are accepted too) and --before/--after (ISO 8601 in
// UTC; a date alone is midnight UTC, a time without a zone is UTC), as the Python CLI filters.

import type { Checkpoint, CheckpointType } from "../api/rest-schemas.js";
import { ValidationError } from "../client/errors.js";

const TYPES: Readonly<Record<string, CheckpointType>> = {
  weights: "training",
  sampler_weights: "sampler",
  training: "training",
  sampler: "sampler",
};

export function parseCheckpointType(value: string): CheckpointType {
  const type = TYPES[value];
  if (type === undefined) {
    throw new ValidationError(`--type must be weights or sampler_weights, got '${value}'`, "type");
  }
  return type;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** An ISO 8601 date or date-time as a Date; ValidationError (exit 2) naming the flag otherwise. */
export function parseUtcDate(value: string, flag: string): Date {
  const v = value.trim();
  let iso: string | undefined;
  if (DATE.test(v)) iso = `${v}T00:00:00Z`;
  else if (DATE_TIME.test(v)) iso = /(Z|[+-]\d{2}:\d{2})$/.test(v) ? v : `${v}Z`;
  const date = iso === undefined ? undefined : new Date(iso);
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new ValidationError(
      `${flag}: invalid date '${value}'; use ISO 8601, e.g. 2024-01-01 or 2024-01-01T12:00:00Z`,
      flag.replace(/^--/, ""),
    );
  }
  return date;
}

export interface CheckpointFilter {
  type?: CheckpointType;
  before?: Date;
  after?: Date;
}

/** Checkpoints of the given type saved strictly before `before` and strictly after `after`. */
export function filterCheckpoints(
  checkpoints: readonly Checkpoint[],
  filter: CheckpointFilter,
): Checkpoint[] {
  return checkpoints.filter(
    (c) =>
      (filter.type === undefined || c.checkpointType === filter.type) &&
      (filter.before === undefined || c.time < filter.before) &&
      (filter.after === undefined || c.time > filter.after),
  );
}
