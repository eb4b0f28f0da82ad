// The checkpoint audit trail behind `GET /api/v1/audit`: who saved, deleted, published, unpublished,
// changed the TTL of or downloaded which checkpoint, and when.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../clock.js";
import type { SqliteDatabase } from "./db.js";

export type AuditEvent =
  | "checkpoint_save"
  | "checkpoint_delete"
  | "checkpoint_expire"
  | "checkpoint_publish"
  | "checkpoint_unpublish"
  | "checkpoint_set_ttl"
  | "checkpoint_download";

export interface AuditRecord {
  at: number;
  owner: string;
  event: AuditEvent;
  modelId: string | null;
  tinkerPath: string | null;
  purpose: string | null;
}

export interface NewAuditRecord {
  owner: string;
  event: AuditEvent;
  modelId?: string | null;
  tinkerPath?: string | null;
  purpose?: string | null;
  /** Default: the store clock's now. */
  at?: number;
}

interface AuditRow {
  at: number;
  owner: string;
  event: AuditEvent;
  model_id: string | null;
  tinker_path: string | null;
  purpose: string | null;
}

export class AuditStore {
  private readonly insertStmt: Statement;
  private readonly rangeStmt: Statement;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO audit_events (at, owner, event, model_id, tinker_path, purpose)
       VALUES (@at, @owner, @event, @modelId, @tinkerPath, @purpose)`,
    );
    this.rangeStmt = db.prepare(
      `SELECT at, owner, event, model_id, tinker_path, purpose FROM audit_events
       WHERE at >= ? AND at < ? AND event LIKE ? ORDER BY at, id`,
    );
  }

  record(entry: NewAuditRecord): void {
    this.insertStmt.run({
      at: entry.at ?? this.clock.now(),
      owner: entry.owner,
      event: entry.event,
      modelId: entry.modelId ?? null,
      tinkerPath: entry.tinkerPath ?? null,
      purpose: entry.purpose ?? null,
    });
  }

  /** Entries with `start <= at < end`, oldest first; `eventPrefix` filters by event name. */
  list(start: number, end: number, eventPrefix = ""): AuditRecord[] {
    return (this.rangeStmt.all(start, end, `${eventPrefix}%`) as AuditRow[]).map((row) => ({
      at: row.at,
      owner: row.owner,
      event: row.event,
      modelId: row.model_id,
      tinkerPath: row.tinker_path,
      purpose: row.purpose,
    }));
  }
}
