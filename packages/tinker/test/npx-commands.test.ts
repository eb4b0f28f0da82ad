// The two commands as a user runs them from the repository after `npm install && npm run build`:
// `npx tinker-local` in one process and `npx tinker probe` in another, talking over loopback.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUILT = ["packages/tinker/dist/cli/main.js", "packages/tinker-local/dist/cli.js"];
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";

/** Env without the caller's Tinker settings, so only what the test passes counts. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of ["TINKER_API_KEY", "TINKER_BASE_URL", "TINKER_CREDENTIAL_CMD"]) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

describe("npx tinker probe against npx tinker-local", () => {
  let server: ChildProcess | undefined;
  let lines: string[] = [];
  let url = "";
  let dataDir = "";

  before(async () => {
    if (!BUILT.every((f) => existsSync(join(REPO_ROOT, f)))) {
      const build = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
      assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
    }
    // npx must find our own commands; if they were not linked it would look in the registry instead.
    for (const [bin, pkg] of [
      ["tinker", "packages/tinker/bin/tinker.js"],
      ["tinker-local", "packages/tinker-local/bin/tinker-local.js"],
    ] as const) {
      const link = join(REPO_ROOT, "node_modules/.bin", bin);
      assert.ok(existsSync(link), `${bin} is not linked in node_modules/.bin (run npm install)`);
      assert.equal(realpathSync(link), realpathSync(join(REPO_ROOT, pkg)));
    }

    dataDir = mkdtempSync(join(tmpdir(), "npx-tinker-local-"));
    server = spawn(NPX, ["tinker-local", "--port", "0", "--log-requests", "--data-dir", dataDir], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: npx runs tinker-local as a grandchild, and the whole group is stopped.
      detached: true,
    });
    let buffered = "";
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "listening on" line in 30 s:\n${buffered}`)),
        30_000,
      );
      server?.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        lines = buffered.split("\n").filter(Boolean);
        const match = /^listening on (http:\/\/\S+)$/m.exec(buffered);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      server?.on("exit", (code) => reject(new Error(`tinker-local exited with ${code}:\n${buffered}`)));
    });
  });

  after(async () => {
    if (server?.pid !== undefined) {
      const closed = new Promise((resolve) => server?.stdout?.on("close", resolve));
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      await closed;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints 200 and 404, exits 0, and the server saw both paths", async () => {
    const probe = spawnSync(NPX, ["tinker", "probe", "--base-url", url], {
      cwd: REPO_ROOT,
      env: cleanEnv({ TINKER_API_KEY: "tml-local-dev" }),
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(probe.status, 0, `probe failed:\n${probe.stdout}${probe.stderr}`);
    assert.match(probe.stdout, /^session_heartbeat: 200$/m);
    assert.match(probe.stdout, /^heartbeat: 404$/m);
    assert.ok(!`${probe.stdout}${probe.stderr}`.includes("tml-local-dev"), "the key was printed");
    // The server's own request log: the real heartbeat path answered 200, the wrong one 404.
    const deadline = Date.now() + 5_000;
    while (!lines.includes("POST /api/v1/heartbeat 404") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(lines.includes("POST /api/v1/session_heartbeat 200"), lines.join("\n"));
    assert.ok(lines.includes("POST /api/v1/heartbeat 404"), lines.join("\n"));
  });
});
