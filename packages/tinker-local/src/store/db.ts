// Opens the SQLite database of a data directory and brings its schema up to date.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS, type Migration } from "./migrations.js";

export type SqliteDatabase = Database.Database;

/** The SQLite file's name inside the data directory. */
export const DB_FILE_NAME = "tinker-local.sqlite";

/** Where the database of a data directory is (`<dataDir>/tinker-local.sqlite`). */
export function databasePath(dataDir: string): string {
  return join(dataDir, DB_FILE_NAME);
}

export function openDatabase(dataDir: string, migrations: readonly Migration[] = MIGRATIONS): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(databasePath(dataDir));
  try {
    // WAL lets another process (a test, `sqlite3`) read while the server writes.
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    migrate(db, migrations);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Opens an existing database for reading only, without touching its schema. */
export function openDatabaseReadOnly(dataDir: string): SqliteDatabase {
  const db = new Database(databasePath(dataDir), { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 5000");
  return db;
}

export function schemaVersion(db: SqliteDatabase): number {
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}

export function migrate(db: SqliteDatabase, migrations: readonly Migration[]): void {
  migrations.forEach((step, index) => {
    const previous = migrations[index - 1];
    if (previous !== undefined && step.version <= previous.version) {
      throw new Error(`migration versions must increase: ${step.version} follows ${previous.version}`);
    }
  });
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_version (
       version INTEGER PRIMARY KEY,
       name TEXT NOT NULL,
       applied_at INTEGER NOT NULL
     )`,
  );
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `the database is at schema version ${current}, newer than this tinker-local knows (${latest}); ` +
        "use a newer tinker-local or another --data-dir",
    );
  }
  const record = db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)");
  for (const step of migrations) {
    if (step.version <= current) continue;
    db.transaction(() => {
      db.exec(step.sql);
      record.run(step.version, step.name, Date.now());
    })();
  }
}
