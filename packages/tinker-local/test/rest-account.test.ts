import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { errorDetail } from "./helpers/server-http.js";
import {
  api,
  KEY_A,
  KEY_ADMIN,
  KEY_B,
  OWNER_A,
  type RestFixture,
  seedCheckpoint,
  seedRun,
  session,
  startRestServer,
} from "./rest-helpers.js";

let fx: RestFixture;
let sessionA: string;
let runA: string;
const HOUR = 3600_000;

before(async () => {
  fx = await startRestServer();
  sessionA = await session(fx.server, KEY_A);
  runA = seedRun(fx.server, OWNER_A, sessionA);
});
after(() => fx.close());

test("audit needs an admin key: 403 for users, entries for the admin", async () => {
  const ck = `/api/v1/training_runs/${runA}/checkpoints/weights/audited`;
  seedCheckpoint(fx.server, runA, "weights/audited");
  assert.equal((await api(fx.server, "POST", `${ck}/publish`)).status, 200);
  assert.equal((await api(fx.server, "DELETE", `${ck}/publish`)).status, 200);
  assert.equal((await api(fx.server, "PUT", `${ck}/ttl`, KEY_A, { ttl_seconds: 30 })).status, 200);
  assert.equal((await api(fx.server, "DELETE", ck)).status, 200);

  for (const key of [KEY_A, KEY_B]) {
    const denied = await api(fx.server, "GET", "/api/v1/audit", key);
    assert.equal(denied.status, 403);
    assert.match(errorDetail(denied), /admin/);
  }
  const result = await api(fx.server, "GET", "/api/v1/audit?event_type=checkpoints", KEY_ADMIN);
  assert.equal(result.status, 200);
  const { entries } = result.json as { entries: Record<string, string>[] };
  assert.deepEqual(
    entries.map((e) => e.event),
    [
      "checkpoint_save",
      "checkpoint_publish",
      "checkpoint_unpublish",
      "checkpoint_set_ttl",
      "checkpoint_delete",
    ],
  );
  for (const entry of entries) {
    assert.equal(entry.model_id, runA);
    assert.equal(entry.tinker_path, `tinker://${runA}/weights/audited`);
    assert.match(entry.timestamp!, /^2026-01-15T12:00:00\.000Z$/);
  }
  assert.equal(entries[3]?.purpose, "ttl_seconds=30");

  const otherDay = await api(fx.server, "GET", "/api/v1/audit?day=2026-01-14", KEY_ADMIN);
  assert.deepEqual(otherDay.json, { entries: [] });
  const explicitDay = await api(fx.server, "GET", "/api/v1/audit?event_type=all&day=2026-01-15", KEY_ADMIN);
  assert.equal((explicitDay.json as { entries: unknown[] }).entries.length, 5);
  for (const query of ["day=2026-02-30", "day=15-01-2026", "event_type=logins"]) {
    const bad = await api(fx.server, "GET", `/api/v1/audit?${query}`, KEY_ADMIN);
    assert.equal(bad.status, 400, query);
    assert.match(errorDetail(bad), /day|event_type/);
  }
});

test("billing usage: hourly buckets with exactly the contract's event_info fields", async () => {
  const fresh = await startRestServer();
  try {
    const s = await session(fresh.server, KEY_A);
    const run = seedRun(fresh.server, OWNER_A, s);
    const t0 = fresh.clock.now(); // 12:00:00
    const usage = fresh.server.store.usage;
    const common = { owner: OWNER_A, sessionId: s, baseModel: "tinker-local/tiny", modelId: run };
    usage.record({ ...common, type: "training", tokenCount: 100, at: t0 + 60_000 });
    usage.record({ ...common, type: "training", tokenCount: 50, at: t0 + 120_000 });
    usage.record({ ...common, type: "training", tokenCount: 7, at: t0 + HOUR + 1 });
    usage.record({ ...common, type: "sampling_prefill", tokenCount: 30, cached: false, at: t0 + 5 });
    usage.record({ ...common, type: "sampling_sample", tokenCount: 12, at: t0 + 6 });
    fresh.clock.advance(2 * HOUR);
    seedCheckpoint(fresh.server, run, "weights/billed"); // a checkpoint event at 14:00
    usage.record({
      owner: "user:someoneelse",
      sessionId: "sess-x",
      baseModel: "tinker-local/tiny",
      type: "training",
      tokenCount: 999,
      at: t0,
    });

    const result = await api(
      fresh.server,
      "GET",
      "/api/v1/billing/usage/events?starting_on=2026-01-15T12:00:00Z&ending_before=2026-01-15T15:00:00Z",
    );
    assert.equal(result.status, 200);
    const body = result.json as { data: Record<string, unknown>[]; sessions: Record<string, unknown> };
    const summary = body.data.map((e) => [e.bucket_start, e.bucket_end, e.event_info]);
    assert.deepEqual(summary, [
      [
        "2026-01-15T12:00:00.000Z",
        "2026-01-15T13:00:00.000Z",
        { type: "sampling_prefill", cached: false, token_count: 30 },
      ],
      ["2026-01-15T12:00:00.000Z", "2026-01-15T13:00:00.000Z", { type: "sampling_sample", token_count: 12 }],
      ["2026-01-15T12:00:00.000Z", "2026-01-15T13:00:00.000Z", { type: "training", token_count: 150 }],
      ["2026-01-15T13:00:00.000Z", "2026-01-15T14:00:00.000Z", { type: "training", token_count: 7 }],
      ["2026-01-15T14:00:00.000Z", "2026-01-15T15:00:00.000Z", { type: "checkpoint", count: 1 }],
    ]);
    for (const event of body.data) {
      assert.equal(event.session_id, s);
      assert.equal(event.user_id, OWNER_A);
      assert.equal(event.base_model, "tinker-local/tiny");
    }
    assert.deepEqual(body.sessions, { [s]: { user_metadata: {} } });
  } finally {
    await fresh.close();
  }
});

test("billing usage validates its range", async () => {
  const cases: [string, RegExp][] = [
    ["", /starting_on.*required/],
    ["starting_on=2026-01-15T00:00:00Z", /ending_before.*required/],
    ["starting_on=2026-01-15&ending_before=2026-01-15T10:00:00Z", /RFC 3339/],
    ["starting_on=2026-01-15T00:30:00Z&ending_before=2026-01-15T10:00:00Z", /hour boundary/],
    ["starting_on=2026-01-15T10:00:00Z&ending_before=2026-01-15T10:00:00Z", /later than/],
    ["starting_on=2026-01-01T00:00:00Z&ending_before=2026-01-15T01:00:00Z", /14 days/],
    ["starting_on=2026-01-15T13:00:00Z&ending_before=2026-01-15T14:00:00Z", /future/],
  ];
  for (const [query, pattern] of cases) {
    const result = await api(fx.server, "GET", `/api/v1/billing/usage/events?${query}`);
    assert.equal(result.status, 400, query);
    assert.match(errorDetail(result), pattern, query);
  }
  const maxRange = await api(
    fx.server,
    "GET",
    "/api/v1/billing/usage/events?starting_on=2026-01-01T12:00:00Z&ending_before=2026-01-15T12:00:00Z",
  );
  assert.equal(maxRange.status, 200);
  const offset = await api(
    fx.server,
    "GET",
    "/api/v1/billing/usage/events?starting_on=2026-01-15T13:00:00%2B01:00&ending_before=2026-01-15T14:00:00Z",
  );
  assert.equal(offset.status, 200);
});
