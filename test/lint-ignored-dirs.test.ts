// `npm run lint` must pass after the demo wrote its data dir (.tinker-demo/) and after
// `npx tinker-local` wrote its own (.tinker-local/): Biome reads .gitignore (vcs.useIgnoreFile).
// The test writes files Biome would reject into both git-ignored dirs, checks that Biome does reject
// those very files elsewhere, then runs `biome check .` on the repository as lint does.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const repoRoot = join(import.meta.dirname, "..");
const biome = join(repoRoot, "node_modules", ".bin", "biome");
// What the data dirs hold in practice: JSON metadata and checkpoint files. Both are lint errors.
const JUNK: Record<string, string> = {
  "metadata.json": '{"step":1,,"loss":0.5}',
  "notes.js": "var  x = 1;;\nif (x == 2) { debugger }\n",
};
const DATA_DIRS = [".tinker-demo", ".tinker-local"];

function biomeCheck(args: string[], cwd = repoRoot) {
  return spawnSync(biome, ["check", "--colors=off", ...args], { cwd, encoding: "utf8", timeout: 120_000 });
}

describe("lint after the demo and tinker-local wrote their data dirs", () => {
  const probe = `lint-probe-${process.pid}`;
  const made: string[] = [];
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it("the junk is a lint error where nothing ignores it", () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "tinker-lint-junk-"));
    made.push(elsewhere);
    for (const [name, text] of Object.entries(JUNK)) writeFileSync(join(elsewhere, name), text);
    const res = biomeCheck(["--config-path", repoRoot, elsewhere]);
    assert.notEqual(res.status, 0, `${res.stdout}${res.stderr}`);
  });

  it("biome check . passes with the same junk inside .tinker-demo/ and .tinker-local/", () => {
    for (const dataDir of DATA_DIRS) {
      // A data dir that is not there yet is removed again; one the user has keeps its contents.
      if (!existsSync(join(repoRoot, dataDir))) made.push(join(repoRoot, dataDir));
      const dir = join(repoRoot, dataDir, probe);
      mkdirSync(dir, { recursive: true });
      made.push(dir);
      for (const [name, text] of Object.entries(JUNK)) writeFileSync(join(dir, name), text);
    }
    const res = biomeCheck(["."]);
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  });
});
