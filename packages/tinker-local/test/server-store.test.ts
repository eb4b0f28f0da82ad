import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { readSessionRecord, readSessionRecords } from "tinker-local";
import { openDatabase, schemaVersion } from "../src/store/db.js";
import { openStore } from "../src/store/index.js";
import { MIGRATIONS } from "../src/store/migrations.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tinker-local-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("migrations apply once, in order, in WAL mode", () => {
  const first = openDatabase(dir);
  assert.equal(first.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(schemaVersion(first), MIGRATIONS.at(-1)?.version);
  first.close();
  const again = openDatabase(dir);
  const rows = again.prepare("SELECT version, name FROM schema_version ORDER BY version").all();
  assert.deepEqual(
    rows,
    MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
  );
  again.close();
});

test("a later migration list upgrades an existing database", () => {
  openDatabase(dir, MIGRATIONS.slice(0, 1)).close();
  const db = openDatabase(dir, [
    ...MIGRATIONS,
    { version: 1000, name: "extra", sql: "CREATE TABLE extra (x INTEGER)" },
  ]);
  assert.equal(schemaVersion(db), 1000);
  assert.deepEqual(db.prepare("SELECT COUNT(*) AS n FROM telemetry_counts").get(), { n: 0 });
  db.close();
});

test("a database from a newer tinker-local is refused; so are unordered migrations", () => {
  openDatabase(dir, [...MIGRATIONS, { version: 1000, name: "future", sql: "SELECT 1" }]).close();
  assert.throws(() => openDatabase(dir), /schema version 1000/);
  const dir2 = join(dir, "other");
  assert.throws(() => openDatabase(dir2, [MIGRATIONS[1]!, MIGRATIONS[0]!]), /versions must increase/);
});

test("a failing migration step leaves the schema at the last good version", () => {
  assert.throws(() =>
    openDatabase(dir, [...MIGRATIONS, { version: 1000, name: "broken", sql: "CREATE TABLE t (x); NOT SQL" }]),
  );
  const db = openDatabase(dir);
  assert.equal(schemaVersion(db), MIGRATIONS.at(-1)?.version);
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get(), undefined);
  db.close();
});

test("readSessionRecord reads rows of a live store from outside", () => {
  const store = openStore(dir);
  try {
    store.sessions.insert({
      id: "sess-1",
      owner: "user:abc",
      tags: ["t"],
      userMetadata: null,
      sdkVersion: "1",
      projectId: null,
      createdAt: 5,
    });
    store.sessions.recordHeartbeat("sess-1", 9);
    assert.deepEqual(
      { ...readSessionRecord(dir, "sess-1") },
      {
        id: "sess-1",
        owner: "user:abc",
        tags: ["t"],
        userMetadata: null,
        sdkVersion: "1",
        projectId: null,
        createdAt: 5,
        lastHeartbeatAt: 9,
        heartbeatCount: 1,
        expiredAt: null,
      },
    );
    assert.equal(readSessionRecord(dir, "sess-missing"), undefined);
    assert.deepEqual(
      readSessionRecords(dir).map((r) => r.id),
      ["sess-1"],
    );
  } finally {
    store.close();
  }
});
