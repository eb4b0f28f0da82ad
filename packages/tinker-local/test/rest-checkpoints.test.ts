import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { checkpointFiles } from "../src/store/checkpoint-files.js";
import { errorDetail } from "./helpers/server-http.js";
import {
  api,
  KEY_A,
  KEY_B,
  OWNER_A,
  type RestFixture,
  seedCheckpoint,
  seedRun,
  session,
  startRestServer,
} from "./rest-helpers.js";

let fx: RestFixture;
let runA: string;

before(async () => {
  fx = await startRestServer();
  runA = seedRun(fx.server, OWNER_A, await session(fx.server, KEY_A));
});
after(() => fx.close());

const base = () => `/api/v1/training_runs/${runA}/checkpoints`;
const ids = async (key = KEY_A) =>
  (
    (await api(fx.server, "GET", base(), key)).json as { checkpoints: { checkpoint_id: string }[] }
  ).checkpoints.map((c) => c.checkpoint_id);

test("DELETE removes a checkpoint and its files; a second DELETE is 404", async () => {
  seedCheckpoint(fx.server, runA, "weights/to-delete");
  const dir = checkpointFiles.directory(fx.server.dataDir, runA, "weights/to-delete");
  assert.ok(existsSync(dir));
  const del = await api(fx.server, "DELETE", `${base()}/weights/to-delete`);
  assert.equal(del.status, 200);
  assert.ok(!existsSync(dir));
  assert.ok(!(await ids()).includes("weights/to-delete"));
  const again = await api(fx.server, "DELETE", `${base()}/weights/to-delete`);
  assert.equal(again.status, 404);
  assert.match(errorDetail(again), /Checkpoint not found: tinker:\/\/.*weights\/to-delete/);
});

test("a checkpoint named like a suffix is still a checkpoint id", async () => {
  seedCheckpoint(fx.server, runA, "weights/publish");
  assert.equal((await api(fx.server, "DELETE", `${base()}/weights/publish`)).status, 200);
  assert.equal(fx.server.store.checkpoints.get(runA, "weights/publish"), undefined);
});

test("publish and unpublish; a repeat is 409 with x-should-retry: false", async () => {
  seedCheckpoint(fx.server, runA, "sampler_weights/pub");
  const path = `${base()}/sampler_weights/pub/publish`;
  assert.equal((await api(fx.server, "POST", path)).status, 200);
  assert.equal(fx.server.store.checkpoints.get(runA, "sampler_weights/pub")?.public, true);
  const repeat = await api(fx.server, "POST", path);
  assert.equal(repeat.status, 409);
  assert.equal(repeat.headers.get("x-should-retry"), "false");
  assert.match(errorDetail(repeat), /already public/);
  assert.equal((await api(fx.server, "DELETE", path)).status, 200);
  assert.equal(fx.server.store.checkpoints.get(runA, "sampler_weights/pub")?.public, false);
  const again = await api(fx.server, "DELETE", path);
  assert.equal(again.status, 409);
  assert.match(errorDetail(again), /already private/);
});

test("bad checkpoint identifiers are 400; unknown suffixes are 404", async () => {
  for (const [method, tail] of [
    ["DELETE", "foo/bar"],
    ["DELETE", "weights"],
    ["POST", "checkpoints/x/publish"],
    ["PUT", "weights/a/b/ttl"],
  ] as const) {
    const result = await api(
      fx.server,
      method,
      `${base()}/${tail}`,
      KEY_A,
      method === "PUT" ? { ttl_seconds: 5 } : undefined,
    );
    assert.equal(result.status, 400, `${method} ${tail}`);
    assert.match(errorDetail(result), /checkpoint/);
  }
  assert.equal((await api(fx.server, "GET", `${base()}/weights/x`)).status, 404);
  assert.equal((await api(fx.server, "POST", `${base()}/weights/x/frobnicate`)).status, 404);
});

test("PUT ttl validates the body: positive integer or null", async () => {
  seedCheckpoint(fx.server, runA, "weights/ttl-check");
  const path = `${base()}/weights/ttl-check/ttl`;
  for (const body of [
    { ttl_seconds: 0 },
    { ttl_seconds: -5 },
    { ttl_seconds: 1.5 },
    { ttl_seconds: "60" },
    {},
    [],
  ]) {
    const result = await api(fx.server, "PUT", path, KEY_A, body);
    assert.equal(result.status, 400, JSON.stringify(body));
    assert.match(errorDetail(result), /ttl_seconds|JSON object/);
  }
  assert.equal((await api(fx.server, "PUT", path, KEY_A, { ttl_seconds: 3600 })).status, 200);
  const listed = (await api(fx.server, "GET", base())).json as {
    checkpoints: { checkpoint_id: string; expires_at: string | null }[];
  };
  const entry = listed.checkpoints.find((c) => c.checkpoint_id === "weights/ttl-check");
  assert.equal(entry?.expires_at, new Date(fx.clock.now() + 3600_000).toISOString());
  assert.equal((await api(fx.server, "PUT", path, KEY_A, { ttl_seconds: null })).status, 200);
  assert.equal(fx.server.store.checkpoints.get(runA, "weights/ttl-check")?.expiresAt, null);
  const missing = await api(fx.server, "PUT", `${base()}/weights/nope/ttl`, KEY_A, { ttl_seconds: 5 });
  assert.equal(missing.status, 404);
});

test("TTL expiry: gone from lists, gets and weights_info, files deleted", async () => {
  seedCheckpoint(fx.server, runA, "weights/short");
  seedCheckpoint(fx.server, runA, "weights/long");
  assert.equal(
    (await api(fx.server, "PUT", `${base()}/weights/short/ttl`, KEY_A, { ttl_seconds: 60 })).status,
    200,
  );
  assert.equal(
    (await api(fx.server, "PUT", `${base()}/weights/long/ttl`, KEY_A, { ttl_seconds: 600 })).status,
    200,
  );
  const shortDir = checkpointFiles.directory(fx.server.dataDir, runA, "weights/short");
  fx.clock.advance(59_000);
  assert.ok((await ids()).includes("weights/short"));
  fx.clock.advance(1_000);
  assert.ok(!(await ids()).includes("weights/short"));
  assert.ok((await ids()).includes("weights/long"));
  assert.ok(!existsSync(shortDir), "the expired checkpoint's files are deleted");
  const all = (await api(fx.server, "GET", "/api/v1/checkpoints?limit=1000")).json as {
    checkpoints: { checkpoint_id: string }[];
  };
  assert.ok(!all.checkpoints.some((c) => c.checkpoint_id === "weights/short"));
  const info = await api(fx.server, "POST", "/api/v1/weights_info", KEY_A, {
    tinker_path: `tinker://${runA}/weights/short`,
  });
  assert.equal(info.status, 404);
  const ttl = await api(fx.server, "PUT", `${base()}/weights/short/ttl`, KEY_A, { ttl_seconds: 5 });
  assert.equal(ttl.status, 404);
});

test("the periodic sweep deletes expired checkpoint files with no request at all", async () => {
  const swept = await startRestServer({ checkpointSweepIntervalMs: 10 });
  try {
    const run = seedRun(swept.server, OWNER_A, await session(swept.server, KEY_A));
    seedCheckpoint(swept.server, run, "weights/a", { expiresAt: swept.clock.now() + 1000 });
    const dir = checkpointFiles.directory(swept.server.dataDir, run, "weights/a");
    swept.clock.advance(1000);
    for (let i = 0; i < 200 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!existsSync(dir));
  } finally {
    await swept.close();
  }
});

test("weights_info describes a checkpoint; a malformed path is 400 saying why", async () => {
  seedCheckpoint(fx.server, runA, "sampler_weights/info");
  const info = await api(fx.server, "POST", "/api/v1/weights_info", KEY_A, {
    tinker_path: `tinker://${runA}/sampler_weights/info`,
  });
  assert.equal(info.status, 200);
  assert.deepEqual(info.json, {
    base_model: "tinker-local/tiny",
    is_lora: true,
    lora_rank: 8,
    train_unembed: false,
    train_mlp: true,
    train_attn: true,
  });
  const cases: [unknown, RegExp][] = [
    [{ tinker_path: `http://${runA}/weights/x` }, /must start with 'tinker:\/\/'/],
    [{ tinker_path: `tinker://${runA}/weights` }, /tinker:\/\/<run_id>\/weights\/<name>/],
    [{ tinker_path: `tinker://${runA}/other/x` }, /'weights\/<name>' or 'sampler_weights\/<name>'/],
    [{ tinker_path: 5 }, /tinker_path/],
    [{}, /tinker_path/],
  ];
  for (const [body, pattern] of cases) {
    const result = await api(fx.server, "POST", "/api/v1/weights_info", KEY_A, body);
    assert.equal(result.status, 400, JSON.stringify(body));
    assert.match(errorDetail(result), pattern);
  }
  const missing = await api(fx.server, "POST", "/api/v1/weights_info", KEY_A, {
    tinker_path: `tinker://${runA}/weights/never-saved`,
  });
  assert.equal(missing.status, 404);
  // B cannot read A's private checkpoint.
  const foreign = await api(fx.server, "POST", "/api/v1/weights_info", KEY_B, {
    tinker_path: `tinker://${runA}/sampler_weights/info`,
  });
  assert.equal(foreign.status, 404);
});
