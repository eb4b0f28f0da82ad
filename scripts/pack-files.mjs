#!/usr/bin/env node
// prepack/postpack of every publishable workspace package, run from the package directory.
// prepack: a clean build (dist/ is removed first, so files renamed or deleted in src/ leave no stale
// output in the tarball), unless dist/ is still the clean build of the current sources that an
// earlier prepack stamped (scripts/build-stamp.mjs), then the repository's LICENSE and CHANGELOG.md are copied in, because npm
// only packs files inside the package (both copies are git-ignored; the package's README.md is
// committed in the package). postpack: the copies are removed again.
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureCleanBuild } from "./build-stamp.mjs";
import { repoRoot } from "./workspaces.mjs";

const SHARED = ["LICENSE", "CHANGELOG.md"];
const action = process.argv[2];
if (action === "prepack") {
  if (!ensureCleanBuild(process.cwd())) {
    console.error(
      `prepack: ${process.cwd()}/dist is a clean build of the current sources (build stamp); reused`,
    );
  }
  for (const f of SHARED) copyFileSync(join(repoRoot, f), join(process.cwd(), f));
} else if (action === "postpack") {
  for (const f of SHARED) rmSync(join(process.cwd(), f), { force: true });
} else {
  console.error("usage: pack-files.mjs prepack|postpack");
  process.exit(2);
}
