// Checkpoint files on disk: `<dataDir>/checkpoints/<encoded run id>/<kind segment>/<encoded name>/`.
// Writes are atomic (a temporary directory renamed into place), so a reader sees either the old
// files or the new ones, never a mix, and durable: each file and both directories are fsynced
// before the save is reported, so a crash cannot leave a recorded checkpoint with files the disk
// never got. Every file's size and SHA-256 are returned (the store records them in SQLite) and
// checked again on every read: a file damaged on disk is reported, never served.
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { parseCheckpointId, tinkerPathFor } from "./checkpoint-ids.js";

const ROOT = "checkpoints";
const STAGING = ".staging";

export class CheckpointFileMissingError extends Error {
  override readonly name = "CheckpointFileMissingError";
  readonly statusCode = 404;
}

/**
 * A recorded checkpoint whose file on disk no longer matches the size or SHA-256 recorded when it
 * was saved (or is gone). The server's fault, not the request's: status 500. The message names the
 * checkpoint by its tinker path and never by a server path.
 */
export class CheckpointDamagedError extends Error {
  override readonly name = "CheckpointDamagedError";
  readonly statusCode = 500;
}

/** What the store records of one file at save time. */
export interface FileDigest {
  /** Bytes. */
  readonly size: number;
  /** Lowercase hex. */
  readonly sha256: string;
}

/** File name -> digest, for every file of a checkpoint. */
export type FileManifest = Readonly<Record<string, FileDigest>>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
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

function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, "wx");
  try {
    let at = 0;
    while (at < bytes.byteLength) at += writeSync(fd, bytes, at, bytes.byteLength - at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a directory's entries (a new file, a rename) durable. */
function fsyncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function damaged(
  runId: string,
  checkpointId: string,
  fileName: string,
  what: string,
): CheckpointDamagedError {
  return new CheckpointDamagedError(
    `Checkpoint ${tinkerPathFor(runId, checkpointId)} is damaged on the server: its file ${fileName} ${what} (size and SHA-256 are recorded when a checkpoint is saved and checked on every read); it cannot be used, delete it and save it again`,
  );
}

function checkDigest(
  runId: string,
  checkpointId: string,
  fileName: string,
  bytes: Uint8Array,
  expected: FileDigest,
): void {
  if (bytes.byteLength !== expected.size) {
    throw damaged(
      runId,
      checkpointId,
      fileName,
      `has ${bytes.byteLength} bytes, not the ${expected.size} it was saved with`,
    );
  }
  if (sha256Hex(bytes) !== expected.sha256) {
    throw damaged(runId, checkpointId, fileName, "does not hash to the SHA-256 it was saved with");
  }
}

/**
 * Replaces the checkpoint's files with `files` (file name -> bytes), atomically and durably, then
 * reads them back and checks them. Returns each file's digest, which is what the store records.
 */
export function write(
  dataDir: string,
  runId: string,
  checkpointId: string,
  files: Readonly<Record<string, Uint8Array>>,
): Record<string, FileDigest> {
  const target = checkpointDirectory(dataDir, runId, checkpointId);
  const stagingRoot = join(dataDir, ROOT, STAGING);
  mkdirSync(stagingRoot, { recursive: true });
  const staging = join(stagingRoot, randomBytes(8).toString("hex"));
  mkdirSync(staging);
  const manifest: Record<string, FileDigest> = {};
  try {
    for (const [fileName, bytes] of Object.entries(files)) {
      checkFileName(fileName);
      writeDurably(join(staging, fileName), bytes);
      Object.defineProperty(manifest, fileName, {
        value: { size: bytes.byteLength, sha256: sha256Hex(bytes) },
        enumerable: true,
      });
    }
    fsyncDirectory(staging);
    const parent = join(target, "..");
    mkdirSync(parent, { recursive: true });
    // rename() cannot replace a non-empty directory: move the old one aside first.
    let previous: string | undefined;
    if (existsSync(target)) {
      previous = `${staging}.old`;
      renameSync(target, previous);
    }
    renameSync(staging, target);
    fsyncDirectory(parent);
    if (previous !== undefined) rmSync(previous, { recursive: true, force: true });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  // Read back what the disk now holds before the save is recorded and reported.
  for (const [fileName, digest] of Object.entries(manifest)) {
    checkDigest(runId, checkpointId, fileName, readFileSync(join(target, fileName)), digest);
  }
  return manifest;
}

/** The total size of a manifest's files (the checkpoint's `size_bytes`). */
export function manifestSize(manifest: FileManifest): number {
  return Object.values(manifest).reduce((n, digest) => n + digest.size, 0);
}

/**
 * One file of a checkpoint. With the `manifest` recorded at save time, the bytes are checked against
 * it (CheckpointDamagedError on a mismatch, or when a recorded file is gone); without one (a
 * checkpoint saved before digests were recorded), they are returned as they are.
 */
export function read(
  dataDir: string,
  runId: string,
  checkpointId: string,
  fileName: string,
  manifest: FileManifest | null = null,
): Uint8Array {
  checkFileName(fileName);
  const path = join(checkpointDirectory(dataDir, runId, checkpointId), fileName);
  const expected = manifest?.[fileName];
  if (manifest !== null && expected === undefined) {
    throw new CheckpointFileMissingError(
      `checkpoint ${tinkerPathFor(runId, checkpointId)} has no file ${fileName}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (expected !== undefined) throw damaged(runId, checkpointId, fileName, "is gone");
    throw new CheckpointFileMissingError(
      `checkpoint file ${fileName} of tinker://${runId}/${checkpointId} is missing`,
    );
  }
  if (expected !== undefined) checkDigest(runId, checkpointId, fileName, bytes, expected);
  return bytes;
}

/**
 * Checks every file of a manifest, hashing only files that changed since they last passed: `seen`
 * maps a file's path to the size, mtime and inode it had then. Throws CheckpointDamagedError.
 */
export function verify(
  dataDir: string,
  runId: string,
  checkpointId: string,
  manifest: FileManifest,
  seen: Map<string, string>,
): void {
  const directory = checkpointDirectory(dataDir, runId, checkpointId);
  for (const [fileName, expected] of Object.entries(manifest)) {
    const path = join(directory, fileName);
    let identity: string;
    try {
      const stat = statSync(path, { bigint: true });
      if (stat.size !== BigInt(expected.size)) {
        throw damaged(
          runId,
          checkpointId,
          fileName,
          `has ${stat.size} bytes, not the ${expected.size} it was saved with`,
        );
      }
      identity = `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw damaged(runId, checkpointId, fileName, "is gone");
      }
      throw error;
    }
    if (seen.get(path) === identity) continue;
    checkDigest(runId, checkpointId, fileName, readFileSync(path), expected);
    seen.set(path, identity);
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
export const checkpointFiles = {
  write,
  read,
  verify,
  list,
  exists,
  remove,
  directory: checkpointDirectory,
};
