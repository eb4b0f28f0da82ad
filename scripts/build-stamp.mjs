// Whether a package's dist/ is exactly what a clean build of the current sources gives, so packing
// twice in one CI run (the packaging checks in lint, then the pack-and-install test) builds once.
// After a clean build, prepack writes a stamp (node_modules/.cache/tinker-build-stamps/, outside
// dist/ so it is never packed): a hash of every build input (all
// workspace sources and tsconfigs, the package manifests, the lock file) and a hash of dist/ itself.
// The build is reused only when both still match: same inputs, and nobody touched dist/ since (an
// incremental `npm run build` with unchanged inputs rewrites nothing but .tsbuildinfo, which is not
// packed and not hashed). Any doubt means a clean build, as before.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { publishablePackages, repoRoot, workspacePackages } from "./workspaces.mjs";

const STAMPS = join(repoRoot, "node_modules", ".cache", "tinker-build-stamps");
const NOT_HASHED_IN_DIST = new Set([".tsbuildinfo"]);

function stampFile(pkgDir) {
  return join(STAMPS, `${relative(repoRoot, pkgDir).replaceAll(/[\\/]/g, "_")}.json`);
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

function hashFiles(files, base) {
  const hash = createHash("sha256");
  for (const file of [...files].sort()) {
    hash.update(relative(base, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

/** Every input of any package's build: a change in one package can change another's types. */
export function inputsHash() {
  const files = [join(repoRoot, "tsconfig.base.json"), join(repoRoot, "package-lock.json")];
  for (const pkg of workspacePackages()) {
    files.push(...filesUnder(join(pkg.dir, "src")), join(pkg.dir, "package.json"));
    for (const name of readdirSync(pkg.dir)) {
      if (/^tsconfig.*\.json$/.test(name)) files.push(join(pkg.dir, name));
    }
  }
  return hashFiles(
    files.filter((f) => existsSync(f) && statSync(f).isFile()),
    repoRoot,
  );
}

function distHash(pkgDir) {
  const dist = join(pkgDir, "dist");
  return hashFiles(
    filesUnder(dist).filter((f) => !NOT_HASHED_IN_DIST.has(relative(dist, f))),
    dist,
  );
}

/** Records that dist/ is a clean build of the current inputs (call right after one). */
export function writeStamp(pkgDir) {
  const stamp = { inputs: inputsHash(), dist: distHash(pkgDir) };
  mkdirSync(STAMPS, { recursive: true });
  writeFileSync(stampFile(pkgDir), `${JSON.stringify(stamp)}\n`);
}

/** True when dist/ is still the clean build of the current inputs that the stamp records. */
export function isFreshCleanBuild(pkgDir) {
  const file = stampFile(pkgDir);
  if (!existsSync(file)) return false;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return false;
  }
  return existsSync(join(pkgDir, "dist")) && stamp.inputs === inputsHash() && stamp.dist === distHash(pkgDir);
}

/**
 * Leaves `pkgDir/dist` a clean build of the current sources: reused when the stamp says it is one,
 * else removed, rebuilt with the package's `npm run build`, and stamped. Returns whether it built.
 */
export function ensureCleanBuild(pkgDir) {
  if (isFreshCleanBuild(pkgDir)) return false;
  rmSync(join(pkgDir, "dist"), { recursive: true, force: true });
  const build = spawnSync("npm", ["run", "build"], { cwd: pkgDir, stdio: ["ignore", "inherit", "inherit"] });
  if (build.status !== 0) throw new Error(`npm run build failed in ${pkgDir} (exit ${build.status})`);
  writeStamp(pkgDir);
  return true;
}

// `node scripts/build-stamp.mjs`: every publishable package, in workspace order (CI runs this
// first, so the packaging checks, the tests and the pack-and-install test all use one build).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const pkg of publishablePackages()) {
    const started = Date.now();
    const built = ensureCleanBuild(pkg.dir);
    const took = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `build: ${pkg.relDir} ${built ? `built clean in ${took} s` : "is a clean build of the current sources (reused)"}`,
    );
  }
}
