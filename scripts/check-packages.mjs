#!/usr/bin/env node
// Packaging checks, run by `npm run lint` for every non-private workspace package (read from the
// root package.json, so a new package is checked as soon as it is a workspace): the tarball holds
// compiled JS, types, README.md, LICENSE and CHANGELOG.md and no tests; publint finds nothing
// (warnings count, suggestions are printed); Are the Types Wrong finds no problem for ESM
// consumers under node16/nodenext and bundler resolution. The packages are ESM-only; CommonJS
// consumers load them with require() on Node >= 20.19, which the pack-and-install test runs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { packPackage } from "./pack.mjs";
import { publishablePackages, repoRoot } from "./workspaces.mjs";

const REQUIRED = ["package.json", "README.md", "LICENSE", "CHANGELOG.md"];
const FORBIDDEN = [/^test\//, /\.test\.[cm]?[jt]s$/, /tsbuildinfo$/, /^node_modules\//];

/** Files the `exports` map points at under the default and types conditions. */
function exportTargets(manifest) {
  const targets = [];
  const walk = (node) => {
    if (typeof node === "string") targets.push(node.replace(/^\.\//, ""));
    else if (node && typeof node === "object") {
      for (const [cond, value] of Object.entries(node)) if (cond !== "tinker-source") walk(value);
    }
  };
  walk(manifest.exports ?? {});
  return targets.filter((t) => t !== "package.json");
}

const dest = mkdtempSync(join(tmpdir(), "tinker-pack-check-"));
const problems = [];
try {
  for (const pkg of publishablePackages()) {
    const name = pkg.manifest.name;
    const { tarball, files } = packPackage(pkg, dest);
    const have = new Set(files);
    for (const f of [...REQUIRED, ...exportTargets(pkg.manifest)]) {
      if (!have.has(f)) problems.push(`${name}: the tarball lacks ${f}`);
    }
    if (!files.some((f) => f.startsWith("dist/") && f.endsWith(".d.ts"))) {
      problems.push(`${name}: the tarball holds no type declarations`);
    }
    for (const f of files) {
      if (FORBIDDEN.some((re) => re.test(f))) problems.push(`${name}: the tarball should not hold ${f}`);
    }

    const bytes = readFileSync(tarball);
    const tarballBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { messages, pkg: packed } = await publint({ pack: { tarball: tarballBuffer }, strict: true });
    for (const m of messages) {
      const text = `${name}: publint ${m.type}: ${formatMessage(m, packed, { color: false })}`;
      if (m.type === "suggestion") console.log(text);
      else problems.push(text);
    }

    try {
      execFileSync(
        join(repoRoot, "node_modules", ".bin", "attw"),
        [tarball, "--profile", "esm-only", "--no-definitely-typed", "--format", "ascii", "--no-color"],
        { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" },
      );
    } catch (error) {
      problems.push(`${name}: attw found problems:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
    }
    console.log(`${name}: ${files.length} files packed, publint and attw ran`);
  }
} finally {
  rmSync(dest, { recursive: true, force: true });
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log("packages ok");
