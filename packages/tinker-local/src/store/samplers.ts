// Sampling sessions. The id is `<session_id>:sample:<sampling_session_seq_id>`.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../clock.js";
import type { SqliteDatabase } from "./db.js";

/** A sampling session (`create_sampling_session`): what it samples from, for whom. */
export interface SamplerRecord {
  /** The sampling session id, `<session_id>:sample:<seq_id>`. */
  id: string;
  /** Owner id of the API key that created it (`user:<12 hex>`). */
  owner: string;
  /** The session it was created in. */
  sessionId: string;
  /** Catalog name of the base model. */
  baseModel: string;
  /** `tinker://...` of the weights it samples from; null for the bare base model. */
  modelPath: string | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface NewSampler {
  id: string;
  owner: string;
  sessionId: string;
  baseModel: string;
  modelPath: string | null;
  /** Default: the store clock's now. */
  createdAt?: number;
}

export class SamplerExistsError extends Error {
  override readonly name = "SamplerExistsError";
  readonly statusCode = 409;
}

interface SamplerRow {
  id: string;
  owner: string;
  session_id: string;
  base_model: string;
  model_path: string | null;
  created_at: number;
}

function fromRow(row: SamplerRow): SamplerRecord {
  return {
    id: row.id,
    owner: row.owner,
    sessionId: row.session_id,
    baseModel: row.base_model,
    modelPath: row.model_path,
    createdAt: row.created_at,
  };
}

export class SamplerStore {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement;
  private readonly bySessionStmt: Statement;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO samplers (id, owner, session_id, base_model, model_path, created_at)
       VALUES (@id, @owner, @sessionId, @baseModel, @modelPath, @createdAt)`,
    );
    this.getStmt = db.prepare("SELECT * FROM samplers WHERE id = ?");
    this.bySessionStmt = db.prepare("SELECT * FROM samplers WHERE session_id = ? ORDER BY created_at, rowid");
  }

  /** Throws SamplerExistsError (status 409) when the id is taken. */
  create(sampler: NewSampler): SamplerRecord {
    const record: SamplerRecord = { ...sampler, createdAt: sampler.createdAt ?? this.clock.now() };
    try {
      this.insertStmt.run(record);
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new SamplerExistsError(`sampler ${sampler.id} already exists`);
      }
      throw error;
    }
    return record;
  }

  get(id: string): SamplerRecord | undefined {
    const row = this.getStmt.get(id) as SamplerRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Oldest first. */
  listBySession(sessionId: string): SamplerRecord[] {
    return (this.bySessionStmt.all(sessionId) as SamplerRow[]).map(fromRow);
  }
}
