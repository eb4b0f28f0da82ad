import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { errorDetail } from "./helpers/server-http.js";
import {
  api,
  KEY_A,
  KEY_B,
  OWNER_A,
  OWNER_B,
  type RestFixture,
  seedCheckpoint,
  seedRun,
  session,
  startRestServer,
} from "./rest-helpers.js";

interface Cursor {
  offset: number;
  limit: number;
  total_count: number;
}
interface RunJson {
  training_run_id: string;
  [key: string]: unknown;
}

let fx: RestFixture;
let sessionA: string;
const runsA: string[] = []; // oldest first
let runB: string;

before(async () => {
  fx = await startRestServer();
  sessionA = await session(fx.server, KEY_A);
  // 45 runs, one ms apart, plus a tie to show the tie-break is insertion order.
  for (let i = 0; i < 45; i++) {
    if (i !== 44) fx.clock.advance(1);
    runsA.push(seedRun(fx.server, OWNER_A, sessionA));
  }
  runB = seedRun(fx.server, OWNER_B, await session(fx.server, KEY_B));
});
after(() => fx.close());

test("GET training_runs pages newest first with a cursor; default limit 20", async () => {
  const newestFirst = [...runsA].reverse();
  const first = await api(fx.server, "GET", "/api/v1/training_runs");
  assert.equal(first.status, 200);
  const body = first.json as { training_runs: RunJson[]; cursor: Cursor };
  assert.deepEqual(body.cursor, { offset: 0, limit: 20, total_count: 45 });
  assert.deepEqual(
    body.training_runs.map((run) => run.training_run_id),
    newestFirst.slice(0, 20),
  );
  const seen: string[] = [];
  for (let offset = 0; offset < 60; offset += 7) {
    const page = await api(fx.server, "GET", `/api/v1/training_runs?limit=7&offset=${offset}`);
    const { training_runs, cursor } = page.json as { training_runs: RunJson[]; cursor: Cursor };
    assert.deepEqual(cursor, { offset, limit: 7, total_count: 45 });
    seen.push(...training_runs.map((run) => run.training_run_id));
  }
  assert.deepEqual(seen, newestFirst);
  assert.ok(!seen.includes(runB), "another user's private run is not listed");
});

test("a TrainingRun has the contract's fields, with the latest checkpoints", async () => {
  const runId = runsA[0]!;
  fx.clock.advance(10);
  seedCheckpoint(fx.server, runId, "weights/first");
  fx.clock.advance(10);
  seedCheckpoint(fx.server, runId, "weights/second");
  seedCheckpoint(fx.server, runId, "sampler_weights/s1");
  seedCheckpoint(fx.server, runId, "sampler_weights/ephemeral-1", { ephemeral: true });
  fx.clock.advance(5);
  fx.server.store.runs.touch(runId, fx.clock.now());
  const result = await api(fx.server, "GET", `/api/v1/training_runs/${runId}`);
  assert.equal(result.status, 200);
  const run = result.json as Record<string, unknown>;
  assert.deepEqual(Object.keys(run).sort(), [
    "base_model",
    "corrupted",
    "is_lora",
    "last_checkpoint",
    "last_request_time",
    "last_sampler_checkpoint",
    "lora_rank",
    "model_owner",
    "training_run_id",
    "user_metadata",
  ]);
  assert.equal(run.training_run_id, runId);
  assert.equal(run.base_model, "tinker-local/tiny");
  assert.equal(run.model_owner, OWNER_A);
  assert.equal(run.is_lora, true);
  assert.equal(run.corrupted, false);
  assert.equal(run.lora_rank, 8);
  assert.deepEqual(run.user_metadata, { purpose: "test" });
  assert.equal(run.last_request_time, new Date(fx.clock.now()).toISOString());
  assert.match(run.last_request_time as string, /Z$/);
  const last = run.last_checkpoint as Record<string, unknown>;
  assert.deepEqual(last, {
    checkpoint_id: "weights/second",
    checkpoint_type: "training",
    time: new Date(fx.clock.now() - 5).toISOString(),
    tinker_path: `tinker://${runId}/weights/second`,
    size_bytes: 16,
    public: false,
    expires_at: null,
  });
  assert.equal(
    (run.last_sampler_checkpoint as { checkpoint_id: string }).checkpoint_id,
    "sampler_weights/s1",
  );

  const list = await api(fx.server, "GET", `/api/v1/training_runs/${runId}/checkpoints`);
  assert.equal(list.status, 200);
  const { checkpoints } = list.json as { checkpoints: { checkpoint_id: string }[] };
  // Newest first; the ephemeral sampler checkpoint is not listed.
  assert.deepEqual(
    checkpoints.map((c) => c.checkpoint_id),
    ["sampler_weights/s1", "weights/second", "weights/first"],
  );
});

test("limit and offset are validated with a detail; max limit is 1000", async () => {
  for (const query of ["limit=0", "limit=1001", "limit=abc", "offset=-1", "limit=2.5", "limit=1&limit=2"]) {
    const result = await api(fx.server, "GET", `/api/v1/training_runs?${query}`);
    assert.equal(result.status, 400, query);
    assert.match(errorDetail(result), /limit|offset/, query);
  }
  const scope = await api(fx.server, "GET", "/api/v1/training_runs?access_scope=everything");
  assert.equal(scope.status, 400);
  assert.match(errorDetail(scope), /access_scope/);
  const max = await api(fx.server, "GET", "/api/v1/training_runs?limit=1000");
  assert.equal(max.status, 200);
  assert.equal((max.json as { cursor: Cursor }).cursor.limit, 1000);
});

test("project_id filters by the session's project", async () => {
  const projectSession = await session(fx.server, KEY_A);
  const put = await api(fx.server, "PUT", `/api/v1/sessions/${projectSession}/project`, KEY_A, {
    project_id: "proj-1",
  });
  assert.equal(put.status, 200);
  const inProject = seedRun(fx.server, OWNER_A, projectSession);
  const result = await api(fx.server, "GET", "/api/v1/training_runs?project_id=proj-1");
  const body = result.json as { training_runs: RunJson[]; cursor: Cursor };
  assert.deepEqual(
    body.training_runs.map((run) => run.training_run_id),
    [inProject],
  );
  assert.equal(body.cursor.total_count, 1);
});

test("GET /api/v1/checkpoints walks 260 checkpoints page by page, each exactly once, newest first", async () => {
  const fresh = await startRestServer();
  try {
    const s = await session(fresh.server, KEY_A);
    const runs = [seedRun(fresh.server, OWNER_A, s), seedRun(fresh.server, OWNER_A, s)];
    const expected: string[] = [];
    for (let i = 0; i < 260; i++) {
      fresh.clock.advance(1);
      const runId = runs[i % 2]!;
      const id = `${i % 3 === 0 ? "sampler_weights" : "weights"}/c${i}`;
      fresh.server.store.checkpoints.add({
        runId,
        checkpointId: id,
        kind: i % 3 === 0 ? "sampler" : "training",
        owner: OWNER_A,
        sizeBytes: 10,
        expiresAt: null,
      });
      expected.unshift(`tinker://${runId}/${id}`);
    }
    const other = seedRun(fresh.server, OWNER_B, await session(fresh.server, KEY_B));
    seedCheckpoint(fresh.server, other, "weights/b-only");

    const defaults = await api(fresh.server, "GET", "/api/v1/checkpoints");
    const first = defaults.json as { checkpoints: unknown[]; cursor: Cursor };
    assert.deepEqual(first.cursor, { offset: 0, limit: 100, total_count: 260 });
    assert.equal(first.checkpoints.length, 100);

    const seen: string[] = [];
    let offset = 0;
    for (let pages = 0; pages < 10; pages++) {
      const page = await api(fresh.server, "GET", `/api/v1/checkpoints?limit=75&offset=${offset}`);
      const body = page.json as { checkpoints: { tinker_path: string }[]; cursor: Cursor };
      assert.equal(body.cursor.total_count, 260);
      seen.push(...body.checkpoints.map((c) => c.tinker_path));
      offset += body.checkpoints.length;
      if (body.checkpoints.length < 75) break;
    }
    assert.equal(seen.length, 260);
    assert.equal(new Set(seen).size, 260);
    assert.deepEqual(seen, expected);
  } finally {
    await fresh.close();
  }
});

test("run ids with colons route; unknown runs are 404", async () => {
  const missing = await api(fx.server, "GET", "/api/v1/training_runs/sess-nope:train:9");
  assert.equal(missing.status, 404);
  assert.match(errorDetail(missing), /Training run not found: sess-nope:train:9/);
  const missingList = await api(fx.server, "GET", "/api/v1/training_runs/sess-nope:train:9/checkpoints");
  assert.equal(missingList.status, 404);
});
