// The REST flags of the `tinker-local` command: --admin-key and --archive-response.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { get } from "./helpers/server-http.js";
import { spawnTinkerLocal } from "./helpers/spawn-local.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

test("--admin-key users may read the audit log; other keys get 403", async () => {
  const server = await spawnTinkerLocal([
    "--api-key",
    "tml-cli-user",
    "--admin-key",
    "tml-cli-admin",
    "--archive-response",
    "json",
  ]);
  try {
    assert.equal((await get(server.url, "/api/v1/audit", "tml-cli-user")).status, 403);
    const admin = await get(server.url, "/api/v1/audit?event_type=all", "tml-cli-admin");
    assert.equal(admin.status, 200);
    assert.deepEqual(admin.json, { entries: [] });
    // The admin key is also an ordinary user key.
    assert.equal((await get(server.url, "/api/v1/training_runs", "tml-cli-admin")).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("a bad --archive-response exits 2 with a message", async () => {
  const proc = spawn(
    process.execPath,
    [
      "--conditions=tinker-source",
      "--import",
      "tsx",
      "packages/tinker-local/src/cli.ts",
      "--archive-response",
      "xml",
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  proc.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => proc.on("close", resolve));
  assert.equal(code, 2);
  assert.match(stderr, /--archive-response must be "redirect" or "json"/);
});
