// run-tests: timeout-ms=600000
// The built `tinker` binary (packages/tinker/dist/cli/main.js), spawned as a user runs it, against
// an in-process tinker-local: every REST command in both output formats, exit codes per error
// class, and the API key never printed.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createModel, type LocalServer, ownerIdForKey, startServer } from "tinker-local";
import {
  buildCli,
  fails,
  json,
  ok,
  openSessionOn,
  runCli,
  seedCheckpoint as seedCheckpointIn,
  seedRun as seedRunIn,
} from "./helpers/cli.js";

const KEY = "tml-cli-rest-test-key-42";
const OWNER = ownerIdForKey(KEY);

let server: LocalServer;
let work: string;
let weights: Uint8Array;
let adapterConfig: Uint8Array;

/** Runs the binary with the test key in the environment; checks the key is not in any output. */
const tinker = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { key: KEY, baseUrl: server.url, cwd: work, env });
const seedRun = (sessionId: string) => seedRunIn(server, OWNER, sessionId, { name: "cli" });
const seedCheckpoint = (runId: string, checkpointId: string) =>
  seedCheckpointIn(server, {
    owner: OWNER,
    runId,
    checkpointId,
    files: { "adapter_model.safetensors": weights, "adapter_config.json": adapterConfig },
  });

describe("tinker CLI (built binary) against tinker-local", () => {
  let sessionId: string;
  let runId: string;
  let path: string;

  before(async () => {
    await buildCli();
    const model = createModel("tinker-local/tiny", { rank: 4 });
    try {
      weights = model.saveWeights();
      adapterConfig = new TextEncoder().encode(JSON.stringify(model.adapterConfig()));
    } finally {
      model.dispose();
    }
    work = mkdtempSync(join(tmpdir(), "tinker-cli-test-"));
    // Trace exports are ready at once here (the pending-then-ready polling is covered by
    // rest-client-integration with a short interval; the CLI polls every 5 s).
    server = await startServer({ port: 0, apiKeys: [KEY], traceExportPendingPolls: 0 });
    sessionId = await openSessionOn(server, KEY);
    runId = seedRun(sessionId);
    path = seedCheckpoint(runId, "weights/0001");
    seedCheckpoint(runId, "sampler_weights/final");
  });
  after(async () => {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("version", async () => {
    assert.match(ok(await tinker(["version"])), /^tinker-ts \d+\.\d+\.\d+\n$/);
  });

  it("run list: json by default off a terminal, table on request, --limit", async () => {
    const [auto, asJson, asTable, limited] = await Promise.all([
      tinker(["run", "list"]),
      tinker(["run", "list", "--format", "json"]),
      tinker(["run", "list", "--format", "table"]),
      tinker(["run", "list", "--limit", "1", "--format", "json"]),
    ]);
    const runs = json(auto).training_runs as {
      training_run_id: string;
      lora_rank: number;
      last_request_time: string;
    }[];
    assert.ok(runs.some((r) => r.training_run_id === runId && r.lora_rank === 4));
    assert.deepEqual(json(asJson), json(auto));
    const table = ok(asTable);
    assert.match(table, /Run ID/);
    assert.ok(table.includes(runId));
    assert.equal((json(limited).training_runs as unknown[]).length, 1);
    fails(await tinker(["run", "list", "--limit", "abc"]), 2, /--limit must be a whole number/);
    fails(
      await tinker(["run", "list", "--access-scope", "everyone"]),
      2,
      /Allowed choices are owned, accessible/,
    );
  });

  it("run info: both formats, 4 for an unknown run", async () => {
    const [asJson, asTable, byPath, missing] = await Promise.all([
      tinker(["run", "info", runId, "--format", "json"]),
      tinker(["run", "info", runId, "--format", "table"]),
      tinker(["run", "info", path]),
      tinker(["run", "info", `${sessionId}:train:999`]),
    ]);
    const run = json(asJson) as {
      training_run_id: string;
      user_metadata: Record<string, string>;
      base_model: string;
    };
    assert.equal(run.training_run_id, runId);
    assert.deepEqual(run.user_metadata, { name: "cli" });
    assert.match(ok(asTable), /Base model\s+│ tinker-local\/tiny/);
    assert.equal((json(byPath) as { training_run_id: string }).training_run_id, runId);
    fails(missing, 4, /not found/i);
  });

  it("checkpoint list: all of yours or one run's, both formats", async () => {
    const [mine, ofRun, asTable] = await Promise.all([
      tinker(["checkpoint", "list", "--format", "json"]),
      tinker(["checkpoint", "list", "--run-id", runId, "--limit", "0"]),
      tinker(["checkpoint", "list", "--format", "table"]),
    ]);
    const paths = (json(mine).checkpoints as { tinker_path: string }[]).map((c) => c.tinker_path);
    assert.ok(paths.includes(path));
    const runCheckpoints = json(ofRun).checkpoints as {
      checkpoint_id: string;
      size_bytes: number;
      public: boolean;
    }[];
    assert.deepEqual(runCheckpoints.map((c) => c.checkpoint_id).sort(), [
      "sampler_weights/final",
      "weights/0001",
    ]);
    assert.ok(runCheckpoints.every((c) => c.size_bytes > 0 && c.public === false));
    const table = ok(asTable);
    assert.match(table, /Checkpoint ID/);
    assert.ok(table.includes(path));
  });

  it("checkpoint info: both formats; 2 for a malformed path, 4 for a missing one", async () => {
    const [asJson, asTable, bad, missing] = await Promise.all([
      tinker(["checkpoint", "info", path, "--format", "json"]),
      tinker(["checkpoint", "info", path, "--format", "table"]),
      tinker(["checkpoint", "info", `tinker://${runId}/checkpoints/0001`]),
      tinker(["checkpoint", "info", `tinker://${runId}/weights/nope`]),
    ]);
    const info = json(asJson) as { checkpoint_id: string; training_run: { training_run_id: string } };
    assert.equal(info.checkpoint_id, "weights/0001");
    assert.equal(info.training_run.training_run_id, runId);
    assert.match(ok(asTable), /Checkpoint ID\s+│ weights\/0001/);
    fails(bad, 2, /second segment must be 'weights' or 'sampler_weights'/);
    fails(missing, 4, /Checkpoint not found/);
  });

  it("checkpoint publish / unpublish: both formats; a repeat exits 5", async () => {
    assert.deepEqual(json(await tinker(["checkpoint", "publish", path, "--format", "json"])), {
      tinker_path: path,
      public: true,
    });
    assert.equal(server.store.checkpoints.get(runId, "weights/0001")?.public, true);
    fails(await tinker(["checkpoint", "publish", path]), 5, /already public/);
    assert.equal(
      ok(await tinker(["checkpoint", "unpublish", path, "--format", "table"])),
      `Unpublished ${path}\n`,
    );
    assert.equal(server.store.checkpoints.get(runId, "weights/0001")?.public, false);
    fails(await tinker(["checkpoint", "unpublish", path, "--format", "json"]), 5, /already private/);
    assert.equal(
      ok(await tinker(["checkpoint", "publish", path, "--format", "table"])),
      `Published ${path}\n`,
    );
    json(await tinker(["checkpoint", "unpublish", path]));
  });

  it("checkpoint set-ttl: --ttl and --remove in both formats; bad usage exits 2", async () => {
    const before = Date.now();
    assert.deepEqual(
      json(await tinker(["checkpoint", "set-ttl", path, "--ttl", "3600", "--format", "json"])),
      {
        tinker_path: path,
        ttl_seconds: 3600,
      },
    );
    const expiresAt = server.store.checkpoints.get(runId, "weights/0001")?.expiresAt ?? 0;
    assert.ok(Math.abs(expiresAt - (before + 3_600_000)) < 60_000);
    assert.match(
      ok(await tinker(["checkpoint", "set-ttl", path, "--remove", "--format", "table"])),
      /Removed the expiry/,
    );
    assert.equal(server.store.checkpoints.get(runId, "weights/0001")?.expiresAt, null);
    assert.match(
      ok(await tinker(["checkpoint", "set-ttl", path, "--ttl", "60", "--format", "table"])),
      /expires in 60 s/,
    );
    json(await tinker(["checkpoint", "set-ttl", path, "--remove"]));
    const [neither, both, zero] = await Promise.all([
      tinker(["checkpoint", "set-ttl", path]),
      tinker(["checkpoint", "set-ttl", path, "--ttl", "5", "--remove"]),
      tinker(["checkpoint", "set-ttl", path, "--ttl", "0"]),
    ]);
    fails(neither, 2, /exactly one of --ttl SECONDS or --remove/);
    fails(both, 2, /exactly one/);
    fails(zero, 2, /--ttl must be a whole number >= 1/);
  });

  it("checkpoint delete: refuses without -y off a terminal; deletes with -y in both formats", async () => {
    const a = seedCheckpoint(runId, "weights/del-a");
    const b = seedCheckpoint(runId, "weights/del-b");
    fails(await tinker(["checkpoint", "delete", a]), 2, /pass -y/);
    assert.ok(server.store.checkpoints.get(runId, "weights/del-a"), "nothing deleted");
    fails(await tinker(["checkpoint", "delete", a, "tinker://bad"]), 2, /path 2/);
    assert.deepEqual(json(await tinker(["checkpoint", "delete", a, "-y", "--format", "json"])), {
      deleted: [a],
      deleted_count: 1,
      failed: [],
    });
    assert.equal(server.store.checkpoints.get(runId, "weights/del-a"), undefined);
    assert.equal(
      ok(await tinker(["checkpoint", "delete", b, "--yes", "--format", "table"])),
      `Deleted ${b}\n`,
    );
    const again = await tinker(["checkpoint", "delete", a, "-y"]);
    assert.equal(again.code, 4);
    assert.deepEqual((JSON.parse(again.stdout) as { deleted: string[] }).deleted, []);
    assert.match(again.stderr, /could not delete/);
  });

  it("checkpoint download: both formats, safetensors as stored, no progress noise off a terminal", async () => {
    const dirJson = join(work, "dl-json");
    const r = await tinker(["checkpoint", "download", path, "--dir", dirJson, "--format", "json"]);
    const result = json(r) as { dir: string; files: string[]; archive_bytes: number };
    assert.equal(result.dir, dirJson);
    assert.deepEqual([...result.files].sort(), ["adapter_config.json", "adapter_model.safetensors"]);
    assert.deepEqual(new Uint8Array(readFileSync(join(dirJson, "adapter_model.safetensors"))), weights);
    assert.equal(r.stderr.includes("\r"), false);
    fails(
      await tinker(["checkpoint", "download", path, "--dir", dirJson]),
      2,
      /not empty; pass force.*--force/,
    );
    assert.match(
      ok(await tinker(["checkpoint", "download", path, "--dir", dirJson, "--force", "--format", "table"])),
      /^Downloaded /,
    );
    // Default directory name, relative to the working directory.
    const auto = json(await tinker(["checkpoint", "download", path])) as { dir: string };
    assert.ok(existsSync(join(auto.dir, "adapter_config.json")));
    assert.ok(auto.dir.startsWith(work));
  });

  it("session list / info: both formats", async () => {
    const [listJson, listTable, infoJson, infoTable, missing] = await Promise.all([
      tinker(["session", "list", "--format", "json"]),
      tinker(["session", "list", "--format", "table"]),
      tinker(["session", "info", sessionId, "--format", "json"]),
      tinker(["session", "info", sessionId, "--format", "table"]),
      tinker(["session", "info", "sess-missing"]),
    ]);
    assert.ok((json(listJson).sessions as string[]).includes(sessionId));
    assert.ok(ok(listTable).includes(sessionId));
    const info = json(infoJson) as { session_id: string; training_run_ids: string[]; sampler_ids: string[] };
    assert.equal(info.session_id, sessionId);
    assert.ok(info.training_run_ids.includes(runId));
    assert.match(ok(infoTable), /Training runs/);
    fails(missing, 4);
  });

  it("session export-trace: URL only or downloaded, both formats", async () => {
    const urlJson = json(
      await tinker(["session", "export-trace", sessionId, "--url-only", "--format", "json"]),
    ) as {
      url: string;
    };
    const trace = (await (await fetch(urlJson.url)).json()) as { traceEvents: unknown[] };
    assert.ok(trace.traceEvents.length > 0);
    const urlTable = ok(
      await tinker(["session", "export-trace", sessionId, "--url-only", "--format", "table"]),
    );
    assert.match(urlTable, /^http:\/\/127\.0\.0\.1:\d+\/traces\/.*token=/);
    const file = join(work, "trace.json");
    const saved = json(await tinker(["session", "export-trace", sessionId, "-o", file])) as {
      file: string;
      bytes: number;
    };
    assert.equal(saved.file, file);
    assert.ok(
      Array.isArray((JSON.parse(readFileSync(file, "utf8")) as { traceEvents: unknown[] }).traceEvents),
    );
    fails(await tinker(["session", "export-trace", sessionId, "-o", file]), 2, /already exists/);
    assert.match(
      ok(await tinker(["session", "export-trace", sessionId, "-o", file, "--force", "--format", "table"])),
      /Wrote the trace/,
    );
  });

  it("billing usage: both formats; a bad range exits 2 before any request", async () => {
    const hour = 3_600_000;
    const start = new Date(Math.floor(Date.now() / hour) * hour - hour).toISOString();
    const end = new Date(Math.floor(Date.now() / hour) * hour + hour).toISOString();
    const usage = json(await tinker(["billing", "usage", start, end, "--format", "json"])) as {
      data: { event_info: { type: string; count?: number }; session_id: string }[];
    };
    assert.ok(usage.data.some((e) => e.event_info.type === "checkpoint" && e.session_id === sessionId));
    assert.match(ok(await tinker(["billing", "usage", start, end, "--format", "table"])), /checkpoint\(s\)/);
    server.clearRequests();
    fails(await tinker(["billing", "usage", "2026-01-01", "2026-02-01"]), 2, /at most 14 days apart/);
    fails(
      await tinker(["billing", "usage", "2026-01-01T00:30:00Z", "2026-01-02T00:00:00Z"]),
      2,
      /on a UTC hour/,
    );
    assert.equal(server.requests().filter((r) => r.path.includes("billing")).length, 0);
  });

  it("exit codes: 3 for a refused key (never echoed), 2 for usage, 6 for a server error", async () => {
    const wrong = "tml-not-a-configured-key-9";
    const refused = await tinker(["run", "list", "--api-key", wrong]);
    fails(refused, 3, /401/);
    assert.ok(!refused.stderr.includes(wrong));
    fails(await tinker(["run", "list"], { TINKER_API_KEY: undefined }), 2, /TINKER_API_KEY/);
    fails(await tinker(["run", "list", "--nope"]), 2);
    fails(await tinker(["frobnicate"]), 2);
    server.faults.add({ path: "/api/v1/training_runs", status: 500, headers: { "x-should-retry": "false" } });
    fails(await tinker(["run", "list"]), 6, /500/);
  });

  it("waits through retried 503s instead of exiting early", async () => {
    server.faults.add({
      path: "/api/v1/sessions",
      status: 503,
      times: 2,
      headers: { "retry-after-ms": "200" },
    });
    const r = await tinker(["session", "list"]);
    assert.ok((json(r).sessions as string[]).includes(sessionId));
  });
});
