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
const sessionsA: string[] = []; // oldest first

before(async () => {
  fx = await startRestServer({ traceExportPendingPolls: 2 });
  for (let i = 0; i < 27; i++) {
    fx.clock.advance(1);
    sessionsA.push(await session(fx.server, KEY_A));
  }
  await session(fx.server, KEY_B);
});
after(() => fx.close());

test("GET sessions: ids only, newest first, default limit 20, paged by offset", async () => {
  const newestFirst = [...sessionsA].reverse();
  const first = await api(fx.server, "GET", "/api/v1/sessions");
  assert.equal(first.status, 200);
  assert.deepEqual(Object.keys(first.json as object), ["sessions"]);
  assert.deepEqual((first.json as { sessions: string[] }).sessions, newestFirst.slice(0, 20));
  const second = await api(fx.server, "GET", "/api/v1/sessions?limit=20&offset=20");
  assert.deepEqual((second.json as { sessions: string[] }).sessions, newestFirst.slice(20));
  const bad = await api(fx.server, "GET", "/api/v1/sessions?limit=-3");
  assert.equal(bad.status, 400);
  assert.match(errorDetail(bad), /limit/);
});

test("GET session lists its training runs and samplers", async () => {
  const s = sessionsA[0]!;
  const runs = [seedRun(fx.server, OWNER_A, s), seedRun(fx.server, OWNER_A, s)];
  seedSampler(fx.server, OWNER_A, s);
  const result = await api(fx.server, "GET", `/api/v1/sessions/${s}`);
  assert.equal(result.status, 200);
  assert.deepEqual(result.json, { training_run_ids: runs, sampler_ids: [`${s}:sample:0`] });
  const empty = await api(fx.server, "GET", `/api/v1/sessions/${sessionsA[1]}`);
  assert.deepEqual(empty.json, { training_run_ids: [], sampler_ids: [] });
  assert.equal((await api(fx.server, "GET", "/api/v1/sessions/sess-missing")).status, 404);
});

test("GET sampler: sampler_id, base_model and model_path when it has one", async () => {
  const s = sessionsA[2]!;
  const run = seedRun(fx.server, OWNER_A, s);
  seedSampler(fx.server, OWNER_A, s);
  seedSampler(fx.server, OWNER_A, s, `tinker://${run}/sampler_weights/x`, 1);
  assert.deepEqual((await api(fx.server, "GET", `/api/v1/samplers/${s}:sample:0`)).json, {
    sampler_id: `${s}:sample:0`,
    base_model: "tinker-local/tiny",
  });
  assert.deepEqual((await api(fx.server, "GET", `/api/v1/samplers/${s}:sample:1`)).json, {
    sampler_id: `${s}:sample:1`,
    base_model: "tinker-local/tiny",
    model_path: `tinker://${run}/sampler_weights/x`,
  });
  assert.equal((await api(fx.server, "GET", `/api/v1/samplers/${s}:sample:9`)).status, 404);
});

test("PUT project: 400 without project_id, 404 unknown, idempotent, no moving out", async () => {
  const s = sessionsA[3]!;
  const path = `/api/v1/sessions/${s}/project`;
  const missing = await api(fx.server, "PUT", path, KEY_A, {});
  assert.equal(missing.status, 400);
  assert.match(errorDetail(missing), /project_id/);
  assert.equal((await api(fx.server, "PUT", path, KEY_A, { project_id: "" })).status, 400);
  assert.equal(
    (await api(fx.server, "PUT", "/api/v1/sessions/sess-nope/project", KEY_A, { project_id: "p" })).status,
    404,
  );
  assert.equal((await api(fx.server, "PUT", path, KEY_A, { project_id: "p1" })).status, 200);
  assert.equal(fx.server.store.sessions.get(s)?.projectId, "p1");
  assert.equal((await api(fx.server, "PUT", path, KEY_A, { project_id: "p1" })).status, 200);
  const move = await api(fx.server, "PUT", path, KEY_A, { project_id: "p2" });
  assert.equal(move.status, 400);
  assert.match(errorDetail(move), /cannot be moved out of a project/);
  assert.equal(fx.server.store.sessions.get(s)?.projectId, "p1");
});

test("trace export: pending, then ready with a signed URL serving a Perfetto JSON trace", async () => {
  const s = sessionsA[4]!;
  const run = seedRun(fx.server, OWNER_A, s);
  fx.clock.advance(100);
  fx.server.store.usage.record({
    owner: OWNER_A,
    sessionId: s,
    baseModel: "tinker-local/tiny",
    type: "training",
    tokenCount: 128,
    modelId: run,
    operation: "forward_backward",
    durationMs: 40,
  });
  seedCheckpoint(fx.server, run, "weights/t1");
  const path = `/api/v1/sessions/${s}/trace_export`;
  assert.deepEqual((await api(fx.server, "GET", path)).json, { status: "pending" });
  assert.deepEqual((await api(fx.server, "GET", path)).json, { status: "pending" });
  const ready = (await api(fx.server, "GET", path)).json as { status: string; url: string };
  assert.equal(ready.status, "ready");
  const download = await fetch(ready.url);
  assert.equal(download.status, 200);
  const trace = (await download.json()) as {
    traceEvents: { name: string; ph: string; ts?: number; dur?: number; args?: Record<string, unknown> }[];
    otherData: { session_id: string };
  };
  assert.equal(trace.otherData.session_id, s);
  const names = trace.traceEvents.map((e) => e.name);
  for (const name of ["process_name", "create_session", "create_model", "forward_backward", "save_weights"]) {
    assert.ok(names.includes(name), `${name} in ${names.join(",")}`);
  }
  const fb = trace.traceEvents.find((e) => e.name === "forward_backward")!;
  assert.equal(fb.ph, "X");
  assert.equal(fb.dur, 40_000);
  assert.equal(fb.args?.token_count, 128);
  // The same job is reused: still ready.
  assert.equal(((await api(fx.server, "GET", path)).json as { status: string }).status, "ready");
  const tampered = await fetch(ready.url.replace(/token=./, "token=x"));
  assert.equal(tampered.status, 403);
  fx.clock.advance(3600_000);
  assert.equal((await fetch(ready.url)).status, 403);
});

test("long checkpoint names route through the multi-segment parameter", async () => {
  const run = seedRun(fx.server, OWNER_A, sessionsA[5]!);
  const name = "n".repeat(190);
  seedCheckpoint(fx.server, run, `weights/${name}`);
  const ttl = await api(
    fx.server,
    "PUT",
    `/api/v1/training_runs/${run}/checkpoints/weights/${name}/ttl`,
    KEY_A,
    {
      ttl_seconds: 10,
    },
  );
  assert.equal(ttl.status, 200);
  const del = await api(fx.server, "DELETE", `/api/v1/training_runs/${run}/checkpoints/weights/${name}`);
  assert.equal(del.status, 200);
});
