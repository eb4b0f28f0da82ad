// Training runs (one per model created by `create_model`). The run id is the model id,
// `<session_id>:train:<model_seq_id>`.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../clock.js";
import type { SqliteDatabase } from "./db.js";

/** A training run as `create_model` makes it. */
export interface NewRun {
  /** The model id, `<session_id>:train:<model_seq_id>`. */
  id: string;
  /** Owner id of the API key that created it (`user:<12 hex>`); other keys cannot see the run. */
  owner: string;
  /** The session the run was created in. */
  sessionId: string;
  /** Catalog name of the base model, e.g. `tinker-local/tiny`. */
  baseModel: string;
  /** Whether the run trains a LoRA adapter (always true on tinker-local today). */
  isLora: boolean;
  /** LoRA rank; null for a full fine-tune. */
  loraRank: number | null;
  /** Whether the MLP projections get adapters. */
  trainMlp: boolean;
  /** Whether the attention projections get adapters. */
  trainAttn: boolean;
  /** Whether the unembedding (output head) gets an adapter. */
  trainUnembed: boolean;
  /** The `user_metadata` sent with `create_model`, returned as is by the REST routes. */
  userMetadata: Record<string, string> | null;
  /** Default: the store clock's now. */
  createdAt?: number;
}

/** A stored training run. */
export interface RunRecord extends NewRun {
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Last training request on the run (creation until `touch` is called). */
  lastRequestAt: number;
}

export interface RunListOptions {
  limit: number;
  offset: number;
  /** Only runs whose session is in this project. */
  projectId?: string;
}

export interface Page<T> {
  items: T[];
  /** Matching rows in all pages. */
  totalCount: number;
}

export class RunExistsError extends Error {
  override readonly name = "RunExistsError";
  readonly statusCode = 409;
}

interface RunRow {
  id: string;
  owner: string;
  session_id: string;
  base_model: string;
  is_lora: number;
  lora_rank: number | null;
  train_mlp: number;
  train_attn: number;
  train_unembed: number;
  user_metadata: string | null;
  created_at: number;
  last_request_at: number;
}

function fromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    owner: row.owner,
    sessionId: row.session_id,
    baseModel: row.base_model,
    isLora: row.is_lora === 1,
    loraRank: row.lora_rank,
    trainMlp: row.train_mlp === 1,
    trainAttn: row.train_attn === 1,
    trainUnembed: row.train_unembed === 1,
    userMetadata:
      row.user_metadata === null ? null : (JSON.parse(row.user_metadata) as Record<string, string>),
    createdAt: row.created_at,
    lastRequestAt: row.last_request_at,
  };
}

/** A public checkpoint that is listed (not ephemeral) and not expired makes a run visible to others. */
export const PUBLIC_CHECKPOINT_OF_RUN = `EXISTS (
  SELECT 1 FROM checkpoints c
  WHERE c.run_id = r.id AND c.public = 1 AND c.ephemeral = 0
    AND (c.expires_at IS NULL OR c.expires_at > @now))`;

// Ordered by creation, not last_request_time: a listing that is being paged must not reshuffle
// because a run trained between two page requests.
const LIST_WHERE = `
  WHERE (r.owner = @owner OR (@accessible = 1 AND ${PUBLIC_CHECKPOINT_OF_RUN}))
    AND (@projectId IS NULL OR EXISTS (
      SELECT 1 FROM sessions s WHERE s.id = r.session_id AND s.project_id = @projectId))`;

export class RunStore {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement;
  private readonly touchStmt: Statement;
  private readonly listStmt: Statement;
  private readonly countStmt: Statement;
  private readonly bySessionStmt: Statement;
  private readonly publicStmt: Statement;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO training_runs (id, owner, session_id, base_model, is_lora, lora_rank, train_mlp,
         train_attn, train_unembed, user_metadata, created_at, last_request_at)
       VALUES (@id, @owner, @sessionId, @baseModel, @isLora, @loraRank, @trainMlp, @trainAttn,
         @trainUnembed, @userMetadata, @createdAt, @createdAt)`,
    );
    this.getStmt = db.prepare("SELECT * FROM training_runs WHERE id = ?");
    this.touchStmt = db.prepare(
      "UPDATE training_runs SET last_request_at = MAX(last_request_at, ?) WHERE id = ?",
    );
    this.listStmt = db.prepare(
      `SELECT r.* FROM training_runs r ${LIST_WHERE}
       ORDER BY r.created_at DESC, r.rowid DESC LIMIT @limit OFFSET @offset`,
    );
    this.countStmt = db.prepare(`SELECT COUNT(*) AS n FROM training_runs r ${LIST_WHERE}`);
    this.bySessionStmt = db.prepare(
      "SELECT * FROM training_runs r WHERE session_id = ? ORDER BY created_at, rowid",
    );
    this.publicStmt = db.prepare(
      `SELECT 1 AS yes FROM training_runs r WHERE r.id = @id AND ${PUBLIC_CHECKPOINT_OF_RUN}`,
    );
  }

  /** Throws RunExistsError (status 409) when the id is taken. */
  create(run: NewRun): RunRecord {
    const createdAt = run.createdAt ?? this.clock.now();
    try {
      this.insertStmt.run({
        id: run.id,
        owner: run.owner,
        sessionId: run.sessionId,
        baseModel: run.baseModel,
        isLora: run.isLora ? 1 : 0,
        loraRank: run.loraRank,
        trainMlp: run.trainMlp ? 1 : 0,
        trainAttn: run.trainAttn ? 1 : 0,
        trainUnembed: run.trainUnembed ? 1 : 0,
        userMetadata: run.userMetadata === null ? null : JSON.stringify(run.userMetadata),
        createdAt,
      });
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new RunExistsError(`training run ${run.id} already exists`);
      }
      throw error;
    }
    return { ...run, createdAt, lastRequestAt: createdAt };
  }

  get(id: string): RunRecord | undefined {
    const row = this.getStmt.get(id) as RunRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Records a training request on the run; `last_request_time` never moves backwards. */
  touch(id: string, now: number = this.clock.now()): void {
    this.touchStmt.run(now, id);
  }

  /** The owner's runs, newest created first. */
  listByOwner(owner: string, options: RunListOptions): Page<RunRecord> {
    return this.list(owner, false, options);
  }

  /** The owner's runs plus other users' runs that have a public checkpoint, newest created first. */
  listAccessible(owner: string, options: RunListOptions): Page<RunRecord> {
    return this.list(owner, true, options);
  }

  /** Runs of a session, oldest first. */
  listBySession(sessionId: string): RunRecord[] {
    return (this.bySessionStmt.all(sessionId) as RunRow[]).map(fromRow);
  }

  /** True when the run has a listed, unexpired public checkpoint. */
  hasPublicCheckpoint(id: string): boolean {
    return this.publicStmt.get({ id, now: this.clock.now() }) !== undefined;
  }

  private list(owner: string, accessible: boolean, options: RunListOptions): Page<RunRecord> {
    const params = {
      owner,
      accessible: accessible ? 1 : 0,
      projectId: options.projectId ?? null,
      now: this.clock.now(),
    };
    const items = (
      this.listStmt.all({ ...params, limit: options.limit, offset: options.offset }) as RunRow[]
    ).map(fromRow);
    const totalCount = (this.countStmt.get(params) as { n: number }).n;
    return { items, totalCount };
  }
}
