// Session rows: who created them, with what, and their heartbeat bookkeeping.
import type { Statement } from "better-sqlite3";
import type { SqliteDatabase } from "./db.js";
import { openDatabaseReadOnly } from "./db.js";

/** A session as `create_session` makes it. */
export interface NewSession {
  /** The session id the server handed out. */
  id: string;
  /** Owner id of the API key that created it (`user:<12 hex>`). */
  owner: string;
  /** The `tags` sent with `create_session`. */
  tags: string[];
  /** The `user_metadata` sent with `create_session`. */
  userMetadata: Record<string, unknown> | null;
  /** The `sdk_version` the client reported. */
  sdkVersion: string;
  /** The project the session belongs to, from `project_id`; null when none was sent. */
  projectId: string | null;
  /** Milliseconds since the epoch, from the server's clock. */
  createdAt: number;
}

/** A stored session with its heartbeat bookkeeping. */
export interface SessionRecord extends NewSession {
  /** Milliseconds since the epoch of the last heartbeat; null before the first. */
  lastHeartbeatAt: number | null;
  /** Heartbeats received so far. */
  heartbeatCount: number;
  /** When the session expired for lack of heartbeats (ms since the epoch); null while alive. */
  expiredAt: number | null;
}

interface SessionRow {
  id: string;
  owner: string;
  tags: string;
  user_metadata: string | null;
  sdk_version: string;
  project_id: string | null;
  created_at: number;
  last_heartbeat_at: number | null;
  heartbeat_count: number;
  expired_at: number | null;
}

function fromRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    owner: row.owner,
    tags: JSON.parse(row.tags) as string[],
    userMetadata:
      row.user_metadata === null ? null : (JSON.parse(row.user_metadata) as Record<string, unknown>),
    sdkVersion: row.sdk_version,
    projectId: row.project_id,
    createdAt: row.created_at,
    lastHeartbeatAt: row.last_heartbeat_at,
    heartbeatCount: row.heartbeat_count,
    expiredAt: row.expired_at,
  };
}

export class SessionStore {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement;
  private readonly heartbeatStmt: Statement;
  private readonly expireStmt: Statement;
  private readonly listByOwnerStmt: Statement;
  private readonly countByOwnerStmt: Statement;

  constructor(db: SqliteDatabase) {
    this.insertStmt = db.prepare(
      `INSERT INTO sessions (id, owner, tags, user_metadata, sdk_version, project_id, created_at)
       VALUES (@id, @owner, @tags, @userMetadata, @sdkVersion, @projectId, @createdAt)`,
    );
    this.getStmt = db.prepare("SELECT * FROM sessions WHERE id = ?");
    this.heartbeatStmt = db.prepare(
      "UPDATE sessions SET heartbeat_count = heartbeat_count + 1, last_heartbeat_at = ? WHERE id = ?",
    );
    this.expireStmt = db.prepare("UPDATE sessions SET expired_at = ? WHERE id = ? AND expired_at IS NULL");
    this.listByOwnerStmt = db.prepare(
      "SELECT * FROM sessions WHERE owner = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
    );
    this.countByOwnerStmt = db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE owner = ?");
  }

  insert(session: NewSession): SessionRecord {
    this.insertStmt.run({
      ...session,
      tags: JSON.stringify(session.tags),
      userMetadata: session.userMetadata === null ? null : JSON.stringify(session.userMetadata),
    });
    return { ...session, lastHeartbeatAt: null, heartbeatCount: 0, expiredAt: null };
  }

  get(id: string): SessionRecord | undefined {
    const row = this.getStmt.get(id) as SessionRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  recordHeartbeat(id: string, at: number): void {
    this.heartbeatStmt.run(at, id);
  }

  /** Idempotent: the first recorded expiry time wins. */
  markExpired(id: string, at: number): void {
    this.expireStmt.run(at, id);
  }

  /** Newest first. */
  listByOwner(owner: string, limit: number, offset: number): SessionRecord[] {
    return (this.listByOwnerStmt.all(owner, limit, offset) as SessionRow[]).map(fromRow);
  }

  countByOwner(owner: string): number {
    return (this.countByOwnerStmt.get(owner) as { n: number }).n;
  }
}

/**
 * Reads one session row straight from a data directory, read-only. Meant for tests that run
 * tinker-local as a separate process and want to see what it recorded.
 */
export function readSessionRecord(dataDir: string, sessionId: string): SessionRecord | undefined {
  const db = openDatabaseReadOnly(dataDir);
  try {
    const row = db.prepare("SELECT * FROM sessions WHERE id = ?").get(sessionId) as SessionRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  } finally {
    db.close();
  }
}

/** Every session row of a data directory, oldest first. */
export function readSessionRecords(dataDir: string): SessionRecord[] {
  const db = openDatabaseReadOnly(dataDir);
  try {
    return (db.prepare("SELECT * FROM sessions ORDER BY created_at, id").all() as SessionRow[]).map(fromRow);
  } finally {
    db.close();
  }
}
