// The README's first hour, in its order: `npm run demo`, then lint. The demo writes its data dir
// (.tinker-demo/: SQLite files, safetensors and adapter_config.json checkpoints) into the
// repository, and lint must still pass afterwards. This runs the real demo command (fewer steps, so
// it fits the test budget: the data dir it writes holds the same kinds of files as a full run),
// shows that Biome rejects those very files when it does not read .gitignore, then runs
// `biome check .` over the repository as `npm run lint` does (Biome is the one part of lint that
// walks the whole tree; the typechecks, dependency-cruiser and TypeDoc read only sources), and
// checks that the demo left git nothing new to track.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const repoRoot = join(import.meta.dirname, "..");
const biome = join(repoRoot, "node_modules", ".bin", "biome");
const dataDir = join(repoRoot, ".tinker-demo");

function run(command: string, args: string[], timeoutMs: number) {
  // The demo must start its own in-process tinker-local, whatever the caller's environment says.
  const env = { ...process.env };
  for (const name of ["TINKER_BASE_URL", "TINKER_API_KEY", "TINKER_BASE_MODEL"]) delete env[name];
  return spawnSync(command, args, { cwd: repoRoot, env, encoding: "utf8", timeout: timeoutMs });
}

function gitStatus(): string {
  const res = run("git", ["status", "--porcelain", "--untracked-files=all"], 60_000);
  assert.equal(res.status, 0, `git status failed: ${res.stderr}`);
  return res.stdout;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("the first hour: npm run demo, then lint", () => {
  // A data dir the user already has keeps its contents; one made here is removed again.
  const madeDataDir = !existsSync(dataDir);
  after(() => {
    if (madeDataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("the demo writes .tinker-demo/, biome check . still passes, and git sees nothing new", () => {
    const before = gitStatus();

    const demo = run("npm", ["run", "demo", "--", "--steps", "2", "--batch", "2"], 280_000);
    const output = `${demo.stdout}\n${demo.stderr}`;
    assert.equal(demo.status, 0, `npm run demo failed:\n${output}`);
    assert.match(demo.stdout, /tinker-local started in this process, data in .*\.tinker-demo/);
    // The checkpoint path goes to stderr (it holds a fresh run id; stdout depends only on the flags).
    assert.match(demo.stderr, /^checkpoint: tinker:\/\/\S+\/weights\/uppercase-final$/m);

    const written = filesUnder(dataDir);
    assert.ok(
      written.some((f) => f.endsWith("adapter_config.json")),
      `no checkpoint in ${dataDir}: ${written.join(", ")}`,
    );
    assert.ok(written.some((f) => f.endsWith("tinker-local.sqlite")));

    // Without .gitignore, Biome rejects what the demo wrote: the check below proves the ignore.
    const unignored = run(
      biome,
      ["check", "--colors=off", "--vcs-use-ignore-file=false", "--config-path", repoRoot, dataDir],
      120_000,
    );
    assert.notEqual(unignored.status, 0, `Biome accepted the demo's files:\n${unignored.stdout}`);

    const lint = run(biome, ["check", "--colors=off", "."], 120_000);
    assert.equal(lint.status, 0, `biome check . failed after the demo:\n${lint.stdout}${lint.stderr}`);

    assert.equal(gitStatus(), before, "the demo changed what git sees");
  });
});
