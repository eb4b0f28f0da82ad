// The server's persistent state: one SQLite database per data directory.
import { openDatabase, type SqliteDatabase } from "./db.js";
import { SessionStore } from "./sessions.js";
import { TelemetryStore } from "./telemetry.js";

export interface Store {
  readonly dataDir: string;
  readonly db: SqliteDatabase;
  readonly sessions: SessionStore;
  readonly telemetry: TelemetryStore;
  close(): void;
}

export function openStore(dataDir: string): Store {
  const db = openDatabase(dataDir);
  return {
    dataDir,
    db,
    sessions: new SessionStore(db),
    telemetry: new TelemetryStore(db),
    close: () => {
      if (db.open) db.close();
    },
  };
}
