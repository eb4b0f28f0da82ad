// Packs workspace packages with `npm pack` (which runs each package's prepack: a clean build plus
// the repository's LICENSE and CHANGELOG.md) and lists what each tarball holds.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./workspaces.mjs";

/**
 * Packs `pkg` into `destDir`. Returns { tarball (absolute path), files (paths inside the package) }.
 * npm's own output goes to stderr so a caller's stdout stays clean.
 */
export function packPackage(pkg, destDir) {
  const json = execFileSync("npm", ["pack", "--json", "--pack-destination", destDir], {
    cwd: pkg.dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  // Lifecycle scripts may print before the JSON; it is the last top-level array in the output.
  const start = json.lastIndexOf("\n[") >= 0 ? json.lastIndexOf("\n[") + 1 : json.indexOf("[");
  const [info] = JSON.parse(json.slice(start));
  return { tarball: join(destDir, info.filename), files: info.files.map((f) => f.path) };
}

export { repoRoot };
