// Checkpoint files on disk: `<dataDir>/checkpoints/<encoded run id>/<kind segment>/<encoded name>/`.
// Writes are atomic (a temporary directory renamed into place), so a reader sees either the old
// files or the new ones, never a mix.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCheckpointId } from "./checkpoint-ids.js";

const ROOT = "checkpoints";
const STAGING = ".staging";

export class CheckpointFileMissingError extends Error {
  override readonly name = "CheckpointFileMissingError";
  readonly statusCode = 404;
}

/** The directory of one checkpoint. Throws on ids that are not `weights/<name>`/`sampler_weights/<name>`. */
export function checkpointDirectory(dataDir: string, runId: string, checkpointId: string): string {
  if (runId === "") throw new Error("run id must not be empty");
  const { name } = parseCheckpointId(checkpointId);
  const segment = checkpointId.slice(0, checkpointId.indexOf("/"));
  return join(dataDir, ROOT, encodeURIComponent(runId), segment, encodeURIComponent(name));
}

function checkFileName(fileName: string): void {
  if (fileName === "" || fileName === "." || fileName === ".." || /[/\\]/.test(fileName)) {
    throw new Error(`invalid checkpoint file name: ${JSON.stringify(fileName)}`);
  }
}

/**
 * Replaces the checkpoint's files with `files` (file name -> bytes), atomically. Returns the total
 * size in bytes, which is what `checkpoints.add` wants as `sizeBytes`.
 */
export function write(
  dataDir: string,
  runId: string,
  checkpointId: string,
  files: Readonly<Record<string, Uint8Array>>,
): number {
  const target = checkpointDirectory(dataDir, runId, checkpointId);
  const stagingRoot = join(dataDir, ROOT, STAGING);
  mkdirSync(stagingRoot, { recursive: true });
  const staging = join(stagingRoot, randomBytes(8).toString("hex"));
  mkdirSync(staging);
  let size = 0;
  try {
    for (const [fileName, bytes] of Object.entries(files)) {
      checkFileName(fileName);
      writeFileSync(join(staging, fileName), bytes);
      size += bytes.byteLength;
    }
    mkdirSync(join(target, ".."), { recursive: true });
    // rename() cannot replace a non-empty directory: move the old one aside first.
    let previous: string | undefined;
    if (existsSync(target)) {
      previous = `${staging}.old`;
      renameSync(target, previous);
    }
    renameSync(staging, target);
    if (previous !== undefined) rmSync(previous, { recursive: true, force: true });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return size;
}

export function read(dataDir: string, runId: string, checkpointId: string, fileName: string): Uint8Array {
  checkFileName(fileName);
  const path = join(checkpointDirectory(dataDir, runId, checkpointId), fileName);
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CheckpointFileMissingError(
        `checkpoint file ${fileName} of tinker://${runId}/${checkpointId} is missing`,
      );
    }
    throw error;
  }
}

/** File names of a checkpoint, sorted; empty when it has no directory. */
export function list(dataDir: string, runId: string, checkpointId: string): string[] {
  try {
    return readdirSync(checkpointDirectory(dataDir, runId, checkpointId)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

export function exists(dataDir: string, runId: string, checkpointId: string): boolean {
  return existsSync(checkpointDirectory(dataDir, runId, checkpointId));
}

/** Deletes the checkpoint's directory; a missing one is fine. */
export function remove(dataDir: string, runId: string, checkpointId: string): void {
  rmSync(checkpointDirectory(dataDir, runId, checkpointId), { recursive: true, force: true });
}

/** `checkpointFiles.write(...)` etc., as agreed in the store API. */
export const checkpointFiles = { write, read, list, exists, remove, directory: checkpointDirectory };
