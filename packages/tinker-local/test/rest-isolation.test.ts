// Two users on one server: neither sees nor touches the other's private resources (404, exactly
// like a missing resource), and a public checkpoint is visible to the other user where it should be.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { errorDetail } from "./helpers/server-http.js";
import {
  api,
  KEY_A,
  KEY_B,
  OWNER_A,
  type RestFixture,
  seedCheckpoint,
  seedRun,
  seedSampler,
  session,
  startRestServer,
} from "./rest-helpers.js";

let fx: RestFixture;
let sessionA: string;
let runA: string;
let samplerA: string;

before(async () => {
  fx = await startRestServer();
  sessionA = await session(fx.server, KEY_A);
  runA = seedRun(fx.server, OWNER_A, sessionA);
  seedCheckpoint(fx.server, runA, "weights/private");
  seedCheckpoint(fx.server, runA, "sampler_weights/shared");
  samplerA = seedSampler(fx.server, OWNER_A, sessionA, `tinker://${runA}/sampler_weights/shared`);
});
after(() => fx.close());

const ck = (id: string, suffix = "") => `/api/v1/training_runs/${runA}/checkpoints/${id}${suffix}`;

test("B gets 404 for A's private run, checkpoints, session and sampler", async () => {
  const attempts: [string, string, unknown?][] = [
    ["GET", `/api/v1/training_runs/${runA}`],
    ["GET", `/api/v1/training_runs/${runA}?access_scope=accessible`],
    ["GET", `/api/v1/training_runs/${runA}/checkpoints`],
    ["DELETE", ck("weights/private")],
    ["POST", ck("weights/private", "/publish")],
    ["DELETE", ck("weights/private", "/publish")],
    ["PUT", ck("weights/private", "/ttl"), { ttl_seconds: 1 }],
    ["GET", ck("weights/private", "/archive")],
    ["POST", "/api/v1/weights_info", { tinker_path: `tinker://${runA}/weights/private` }],
    ["GET", `/api/v1/sessions/${sessionA}`],
    ["GET", `/api/v1/sessions/${sessionA}?access_scope=accessible`],
    ["PUT", `/api/v1/sessions/${sessionA}/project`, { project_id: "b-project" }],
    ["GET", `/api/v1/sessions/${sessionA}/trace_export`],
    ["GET", `/api/v1/samplers/${samplerA}`],
  ];
  for (const [method, path, body] of attempts) {
    const result = await api(fx.server, method, path, KEY_B, body);
    assert.equal(result.status, 404, `${method} ${path}`);
    assert.match(errorDetail(result), /not found/i);
  }
  // Nothing changed for A.
  const checkpoint = fx.server.store.checkpoints.get(runA, "weights/private");
  assert.equal(checkpoint?.public, false);
  assert.equal(checkpoint?.expiresAt, null);
  assert.equal(fx.server.store.sessions.get(sessionA)?.projectId, null);
  for (const path of ["/api/v1/training_runs", "/api/v1/checkpoints", "/api/v1/sessions"]) {
    const listing = await api(fx.server, "GET", `${path}?access_scope=accessible`, KEY_B);
    assert.equal(listing.status, 200);
    assert.ok(!listing.text.includes(runA) && !listing.text.includes(sessionA), path);
  }
  // A sees all of it.
  assert.equal((await api(fx.server, "GET", `/api/v1/samplers/${samplerA}`, KEY_A)).status, 200);
});

test("a public checkpoint is visible to B through weights_info and access_scope=accessible", async () => {
  assert.equal((await api(fx.server, "POST", ck("sampler_weights/shared", "/publish"), KEY_A)).status, 200);
  try {
    const info = await api(fx.server, "POST", "/api/v1/weights_info", KEY_B, {
      tinker_path: `tinker://${runA}/sampler_weights/shared`,
    });
    assert.equal(info.status, 200);
    assert.equal((info.json as { lora_rank: number }).lora_rank, 8);
    // Still private: the other checkpoint.
    const privateInfo = await api(fx.server, "POST", "/api/v1/weights_info", KEY_B, {
      tinker_path: `tinker://${runA}/weights/private`,
    });
    assert.equal(privateInfo.status, 404);

    const owned = await api(fx.server, "GET", "/api/v1/training_runs", KEY_B);
    assert.equal((owned.json as { cursor: { total_count: number } }).cursor.total_count, 0);
    const accessible = await api(fx.server, "GET", "/api/v1/training_runs?access_scope=accessible", KEY_B);
    const body = accessible.json as {
      training_runs: {
        training_run_id: string;
        last_checkpoint?: unknown;
        last_sampler_checkpoint?: { checkpoint_id: string };
      }[];
      cursor: { total_count: number };
    };
    assert.deepEqual(
      body.training_runs.map((r) => r.training_run_id),
      [runA],
    );
    assert.equal(body.cursor.total_count, 1);
    // B sees only the public checkpoint as the run's latest.
    assert.equal(body.training_runs[0]?.last_checkpoint, undefined);
    assert.equal(body.training_runs[0]?.last_sampler_checkpoint?.checkpoint_id, "sampler_weights/shared");

    assert.equal((await api(fx.server, "GET", `/api/v1/training_runs/${runA}`, KEY_B)).status, 404);
    const single = await api(
      fx.server,
      "GET",
      `/api/v1/training_runs/${runA}?access_scope=accessible`,
      KEY_B,
    );
    assert.equal(single.status, 200);
    const list = await api(fx.server, "GET", `/api/v1/training_runs/${runA}/checkpoints`, KEY_B);
    assert.deepEqual(
      (list.json as { checkpoints: { checkpoint_id: string }[] }).checkpoints.map((c) => c.checkpoint_id),
      ["sampler_weights/shared"],
    );
    const sessions = await api(fx.server, "GET", "/api/v1/sessions?access_scope=accessible", KEY_B);
    assert.deepEqual((sessions.json as { sessions: string[] }).sessions, [sessionA]);
    const sessionView = await api(
      fx.server,
      "GET",
      `/api/v1/sessions/${sessionA}?access_scope=accessible`,
      KEY_B,
    );
    assert.deepEqual(sessionView.json, { training_run_ids: [runA], sampler_ids: [] });

    // Public does not mean B may change it.
    for (const [method, suffix, body] of [
      ["DELETE", "", undefined],
      ["DELETE", "/publish", undefined],
      ["PUT", "/ttl", { ttl_seconds: 5 }],
    ] as const) {
      const result = await api(fx.server, method, ck("sampler_weights/shared", suffix), KEY_B, body);
      assert.equal(result.status, 404, `${method} ${suffix}`);
    }
    assert.equal(fx.server.store.checkpoints.get(runA, "sampler_weights/shared")?.public, true);
    // B's user checkpoint listing stays B's own.
    const bCheckpoints = await api(fx.server, "GET", "/api/v1/checkpoints", KEY_B);
    assert.equal((bCheckpoints.json as { cursor: { total_count: number } }).cursor.total_count, 0);
  } finally {
    await api(fx.server, "DELETE", ck("sampler_weights/shared", "/publish"), KEY_A);
  }
});

test("an expired public checkpoint stops exposing the run", async () => {
  seedCheckpoint(fx.server, runA, "weights/brief", { expiresAt: fx.clock.now() + 1000 });
  assert.equal((await api(fx.server, "POST", ck("weights/brief", "/publish"), KEY_A)).status, 200);
  assert.equal(
    (await api(fx.server, "GET", `/api/v1/training_runs/${runA}?access_scope=accessible`, KEY_B)).status,
    200,
  );
  fx.clock.advance(1000);
  assert.equal(
    (await api(fx.server, "GET", `/api/v1/training_runs/${runA}?access_scope=accessible`, KEY_B)).status,
    404,
  );
});
