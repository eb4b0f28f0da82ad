// Checkpoint rows and their lifetime. Expiry is real: an expired checkpoint is absent from every
// read (get, lists) and is deleted with its files, lazily when it is read and by a periodic sweep.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../clock.js";
import type { AuditStore } from "./audit.js";
import { checkpointFiles, type FileManifest, manifestSize } from "./checkpoint-files.js";
import { type CheckpointKind, parseCheckpointId, tinkerPathFor } from "./checkpoint-ids.js";
import type { SqliteDatabase } from "./db.js";
import type { Page, RunStore } from "./runs.js";
import type { UsageStore } from "./usage.js";

/** A saved checkpoint as the store keeps it (its files are under the data directory). */
export interface CheckpointRecord {
  /** The training run that saved it. */
  runId: string;
  /** `weights/<name>` or `sampler_weights/<name>`. */
  checkpointId: string;
  /** `training` (optimizer state, for `load_state`) or `sampler` (weights only, for sampling). */
  kind: CheckpointKind;
  /** Owner id of the run's API key (`user:<12 hex>`). */
  owner: string;
  /** `tinker://<runId>/<checkpointId>`. */
  tinkerPath: string;
  /** Bytes on disk; null while unknown. */
  sizeBytes: number | null;
  /** Whether other keys may read it (published). */
  public: boolean;
  /** Made by an unnamed save_weights_for_sampler: usable by path, never listed. */
  ephemeral: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Null: never expires. */
  expiresAt: number | null;
  /**
   * Size and SHA-256 of each file, recorded at save time and checked on every read. Null for a row
   * recorded without files (`add`) or saved before digests were recorded.
   */
  files: FileManifest | null;
}

export interface NewCheckpoint {
  runId: string;
  checkpointId: string;
  kind: CheckpointKind;
  owner: string;
  sizeBytes: number | null;
  expiresAt: number | null;
  /** Default false. */
  public?: boolean;
  /** Default false. */
  ephemeral?: boolean;
  /** Default: the store clock's now. */
  createdAt?: number;
  /** Replace an existing checkpoint of the same id instead of throwing CheckpointExistsError. */
  overwrite?: boolean;
  /** The files' digests (`checkpointFiles.write` returns them). Default: none recorded. */
  files?: FileManifest | null;
}

export interface CheckpointListOptions {
  limit: number;
  offset: number;
}

/** A save to a name that is taken (and not expired) without `overwrite`. Status 409. */
export class CheckpointExistsError extends Error {
  /** Always `"CheckpointExistsError"`. */
  override readonly name = "CheckpointExistsError";
  /** The HTTP status the routes answer with. */
  readonly statusCode = 409;
}

interface CheckpointRow {
  run_id: string;
  checkpoint_id: string;
  kind: CheckpointKind;
  owner: string;
  size_bytes: number | null;
  public: number;
  ephemeral: number;
  created_at: number;
  expires_at: number | null;
  files: string | null;
}

function fromRow(row: CheckpointRow): CheckpointRecord {
  return {
    runId: row.run_id,
    checkpointId: row.checkpoint_id,
    kind: row.kind,
    owner: row.owner,
    tinkerPath: tinkerPathFor(row.run_id, row.checkpoint_id),
    sizeBytes: row.size_bytes,
    public: row.public === 1,
    ephemeral: row.ephemeral === 1,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    files: row.files === null ? null : (JSON.parse(row.files) as FileManifest),
  };
}

const LIVE = "(expires_at IS NULL OR expires_at > @now)";
const NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC";

export const DEFAULT_CHECKPOINT_SWEEP_INTERVAL_MS = 60_000;

export class CheckpointStore {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly byRunStmt: Statement;
  private readonly byOwnerStmt: Statement;
  private readonly countByOwnerStmt: Statement;
  private readonly latestStmt: Statement;
  private readonly setPublicStmt: Statement;
  private readonly setExpiryStmt: Statement;
  private readonly expiredStmt: Statement;
  private sweeper: NodeJS.Timeout | undefined;
  /** Checkpoint files whose hash was checked, by path: the size, times and inode they had then. */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly dataDir: string,
    private readonly clock: Clock,
    private readonly runs: RunStore,
    private readonly audit: AuditStore,
    private readonly usage: UsageStore,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO checkpoints (run_id, checkpoint_id, kind, owner, size_bytes, public, ephemeral,
         created_at, expires_at, files)
       VALUES (@runId, @checkpointId, @kind, @owner, @sizeBytes, @public, @ephemeral, @createdAt,
         @expiresAt, @files)`,
    );
    this.getStmt = db.prepare("SELECT * FROM checkpoints WHERE run_id = ? AND checkpoint_id = ?");
    this.deleteStmt = db.prepare("DELETE FROM checkpoints WHERE run_id = ? AND checkpoint_id = ?");
    this.byRunStmt = db.prepare(
      `SELECT * FROM checkpoints WHERE run_id = @runId AND ephemeral = 0 AND ${LIVE}
         AND (@publicOnly = 0 OR public = 1) ${NEWEST_FIRST}`,
    );
    this.byOwnerStmt = db.prepare(
      `SELECT * FROM checkpoints WHERE owner = @owner AND ephemeral = 0 AND ${LIVE}
       ${NEWEST_FIRST} LIMIT @limit OFFSET @offset`,
    );
    this.countByOwnerStmt = db.prepare(
      `SELECT COUNT(*) AS n FROM checkpoints WHERE owner = @owner AND ephemeral = 0 AND ${LIVE}`,
    );
    this.latestStmt = db.prepare(
      `SELECT * FROM checkpoints WHERE run_id = @runId AND kind = @kind AND ephemeral = 0 AND ${LIVE}
         AND (@publicOnly = 0 OR public = 1) ${NEWEST_FIRST} LIMIT 1`,
    );
    this.setPublicStmt = db.prepare(
      "UPDATE checkpoints SET public = ? WHERE run_id = ? AND checkpoint_id = ? AND public = ?",
    );
    this.setExpiryStmt = db.prepare(
      "UPDATE checkpoints SET expires_at = ? WHERE run_id = ? AND checkpoint_id = ?",
    );
    this.expiredStmt = db.prepare(
      "SELECT * FROM checkpoints WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at",
    );
  }

  /**
   * Records a checkpoint whose files are already written (`checkpointFiles.write`). Throws
   * CheckpointExistsError when the id is taken, unless `overwrite`. Records the audit `save` event
   * and one `checkpoint` usage event.
   */
  add(checkpoint: NewCheckpoint): CheckpointRecord {
    this.assertSavable(checkpoint);
    return this.insert(checkpoint);
  }

  /** `add` with overwrite: replaces the row of an existing checkpoint of the same id. */
  replace(checkpoint: NewCheckpoint): CheckpointRecord {
    return this.insert({ ...checkpoint, overwrite: true });
  }

  /**
   * The whole save in one call: checks the name, writes `files`, records the row. Files are written
   * only when the save is allowed, so a refused save leaves the existing checkpoint untouched.
   */
  save(
    checkpoint: Omit<NewCheckpoint, "sizeBytes" | "files">,
    files: Readonly<Record<string, Uint8Array>>,
  ): CheckpointRecord {
    this.assertSavable(checkpoint);
    const manifest = checkpointFiles.write(this.dataDir, checkpoint.runId, checkpoint.checkpointId, files);
    return this.insert({ ...checkpoint, sizeBytes: manifestSize(manifest), files: manifest });
  }

  /**
   * One file of a checkpoint, checked against the size and SHA-256 recorded when it was saved:
   * throws CheckpointDamagedError (a server error) rather than return bytes that do not match.
   */
  readFile(record: CheckpointRecord, fileName: string): Uint8Array {
    return checkpointFiles.read(this.dataDir, record.runId, record.checkpointId, fileName, record.files);
  }

  /**
   * Throws CheckpointDamagedError unless every recorded file of the checkpoint is on disk with its
   * recorded size and hash. Files unchanged (size, mtime, ctime, inode) since they last passed are
   * not hashed again, so listing stays cheap.
   */
  verify(record: CheckpointRecord): void {
    if (record.files === null) return;
    checkpointFiles.verify(this.dataDir, record.runId, record.checkpointId, record.files, this.verified);
  }

  /** Undefined when absent or expired (an expired one is deleted now, files included). */
  get(runId: string, checkpointId: string): CheckpointRecord | undefined {
    const row = this.getStmt.get(runId, checkpointId) as CheckpointRow | undefined;
    if (row === undefined) return undefined;
    const record = fromRow(row);
    if (record.expiresAt !== null && record.expiresAt <= this.clock.now()) {
      this.expire(record);
      return undefined;
    }
    return record;
  }

  /** A run's listed checkpoints, newest first; `publicOnly` for someone who does not own the run. */
  listByRun(runId: string, options: { publicOnly?: boolean } = {}): CheckpointRecord[] {
    this.sweep();
    const rows = this.byRunStmt.all({
      runId,
      publicOnly: options.publicOnly ? 1 : 0,
      now: this.clock.now(),
    }) as CheckpointRow[];
    return rows.map(fromRow);
  }

  /** The owner's listed checkpoints across runs, newest first. */
  listByOwner(owner: string, options: CheckpointListOptions): Page<CheckpointRecord> {
    this.sweep();
    const now = this.clock.now();
    const items = (
      this.byOwnerStmt.all({ owner, now, limit: options.limit, offset: options.offset }) as CheckpointRow[]
    ).map(fromRow);
    const totalCount = (this.countByOwnerStmt.get({ owner, now }) as { n: number }).n;
    return { items, totalCount };
  }

  /** The newest listed checkpoint of a kind on a run (TrainingRun.last_checkpoint and friends). */
  latest(runId: string, kind: CheckpointKind, options: { publicOnly?: boolean } = {}) {
    const row = this.latestStmt.get({
      runId,
      kind,
      publicOnly: options.publicOnly ? 1 : 0,
      now: this.clock.now(),
    }) as CheckpointRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** False when the checkpoint is absent or already in that state. Records publish/unpublish. */
  setPublic(runId: string, checkpointId: string, isPublic: boolean): boolean {
    const record = this.get(runId, checkpointId);
    if (record === undefined) return false;
    const changed =
      this.setPublicStmt.run(isPublic ? 1 : 0, runId, checkpointId, isPublic ? 0 : 1).changes === 1;
    if (changed) {
      this.recordEvent(record, isPublic ? "checkpoint_publish" : "checkpoint_unpublish", null);
    }
    return changed;
  }

  /** Expires `ttlSeconds` from now, or never with null. False when the checkpoint is absent. */
  setTtl(runId: string, checkpointId: string, ttlSeconds: number | null): boolean {
    const record = this.get(runId, checkpointId);
    if (record === undefined) return false;
    const expiresAt = ttlSeconds === null ? null : this.clock.now() + ttlSeconds * 1000;
    this.setExpiryStmt.run(expiresAt, runId, checkpointId);
    this.recordEvent(
      record,
      "checkpoint_set_ttl",
      ttlSeconds === null ? "ttl removed" : `ttl_seconds=${ttlSeconds}`,
    );
    return true;
  }

  /** Deletes the row and its files. False when it was absent (or had expired). */
  delete(runId: string, checkpointId: string): boolean {
    const record = this.get(runId, checkpointId);
    if (record === undefined) return false;
    this.deleteStmt.run(runId, checkpointId);
    this.removeFiles(runId, checkpointId);
    this.recordEvent(record, "checkpoint_delete", null);
    return true;
  }

  /** Deletes every checkpoint whose expiry has passed, with its files. Returns how many. */
  sweep(): number {
    const expired = (this.expiredStmt.all(this.clock.now()) as CheckpointRow[]).map(fromRow);
    for (const record of expired) this.expire(record);
    return expired.length;
  }

  /** Sweeps every `intervalMs` on an unref'd timer until `stopSweeper()`. */
  startSweeper(intervalMs: number = DEFAULT_CHECKPOINT_SWEEP_INTERVAL_MS): void {
    this.stopSweeper();
    this.sweeper = setInterval(() => {
      if (this.db.open) this.sweep();
    }, intervalMs);
    this.sweeper.unref();
  }

  stopSweeper(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Records the audit event of a downloaded checkpoint (e.g. its archive). */
  recordDownload(record: CheckpointRecord, purpose = "archive"): void {
    this.recordEvent(record, "checkpoint_download", purpose);
  }

  private assertSavable(checkpoint: Pick<NewCheckpoint, "runId" | "checkpointId" | "overwrite">): void {
    parseCheckpointId(checkpoint.checkpointId);
    if (this.runs.get(checkpoint.runId) === undefined) {
      throw new RangeError(`no training run ${checkpoint.runId}`);
    }
    if (!checkpoint.overwrite && this.get(checkpoint.runId, checkpoint.checkpointId) !== undefined) {
      throw new CheckpointExistsError(
        `checkpoint ${tinkerPathFor(checkpoint.runId, checkpoint.checkpointId)} already exists; save with overwrite or pick another name`,
      );
    }
  }

  private insert(checkpoint: NewCheckpoint): CheckpointRecord {
    const { kind } = parseCheckpointId(checkpoint.checkpointId);
    if (kind !== checkpoint.kind) {
      throw new RangeError(`checkpoint id ${checkpoint.checkpointId} does not match kind ${checkpoint.kind}`);
    }
    const run = this.runs.get(checkpoint.runId);
    if (run === undefined) throw new RangeError(`no training run ${checkpoint.runId}`);
    const record: CheckpointRecord = {
      runId: checkpoint.runId,
      checkpointId: checkpoint.checkpointId,
      kind: checkpoint.kind,
      owner: checkpoint.owner,
      tinkerPath: tinkerPathFor(checkpoint.runId, checkpoint.checkpointId),
      sizeBytes: checkpoint.sizeBytes,
      public: checkpoint.public ?? false,
      ephemeral: checkpoint.ephemeral ?? false,
      createdAt: checkpoint.createdAt ?? this.clock.now(),
      expiresAt: checkpoint.expiresAt,
      files: checkpoint.files ?? null,
    };
    this.db.transaction(() => {
      this.deleteStmt.run(record.runId, record.checkpointId);
      this.insertStmt.run({
        ...record,
        public: record.public ? 1 : 0,
        ephemeral: record.ephemeral ? 1 : 0,
        files: record.files === null ? null : JSON.stringify(record.files),
      });
      this.recordEvent(record, "checkpoint_save", record.ephemeral ? "ephemeral sampler weights" : null);
      this.usage.record({
        owner: record.owner,
        sessionId: run.sessionId,
        baseModel: run.baseModel,
        type: "checkpoint",
        count: 1,
        modelId: run.id,
        operation: record.kind === "training" ? "save_weights" : "save_weights_for_sampler",
        at: record.createdAt,
      });
    })();
    return record;
  }

  private removeFiles(runId: string, checkpointId: string): void {
    const directory = checkpointFiles.directory(this.dataDir, runId, checkpointId);
    checkpointFiles.remove(this.dataDir, runId, checkpointId);
    for (const path of this.verified.keys()) if (path.startsWith(directory)) this.verified.delete(path);
  }

  private expire(record: CheckpointRecord): void {
    this.deleteStmt.run(record.runId, record.checkpointId);
    this.removeFiles(record.runId, record.checkpointId);
    this.recordEvent(record, "checkpoint_expire", "ttl expired", record.expiresAt ?? undefined);
  }

  private recordEvent(
    record: CheckpointRecord,
    event: Parameters<AuditStore["record"]>[0]["event"],
    purpose: string | null,
    at?: number,
  ): void {
    this.audit.record({
      owner: record.owner,
      event,
      modelId: record.runId,
      tinkerPath: record.tinkerPath,
      purpose,
      at,
    });
  }
}
