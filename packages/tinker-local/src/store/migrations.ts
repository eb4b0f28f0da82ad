// Ordered schema steps. Append new steps with the next version number; never edit or reorder a step
// that has shipped, because existing data directories have already applied it.

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "sessions",
    // Times are integer milliseconds since the epoch; JSON columns hold JSON text.
    sql: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        tags TEXT NOT NULL,
        user_metadata TEXT,
        sdk_version TEXT NOT NULL,
        project_id TEXT,
        created_at INTEGER NOT NULL,
        last_heartbeat_at INTEGER,
        heartbeat_count INTEGER NOT NULL DEFAULT 0,
        expired_at INTEGER
      );
      CREATE INDEX sessions_by_owner ON sessions (owner, created_at);
    `,
  },
  {
    version: 2,
    name: "telemetry_counts",
    // Telemetry events are counted, not kept: their content is client diagnostics we do not need.
    // session_id is not a foreign key because session-less clients send `sessionless-<uuid>`.
    sql: `
      CREATE TABLE telemetry_counts (
        owner TEXT NOT NULL,
        session_id TEXT NOT NULL,
        batches INTEGER NOT NULL DEFAULT 0,
        events INTEGER NOT NULL DEFAULT 0,
        last_received_at INTEGER NOT NULL,
        PRIMARY KEY (owner, session_id)
      );
    `,
  },
];
