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

export interface Store {
  readonly dataDir: string;
  readonly db: SqliteDatabase;
  readonly sessions: SessionStore;
  readonly telemetry: TelemetryStore;
  readonly runs: RunStore;
  readonly checkpoints: CheckpointStore;
  readonly samplers: SamplerStore;
  readonly audit: AuditStore;
  readonly usage: UsageStore;
  close(): void;
}

export interface StoreOptions {
  /** Time source for created/expiry times. Default: `Date.now`. */
  clock?: Clock;
  /** How often expired checkpoints are swept; 0 turns the timer off (reads still expire lazily). */
  checkpointSweepIntervalMs?: number;
}

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
