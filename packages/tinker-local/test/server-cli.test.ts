import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readSessionRecord, SERVER_VERSION } from "tinker-local";
import { createSession, get, post } from "./helpers/server-http.js";
import { spawnTinkerLocal } from "./helpers/spawn-local.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Runs the CLI to completion (for flags that exit at once). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(
      process.execPath,
      ["--conditions=tinker-source", "--import", "tsx", "packages/tinker-local/src/cli.ts", ...args],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    proc.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("the CLI prints the real port, logs requests, keeps its records on disk and exits 0 on SIGTERM", async () => {
  const server = await spawnTinkerLocal(["--log-requests"]);
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.url, "http://127.0.0.1:0");
    assert.equal(server.lines[0], `listening on ${server.url}`);
    assert.ok(
      server.errorLines.some((line) => line.includes("tml-local-dev")),
      "the default-key note is printed",
    );

    assert.equal((await get(server.url, "/api/v1/healthz?probe=1")).status, 200);
    const sessionId = await createSession(server.url);
    await post(server.url, "/api/v1/session_heartbeat", { session_id: sessionId, type: "session_heartbeat" });
    assert.equal((await post(server.url, "/api/v1/heartbeat", {})).status, 404);
    // Request lines are written before the response finishes; allow the pipe a moment.
    for (let i = 0; i < 50 && !server.lines.includes("POST /api/v1/heartbeat 404"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(server.lines.slice(1), [
      "GET /api/v1/healthz 200",
      "POST /api/v1/create_session 200",
      "POST /api/v1/session_heartbeat 200",
      "POST /api/v1/heartbeat 404",
    ]);

    // The server's own record, read from its data dir while it runs.
    const record = readSessionRecord(server.dataDir, sessionId);
    assert.equal(record?.heartbeatCount, 1);
    assert.equal(typeof record?.lastHeartbeatAt, "number");
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.equal(server.proc.exitCode, 0);
});

test("a stopped (SIGSTOP) server does not answer; stop() still ends it cleanly", async () => {
  const server = await spawnTinkerLocal([]);
  try {
    server.proc.kill("SIGSTOP");
    await assert.rejects(
      fetch(`${server.url}/api/v1/healthz`, { signal: AbortSignal.timeout(300) }),
      (error: Error) => error.name === "TimeoutError",
    );
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("the CLI takes keys and JWT mode from flags and never prints the keys", async () => {
  const key = "tml-cli-secret-5e2b";
  const server = await spawnTinkerLocal([
    "--api-key",
    key,
    "--jwt",
    "--jwt-ttl",
    "120",
    "--session-ttl",
    "30",
  ]);
  try {
    const config = await post(server.url, "/api/v1/client/config", {}, key);
    assert.equal((config.json as { pjwt_auth_enabled: boolean }).pjwt_auth_enabled, true);
    assert.equal((await post(server.url, "/api/v1/client/config", {})).status, 401, "the default key is off");
    const token = await post(server.url, "/api/v1/auth/token", {}, key);
    const { jwt } = token.json as { jwt: string };
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as {
      exp: number;
      iat: number;
    };
    assert.equal(claims.exp - claims.iat, 120);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const output = [...server.lines, ...server.errorLines].join("\n");
  assert.ok(!output.includes(key));
  assert.ok(!output.includes("tml-local-dev"), "no default-key note when a key is configured");
});

test("bad flags exit 2 with a message on stderr; --help and --version exit 0", async () => {
  const unknown = await runCli(["--bogus"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option: --bogus/);
  assert.equal(unknown.stdout, "");

  const badPort = await runCli(["--port", "http"]);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port must be an integer/);

  const badModel = await runCli(["--model", "Qwen/Qwen9-1B"]);
  assert.equal(badModel.code, 2);
  assert.match(
    badModel.stderr,
    /--model: unknown model "Qwen\/Qwen9-1B"; twins: meta-llama\/Llama-3.1-8B-Instruct/,
  );

  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--log-requests/);
  assert.match(help.stdout, /--model NAME/);

  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), SERVER_VERSION);
});
