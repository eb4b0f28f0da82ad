// The Python CLI's commands and flags tinker-ts matches, on the built binary against tinker-local:
// checkpoint delete by run with --type/--before/--after (refusing without -y off a terminal),
// billing usage --csv/--sessions-csv, run list --columns, -f as --format, download -o as Python's
// parent directory (and --dir), and whoami; both output formats.

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

const KEY = "tml-cli-parity-test-key-7";
const OWNER = ownerIdForKey(KEY);
const DAY = 86_400_000;
const T0 = Date.parse("2024-05-01T00:00:00Z");

let server: LocalServer;
let jwtServer: LocalServer;
let work: string;
let files: Record<string, Uint8Array>;

const tinker = (args: string[], url = server.url) => runCli(args, { key: KEY, baseUrl: url, cwd: work });
const seedRun = (sessionId: string) => seedRunIn(server, OWNER, sessionId);
const seedCheckpoint = (runId: string, checkpointId: string, createdAt: number) =>
  seedCheckpointIn(server, { owner: OWNER, runId, checkpointId, files, createdAt });

describe("tinker CLI parity with the Python CLI (built binary, tinker-local)", () => {
  let sessionId: string;

  before(async () => {
    await buildCli();
    const model = createModel("tinker-local/tiny", { rank: 4 });
    try {
      files = {
        "adapter_model.safetensors": model.saveWeights(),
        "adapter_config.json": new TextEncoder().encode(JSON.stringify(model.adapterConfig())),
      };
    } finally {
      model.dispose();
    }
    work = mkdtempSync(join(tmpdir(), "tinker-cli-parity-"));
    server = await startServer({ port: 0, apiKeys: [KEY] });
    jwtServer = await startServer({ port: 0, apiKeys: [KEY], jwt: true });
    sessionId = await openSessionOn(server, KEY);
  });
  after(async () => {
    await server?.close();
    await jwtServer?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("checkpoint delete --run-id with --type/--before/--after deletes exactly the matching ones", async () => {
    const runId = seedRun(sessionId);
    const old = seedCheckpoint(runId, "weights/old", T0);
    const mid = seedCheckpoint(runId, "weights/mid", T0 + 10 * DAY);
    const sampler = seedCheckpoint(runId, "sampler_weights/mid", T0 + 10 * DAY);
    const recent = seedCheckpoint(runId, "weights/recent", T0 + 40 * DAY);
    // Off a terminal and without -y: refused before anything is deleted.
    fails(await tinker(["checkpoint", "delete", "--run-id", runId, "--type", "weights"]), 2, /--yes/);
    assert.ok(server.store.checkpoints.get(runId, "weights/old"));
    const r = json(
      await tinker([
        "checkpoint",
        "delete",
        "--run-id",
        runId,
        "--type",
        "weights",
        "--after",
        "2024-05-05",
        "--before",
        "2024-06-01T00:00:00Z",
        "-y",
        "-f",
        "json",
      ]),
    );
    assert.deepEqual(r, { deleted: [mid], deleted_count: 1, failed: [] });
    assert.equal(server.store.checkpoints.get(runId, "weights/mid"), undefined);
    for (const [kept, id] of [
      [old, "weights/old"],
      [sampler, "sampler_weights/mid"],
      [recent, "weights/recent"],
    ] as const) {
      assert.ok(server.store.checkpoints.get(runId, id), `${kept} is kept`);
    }
    // Table format; a date-only --before is midnight UTC; sampler_weights type.
    assert.equal(
      ok(
        await tinker([
          "checkpoint",
          "delete",
          "--run-id",
          runId,
          "--type",
          "sampler_weights",
          "--yes",
          "-f",
          "table",
        ]),
      ),
      `Deleted ${sampler}\n`,
    );
    assert.match(
      ok(
        await tinker([
          "checkpoint",
          "delete",
          "--run-id",
          runId,
          "--before",
          "2024-01-01",
          "-y",
          "-f",
          "table",
        ]),
      ),
      /No checkpoints of run .* match the filters; nothing deleted\./,
    );
    assert.deepEqual(
      json(
        await tinker([
          "checkpoint",
          "delete",
          "--run-id",
          runId,
          "--before",
          "2024-05-01T00:00:01",
          "-y",
          "-f",
          "json",
        ]),
      ),
      { deleted: [old], deleted_count: 1, failed: [] },
    );
    // Every checkpoint of the run when there is no filter.
    assert.deepEqual(
      json(await tinker(["checkpoint", "delete", "--run-id", runId, "-y", "--format", "json"])),
      {
        deleted: [recent],
        deleted_count: 1,
        failed: [],
      },
    );
  });

  it("checkpoint delete refuses contradictory or incomplete flags with exit 2 before any request", async () => {
    server.clearRequests();
    fails(await tinker(["checkpoint", "delete", "-y"]), 2, /give checkpoint paths or --run-id/);
    fails(
      await tinker(["checkpoint", "delete", "tinker://r/weights/a", "--run-id", "r", "-y"]),
      2,
      /not both/,
    );
    fails(
      await tinker(["checkpoint", "delete", "tinker://r/weights/a", "--type", "weights", "-y"]),
      2,
      /need --run-id/,
    );
    fails(
      await tinker(["checkpoint", "delete", "--run-id", "r", "--type", "optimizer", "-y"]),
      2,
      /--type must be/,
    );
    fails(
      await tinker(["checkpoint", "delete", "--run-id", "r", "--before", "June", "-y"]),
      2,
      /--before: invalid date/,
    );
    assert.deepEqual(
      server.requests().filter((r) => r.path.startsWith("/api/v1/training_runs")),
      [],
    );
  });

  it("run list --columns picks the table's columns; an unknown column is exit 2", async () => {
    const runId = seedRun(sessionId);
    const table = ok(
      await tinker(["run", "list", "--columns", "id,owner,status", "-f", "table", "--limit", "0"]),
    );
    const header = table.split("\n").find((l) => l.includes("Run ID"))!;
    assert.match(header, /Run ID.*Owner.*Status/);
    assert.doesNotMatch(header, /Base Model|LoRA/);
    assert.ok(table.includes(runId) && table.includes(OWNER));
    const byDefault = ok(await tinker(["run", "list", "-f", "table"]));
    assert.match(byDefault, /Run ID.*Base Model.*LoRA.*Last Update.*Status/);
    assert.match(byDefault, /Rank 4/);
    fails(
      await tinker(["run", "list", "--columns", "id,colour"]),
      2,
      /unknown column\(s\) colour; choose from id, model/,
    );
  });

  it("billing usage --csv and --sessions-csv write Python-shaped CSV (to files or stdout)", async () => {
    seedCheckpoint(seedRun(sessionId), "weights/billed", Date.now());
    const hour = 3_600_000;
    const start = new Date(Math.floor(Date.now() / hour) * hour - hour).toISOString();
    const end = new Date(Math.floor(Date.now() / hour) * hour + hour).toISOString();
    const rowsFile = join(work, "usage.csv");
    const sessionsFile = join(work, "sessions.csv");
    const r = await tinker([
      "billing",
      "usage",
      start,
      end,
      "--csv",
      rowsFile,
      "--sessions-csv",
      sessionsFile,
    ]);
    assert.equal(ok(r), "", "nothing but the files when --csv is given");
    assert.match(r.stderr, /Wrote \d+ row\(s\) to .*usage\.csv/);
    const lines = readFileSync(rowsFile, "utf8").split("\r\n");
    assert.equal(
      lines[0],
      "bucket_start,bucket_end,base_model,user_id,user_name,session_id,project_id,type,count",
      "event_info flattened into the row, envelope first",
    );
    assert.ok(lines.some((l) => l.includes(sessionId) && l.includes(",checkpoint,")));
    const sessions = readFileSync(sessionsFile, "utf8").split("\r\n");
    assert.equal(sessions[0], "session_id,user_metadata");
    assert.ok(sessions.some((l) => l.startsWith(sessionId)));
    const toStdout = ok(await tinker(["billing", "usage", start, end, "--csv", "-"]));
    assert.match(toStdout, /^bucket_start,bucket_end,/);
    assert.equal(toStdout, readFileSync(rowsFile, "utf8"));
  });

  it("checkpoint download -o is the parent directory, as in the Python CLI; --dir the directory itself", async () => {
    const runId = seedRun(sessionId);
    const path = seedCheckpoint(runId, "weights/dl", T0);
    const parent = join(work, "models");
    const r = json(await tinker(["checkpoint", "download", path, "-o", parent, "-f", "json"])) as {
      dir: string;
    };
    const expected = join(parent, `${runId}_weights_dl`.replace(/[^\w.-]/g, "-"));
    assert.equal(r.dir, expected);
    assert.deepEqual(
      readFileSync(join(expected, "adapter_model.safetensors")),
      Buffer.from(files["adapter_model.safetensors"]!),
    );
    const exact = join(work, "exact");
    assert.match(
      ok(await tinker(["checkpoint", "download", path, "--dir", exact, "-f", "table"])),
      /^Downloaded /,
    );
    assert.ok(existsSync(join(exact, "adapter_config.json")));
    fails(await tinker(["checkpoint", "download", path, "-o", parent, "--dir", exact]), 2, /not both/);
  });

  it("whoami: the user of the credential on a JWT server; a typed exit 2 where there is no identity", async () => {
    const me = json(await tinker(["whoami", "-f", "json"], jwtServer.url)) as {
      user_urn: string;
      email: unknown;
    };
    assert.ok(me.user_urn.length > 0);
    assert.match(
      ok(await tinker(["whoami", "--format", "table"], jwtServer.url)),
      new RegExp(`User.*${me.user_urn.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );
    fails(await tinker(["whoami"]), 2, /whoami needs a JWT/);
  });
});
