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
  {
    version: 3,
    name: "runs_checkpoints_samplers",
    // Runs, checkpoints and samplers for the REST side, plus the audit trail and usage events.
    // session_id is not a foreign key: rows outlive nothing, and tests may create runs directly.
    // Ties in "newest first" listings are broken by rowid (insertion order).
    sql: `
      CREATE TABLE training_runs (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        session_id TEXT NOT NULL,
        base_model TEXT NOT NULL,
        is_lora INTEGER NOT NULL,
        lora_rank INTEGER,
        train_mlp INTEGER NOT NULL,
        train_attn INTEGER NOT NULL,
        train_unembed INTEGER NOT NULL,
        user_metadata TEXT,
        created_at INTEGER NOT NULL,
        last_request_at INTEGER NOT NULL
      );
      CREATE INDEX training_runs_by_owner ON training_runs (owner, created_at);
      CREATE INDEX training_runs_by_session ON training_runs (session_id);
      CREATE TABLE checkpoints (
        run_id TEXT NOT NULL REFERENCES training_runs (id),
        checkpoint_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('training', 'sampler')),
        owner TEXT NOT NULL,
        size_bytes INTEGER,
        public INTEGER NOT NULL DEFAULT 0,
        ephemeral INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (run_id, checkpoint_id)
      );
      CREATE INDEX checkpoints_by_owner ON checkpoints (owner, created_at);
      CREATE INDEX checkpoints_by_expiry ON checkpoints (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE samplers (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        session_id TEXT NOT NULL,
        base_model TEXT NOT NULL,
        model_path TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX samplers_by_session ON samplers (session_id, created_at);
      CREATE TABLE audit_events (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        owner TEXT NOT NULL,
        event TEXT NOT NULL,
        model_id TEXT,
        tinker_path TEXT,
        purpose TEXT
      );
      CREATE INDEX audit_events_by_time ON audit_events (at);
      CREATE TABLE usage_events (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        owner TEXT NOT NULL,
        session_id TEXT NOT NULL,
        base_model TEXT NOT NULL,
        model_id TEXT,
        type TEXT NOT NULL,
        token_count INTEGER,
        cached INTEGER,
        count INTEGER,
        operation TEXT,
        duration_ms REAL
      );
      CREATE INDEX usage_events_by_owner ON usage_events (owner, at);
      CREATE INDEX usage_events_by_session ON usage_events (session_id, at);
    `,
  },
  {
    version: 4,
    name: "checkpoint_file_digests",
    // Each checkpoint's files as saved: JSON {file name: {size, sha256}}, checked on every read.
    // NULL for checkpoints saved before this step (their files are served unchecked).
    sql: `ALTER TABLE checkpoints ADD COLUMN files TEXT;`,
  },
];
