#!/usr/bin/env node
// `npm run lint`: every check below must pass. None reads what another writes (the type checks,
// TypeDoc and dependency-cruiser read sources only; the packaging check packs into a temporary
// folder, and may rebuild dist/, which nothing else here reads), so they run LINT_CONCURRENCY at
// once (default 2): most are a single-threaded tsc or TypeDoc, and one after the other they left a
// core idle. Biome, which walks the whole tree, runs first, before the packaging check copies
// LICENSE and CHANGELOG.md into the packages for the tarballs. Each step's output is printed whole
// when it ends, with its wall time; the run fails when any step fails, after all have ended,
// naming them.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

// Biome first (see above), then the longest first (measured), so the last to start is a short one.
const STEPS = [
  ["biome", bin("biome"), ["check", "."]],
  ["TypeDoc (every export documented)", "node", ["scripts/docs.mjs", "--check"]],
  ["packaging (publint, attw)", "node", ["scripts/check-packages.mjs"]],
  ["typecheck tinker-ts-cookbook", "npm", ["run", "typecheck", "-w", "tinker-ts-cookbook"]],
  ["typecheck tinker-ts", "npm", ["run", "typecheck", "-w", "tinker-ts"]],
  ["typecheck tinker-local", "npm", ["run", "typecheck", "-w", "tinker-local"]],
  ["tsc examples", bin("tsc"), ["-p", "examples/tsconfig.json"]],
  ["tsc bench", bin("tsc"), ["-p", "bench/tsconfig.json"]],
  ["tsc conformance", bin("tsc"), ["-p", "conformance/tsconfig.json"]],
  ["tsc test", bin("tsc"), ["-p", "test/tsconfig.json"]],
  ["import graph (dependency-cruiser)", "npm", ["run", "lint:imports"]],
];

const text = process.env.LINT_CONCURRENCY;
const concurrency = text ? Number(text) : 2;
if (!Number.isSafeInteger(concurrency) || concurrency <= 0) {
  console.error(`lint: LINT_CONCURRENCY must be a positive integer, got "${text}"`);
  process.exit(2);
}

function runStep([name, command, args]) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const chunks = [];
    child.stdout.on("data", (d) => chunks.push(d));
    child.stderr.on("data", (d) => chunks.push(d));
    const done = (code, error) => {
      const output = Buffer.concat(chunks).toString().trimEnd();
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      const ok = code === 0;
      console.log(`lint: ${ok ? "ok" : "FAILED"} ${name} (${seconds} s): ${command} ${args.join(" ")}`);
      if (output !== "") console.log(output);
      if (error) console.log(String(error));
      resolve({ name, ok });
    };
    child.on("error", (error) => done(null, error));
    child.on("close", (code) => done(code));
  });
}

const queue = [...STEPS];
const results = [];
async function worker() {
  for (let step = queue.shift(); step !== undefined; step = queue.shift()) results.push(await runStep(step));
}
await Promise.all(Array.from({ length: Math.min(concurrency, STEPS.length) }, worker));
const failed = results.filter((r) => !r.ok).map((r) => r.name);
if (failed.length > 0) {
  console.error(`lint: FAILED: ${failed.join(", ")}`);
  process.exit(1);
}
console.log(`lint: ok (${results.length} checks)`);
