// The server's persistent state: one SQLite database per data directory.
import { type Clock, systemClock } from "../clock.js";
import { AuditStore } from "./audit.js";
import { CheckpointStore, DEFAULT_CHECKPOINT_SWEEP_INTERVAL_MS } from "./checkpoints.js";
import { openDatabase, type SqliteDatabase } from "./db.js";
import { RunStore } from "./runs.js";
import { SamplerStore } from "./samplers.js";
import { SessionStore } from "./sessions.js";
import { TelemetryStore } from "./telemetry.js";
import { UsageStore } from "./usage.js";

/**
 * Everything tinker-local persists, in one SQLite database under `dataDir` plus checkpoint files
 * beside it. Tests read it (through `LocalServer.store`) to check what the server recorded; each
 * member is one table's accessor.
 */
export interface Store {
  /** The data directory: the database file and the checkpoint files live here. */
  readonly dataDir: string;
  /** The open better-sqlite3 handle (WAL mode), for ad-hoc queries in tests. */
  readonly db: SqliteDatabase;
  /** Sessions and their heartbeats. */
  readonly sessions: SessionStore;
  /** How many telemetry batches and events each session sent. */
  readonly telemetry: TelemetryStore;
  /** Training runs, one per created model. */
  readonly runs: RunStore;
  /** Saved checkpoints (training state and sampler weights), their files, TTLs and visibility. */
  readonly checkpoints: CheckpointStore;
  /** Sampling sessions and the weights each one samples from. */
  readonly samplers: SamplerStore;
  /** The audit log of who did what to which checkpoint. */
  readonly audit: AuditStore;
  /** Usage events (training, sampling prefill and sample tokens, checkpoints) behind billing usage. */
  readonly usage: UsageStore;
  /** Stops the checkpoint sweeper and closes the database; the store cannot be used after. */
  close(): void;
}

/** How {@link openStore} opens a store. */
export interface StoreOptions {
  /** Time source for created/expiry times. Default: `Date.now`. */
  clock?: Clock;
  /** How often expired checkpoints are swept; 0 turns the timer off (reads still expire lazily). */
  checkpointSweepIntervalMs?: number;
}

/** Opens (creating and migrating when needed) the store in `dataDir`. Close it with `store.close()`. */
export function openStore(dataDir: string, options: StoreOptions = {}): Store {
  const db = openDatabase(dataDir);
  const clock = options.clock ?? systemClock;
  const runs = new RunStore(db, clock);
  const audit = new AuditStore(db, clock);
  const usage = new UsageStore(db, clock);
  const checkpoints = new CheckpointStore(db, dataDir, clock, runs, audit, usage);
  const sweepIntervalMs = options.checkpointSweepIntervalMs ?? DEFAULT_CHECKPOINT_SWEEP_INTERVAL_MS;
  if (sweepIntervalMs > 0) checkpoints.startSweeper(sweepIntervalMs);
  return {
    dataDir,
    db,
    sessions: new SessionStore(db),
    telemetry: new TelemetryStore(db),
    runs,
    checkpoints,
    samplers: new SamplerStore(db, clock),
    audit,
    usage,
    close: () => {
      checkpoints.stopSweeper();
      if (db.open) db.close();
    },
  };
}
