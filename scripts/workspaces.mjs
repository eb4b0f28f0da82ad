// The workspace packages of this repository, read from the root package.json's `workspaces`, so the
// packaging checks, the API reference and the pack-and-install test pick up a new package by itself.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

function expand(pattern) {
  // npm accepts globs here; a trailing "/*" is the only form this repository uses.
  if (!pattern.endsWith("/*")) return [pattern];
  const parent = pattern.slice(0, -2);
  return readdirSync(join(repoRoot, parent), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${parent}/${d.name}`);
}

/** Every workspace package: { dir (absolute), relDir, manifest }. */
export function workspacePackages() {
  const root = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  return (root.workspaces ?? [])
    .flatMap(expand)
    .filter((rel) => existsSync(join(repoRoot, rel, "package.json")))
    .map((relDir) => {
      const dir = join(repoRoot, relDir);
      return { dir, relDir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) };
    });
}

/** The packages meant for npm: every workspace package not marked private. */
export function publishablePackages() {
  return workspacePackages().filter((p) => p.manifest.private !== true);
}
