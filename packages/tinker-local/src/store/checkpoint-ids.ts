// Checkpoint ids and tinker paths (contract 4.10). A checkpoint id is `weights/<name>` or
// `sampler_weights/<name>`; a tinker path is `tinker://<run_id>/<checkpoint_id>`. Names become
// directory names on disk, so anything that could escape a directory is refused here.

import { checkpointNameProblem } from "tinker-ts";

/** What a checkpoint holds: `training` (weights and optimizer state) or `sampler` (weights only). */
export type CheckpointKind = "training" | "sampler";

export const TINKER_SCHEME = "tinker://";

const SEGMENT_FOR_KIND: Record<CheckpointKind, string> = {
  training: "weights",
  sampler: "sampler_weights",
};

/** Why an id or path is malformed, phrased for the person who sent it. */
export class CheckpointIdError extends Error {
  override readonly name = "CheckpointIdError";
  readonly statusCode = 400;
}

export interface ParsedCheckpointId {
  kind: CheckpointKind;
  name: string;
  /** `weights/<name>` or `sampler_weights/<name>`. */
  checkpointId: string;
}

/**
 * The id a new checkpoint named `name` gets. New names follow the SDK's rule (tinker-ts
 * checkpointNameProblem): a name that needs percent-encoding in a URL could be saved but never
 * addressed again by the same text. Lookups (parseCheckpointId) stay lenient for names stored before.
 */
export function checkpointIdFor(kind: CheckpointKind, name: string): string {
  const problem = checkpointNameProblem(name);
  if (problem !== undefined) throw new CheckpointIdError(problem);
  return `${SEGMENT_FOR_KIND[kind]}/${name}`;
}

function checkName(name: string): void {
  if (name === "") throw new CheckpointIdError("checkpoint name must not be empty");
  if (name.includes("/")) throw new CheckpointIdError(`checkpoint name must not contain '/': ${name}`);
  if (name === "." || name === "..") throw new CheckpointIdError(`checkpoint name cannot be '${name}'`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new CheckpointIdError("checkpoint name must not contain control characters");
  }
  if (name.length > 200) throw new CheckpointIdError("checkpoint name must be at most 200 characters");
}

export function parseCheckpointId(checkpointId: string): ParsedCheckpointId {
  const slash = checkpointId.indexOf("/");
  const segment = slash === -1 ? checkpointId : checkpointId.slice(0, slash);
  const kind: CheckpointKind | undefined =
    segment === "weights" ? "training" : segment === "sampler_weights" ? "sampler" : undefined;
  if (slash === -1 || kind === undefined) {
    throw new CheckpointIdError(
      `checkpoint id must be 'weights/<name>' or 'sampler_weights/<name>', got '${checkpointId}'`,
    );
  }
  const name = checkpointId.slice(slash + 1);
  checkName(name);
  return { kind, name, checkpointId };
}

/** `tinker://<runId>/<checkpointId>`, the address clients use for a checkpoint. No checks. */
export function tinkerPathFor(runId: string, checkpointId: string): string {
  return `${TINKER_SCHEME}${runId}/${checkpointId}`;
}

export interface ParsedTinkerPath extends ParsedCheckpointId {
  runId: string;
}

/** Same rules as the official client: `tinker://` then exactly three `/`-separated segments. */
export function parseTinkerPath(path: string): ParsedTinkerPath {
  if (!path.startsWith(TINKER_SCHEME)) {
    throw new CheckpointIdError(`tinker path must start with '${TINKER_SCHEME}', got '${path}'`);
  }
  const parts = path.slice(TINKER_SCHEME.length).split("/");
  if (parts.length !== 3) {
    throw new CheckpointIdError(
      `tinker path must be 'tinker://<run_id>/weights/<name>' or 'tinker://<run_id>/sampler_weights/<name>', got '${path}'`,
    );
  }
  const [runId, segment, name] = parts as [string, string, string];
  if (runId === "") throw new CheckpointIdError(`tinker path has an empty run id: '${path}'`);
  return { runId, ...parseCheckpointId(`${segment}/${name}`) };
}
