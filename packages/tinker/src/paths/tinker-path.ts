// Tinker paths (contract 4.10): `tinker://<run_id>/weights/<name>` for a training checkpoint,
// `tinker://<run_id>/sampler_weights/<name>` for sampler weights. The checkpoint id the REST paths
// use is the last two segments joined (`weights/<name>`). Parsing is strict and each refusal says
// exactly what is wrong, because these strings are typed by people and pasted from logs.

import { ValidationError } from "../client/errors.js";
import { segmentProblem } from "./segments.js";

/** The prefix of every checkpoint path. */
export const TINKER_SCHEME = "tinker://";

/** The path segment of a checkpoint's kind: `weights` (training state) or `sampler_weights`. */
export type CheckpointKind = "weights" | "sampler_weights";
export const CHECKPOINT_KINDS: readonly CheckpointKind[] = ["weights", "sampler_weights"];

/** What the REST API calls the two kinds (`Checkpoint.checkpoint_type`). */
export type CheckpointType = "training" | "sampler";

/** A parsed `tinker://<run_id>/<kind>/<name>` checkpoint path. */
export interface TinkerPath {
  /** The training run that saved it. */
  runId: string;
  /** Training state or sampler weights. */
  kind: CheckpointKind;
  /** The name it was saved under. */
  name: string;
  /** `<kind>/<name>`, e.g. `weights/0001`. */
  checkpointId: string;
}

const USAGE = "expected tinker://<run_id>/weights/<name> or tinker://<run_id>/sampler_weights/<name>";

export function checkpointTypeOf(kind: CheckpointKind): CheckpointType {
  return kind === "weights" ? "training" : "sampler";
}

function fail(message: string, field: string): never {
  throw new ValidationError(message, field);
}

/** Parses a tinker path; throws a ValidationError (with `field`) saying what is wrong. */
export function parseTinkerPath(input: unknown, field = "path"): TinkerPath {
  if (typeof input !== "string") fail(`${field} must be a tinker path string; ${USAGE}`, field);
  const s = input;
  if (s === "") fail(`${field} is empty; ${USAGE}`, field);
  if (s.trim() !== s) fail(`${field} has leading or trailing whitespace: '${s}'`, field);
  if (!s.startsWith(TINKER_SCHEME)) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/*/i.exec(s);
    const hint = scheme
      ? scheme[1]?.toLowerCase() === "tinker"
        ? " (it needs two slashes after 'tinker:')"
        : ` (it starts with '${scheme[0]}')`
      : "";
    fail(`${field} must start with '${TINKER_SCHEME}'${hint}: '${s}'; ${USAGE}`, field);
  }
  const rest = s.slice(TINKER_SCHEME.length);
  const parts = rest.split("/");
  if (parts.length !== 3) {
    const middleOk = CHECKPOINT_KINDS.includes(parts[1] as CheckpointKind);
    if (parts.length > 3 && middleOk) {
      fail(
        `${field} has a checkpoint name with '/' in it ('${parts.slice(2).join("/")}'); names cannot contain '/': '${s}'`,
        field,
      );
    }
    fail(
      `${field} must have exactly 3 segments after '${TINKER_SCHEME}' (<run_id>/<weights|sampler_weights>/<name>), ` +
        `got ${parts.length}: '${s}'`,
      field,
    );
  }
  const [runId, middle, name] = parts as [string, string, string];
  if (runId === "") fail(`${field} has an empty run id: '${s}'; ${USAGE}`, field);
  const runProblem = segmentProblem(runId);
  if (runProblem !== undefined) fail(`${field}: the run id ${runProblem}: '${s}'`, field);
  if (!CHECKPOINT_KINDS.includes(middle as CheckpointKind)) {
    fail(
      `${field}: the second segment must be 'weights' or 'sampler_weights', got '${middle}': '${s}'`,
      field,
    );
  }
  if (name === "") fail(`${field} has an empty checkpoint name: '${s}'`, field);
  const nameProblem = segmentProblem(name);
  if (nameProblem !== undefined) fail(`${field}: the checkpoint name ${nameProblem}: '${s}'`, field);
  const kind = middle as CheckpointKind;
  return { runId, kind, name, checkpointId: `${kind}/${name}` };
}

/** True when `input` parses as a tinker path. */
export function isTinkerPath(input: unknown): input is string {
  try {
    parseTinkerPath(input);
    return true;
  } catch {
    return false;
  }
}

/** Builds a tinker path, checking every part as `parseTinkerPath` would. */
export function formatTinkerPath(parts: { runId: string; kind: CheckpointKind; name: string }): string {
  const s = `${TINKER_SCHEME}${parts.runId}/${parts.kind}/${parts.name}`;
  parseTinkerPath(s);
  return s;
}
