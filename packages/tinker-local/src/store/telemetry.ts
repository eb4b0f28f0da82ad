// Counts of telemetry events per (owner, session id).
import type { Statement } from "better-sqlite3";
import type { SqliteDatabase } from "./db.js";
import { TelemetryEventLog } from "./telemetry-events.js";

export interface TelemetryCount {
  batches: number;
  events: number;
  lastReceivedAt: number;
}

export class TelemetryStore {
  private readonly upsertStmt: Statement;
  private readonly getStmt: Statement;
  /** The batches themselves, in memory (the newest 10 000 events), for tests and debugging. */
  readonly received = new TelemetryEventLog();

  constructor(db: SqliteDatabase) {
    this.upsertStmt = db.prepare(
      `INSERT INTO telemetry_counts (owner, session_id, batches, events, last_received_at)
       VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (owner, session_id) DO UPDATE SET
         batches = batches + 1,
         events = events + excluded.events,
         last_received_at = excluded.last_received_at`,
    );
    this.getStmt = db.prepare(
      `SELECT batches, events, last_received_at AS lastReceivedAt
       FROM telemetry_counts WHERE owner = ? AND session_id = ?`,
    );
  }

  record(owner: string, sessionId: string, events: number, at: number): void {
    this.upsertStmt.run(owner, sessionId, events, at);
  }

  get(owner: string, sessionId: string): TelemetryCount | undefined {
    return this.getStmt.get(owner, sessionId) as TelemetryCount | undefined;
  }
}
