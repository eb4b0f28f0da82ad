// `tinker probe`, spawned as a user would run it, against a running tinker-local.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type LocalServer, startServer } from "tinker-local";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = "packages/tinker/src/cli/main.ts";
const KEY = "tml-probe-test-key-77";

function runCli(args: string[], env: Record<string, string | undefined>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const proc = spawn(process.execPath, ["--conditions=tinker-source", "--import", "tsx", MAIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, TINKER_API_KEY: undefined, TINKER_BASE_URL: undefined, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    proc.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("tinker probe", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY] });
  });
  after(() => server.close());

  it("prints 200 for session_heartbeat and 404 for heartbeat, exits 0, never prints the key", async () => {
    server.clearRequests();
    const r = await runCli(["probe", "--base-url", server.url], { TINKER_API_KEY: KEY });
    assert.equal(r.stdout, "session_heartbeat: 200\nheartbeat: 404\n");
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes(KEY));
    const hits = server.requests().map((q) => `${q.path} ${q.status}`);
    assert.ok(hits.includes("/api/v1/session_heartbeat 200"));
    assert.ok(hits.includes("/api/v1/heartbeat 404"));
    assert.equal(hits.filter((h) => h.startsWith("/api/v1/heartbeat ")).length, 1, "sent once, not retried");
  });

  it("exits 1 when the statuses are not 200 and 404", async () => {
    server.faults.add({ path: "/api/v1/heartbeat", status: 200, body: {} });
    const r = await runCli(["probe", "--base-url", server.url, "--api-key", KEY], {});
    assert.equal(r.stdout, "session_heartbeat: 200\nheartbeat: 200\n");
    assert.equal(r.code, 1);
    assert.ok(!(r.stdout + r.stderr).includes(KEY));
  });

  it("exits 2 on usage errors (unknown option, bad key) without echoing the key", async () => {
    const unknown = await runCli(["probe", "--nope"], { TINKER_API_KEY: KEY });
    assert.equal(unknown.code, 2);
    const badKey = "sk-not-a-tinker-key-1234";
    const bad = await runCli(["probe", "--base-url", server.url, "--api-key", badKey], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /'tml-'/);
    assert.ok(!(bad.stdout + bad.stderr).includes(badKey));
    const missing = await runCli(["probe", "--base-url", server.url], {});
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /TINKER_API_KEY/);
  });

  it("a wrong key is an auth failure (exit 3, docs/rest-and-cli.md) whose message does not contain it", async () => {
    const wrong = "tml-wrong-key-for-probe";
    const r = await runCli(["probe", "--base-url", server.url, "--api-key", wrong], {});
    assert.equal(r.code, 3);
    assert.match(r.stderr, /401/);
    assert.ok(!(r.stdout + r.stderr).includes(wrong));
  });

  it("tinker version prints the SDK version", async () => {
    const r = await runCli(["version"], {});
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^tinker-ts \d+\.\d+\.\d+\n$/);
  });
});
