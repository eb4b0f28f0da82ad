#!/usr/bin/env node
// prepack/postpack of every publishable workspace package, run from the package directory.
// prepack: a clean build (dist/ is removed first, so files renamed or deleted in src/ leave no stale
// output in the tarball), then the repository's LICENSE and CHANGELOG.md are copied in, because npm
// only packs files inside the package (both copies are git-ignored; the package's README.md is
// committed in the package). postpack: the copies are removed again.
import { spawnSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./workspaces.mjs";

const SHARED = ["LICENSE", "CHANGELOG.md"];
const action = process.argv[2];
if (action === "prepack") {
  rmSync(join(process.cwd(), "dist"), { recursive: true, force: true });
  const build = spawnSync("npm", ["run", "build"], { stdio: ["ignore", "inherit", "inherit"] });
  if (build.status !== 0) process.exit(build.status ?? 1);
  for (const f of SHARED) copyFileSync(join(repoRoot, f), join(process.cwd(), f));
} else if (action === "postpack") {
  for (const f of SHARED) rmSync(join(process.cwd(), f), { force: true });
} else {
  console.error("usage: pack-files.mjs prepack|postpack");
  process.exit(2);
}
