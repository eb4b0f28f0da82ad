// What keeps a user's script alive: a wait the script is awaiting (a retry backoff) must, the
// session's background timers (heartbeat, JWT refresh) must not.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type LocalServer, startServer } from "tinker-local";

const KEY = "tml-process-lifetime";
const SCRIPT = fileURLToPath(new URL("./fixtures/open-session-script.ts", import.meta.url));

function runScript(baseUrl: string): Promise<{ code: number | null; stdout: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ["--conditions=tinker-source", "--import", "tsx", SCRIPT, baseUrl], {
    env: { ...process.env, TINKER_API_KEY: KEY },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  // Bounded: a script that never exits is killed and fails the test.
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, ms: Date.now() - started });
    });
  });
}

describe("process lifetime", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY] });
  });
  after(() => server.close());

  it("waits through a retry backoff, then exits by itself with the session still open", async () => {
    // One 503 with Retry-After: 1 s: the script's only pending work during that second is the wait.
    server.faults.add({
      path: "/api/v1/client/config",
      status: 503,
      headers: { "retry-after": "1" },
      times: 1,
    });
    const { code, stdout } = await runScript(server.url);
    assert.equal(code, 0);
    assert.match(stdout, /^opened \S+\n$/);
    const statuses = server
      .requests()
      .filter((r) => r.path === "/api/v1/client/config")
      .map((r) => r.status);
    assert.deepEqual(statuses, [503, 200]);
    // The heartbeat (10 s period) never fired: the script ended before it, without close().
    assert.equal(server.requests().filter((r) => r.path === "/api/v1/session_heartbeat").length, 0);
  });
});
