#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test with node:test + tsx, and refuses a run that could hide
// a problem: it fails when a package has no test folder (or no test files), when a test file defines
// no tests, when any test is skipped or todo, and when a test or the whole run goes past its
// deadline (a failed assertion that leaves a server open must not hang CI). It prints the count of
// tests per package, so a shrinking suite shows in the log.
//
// Node 20's test runner does not expand globs, so the files are listed here. Tests import workspace
// packages from source through the "tinker-source" export condition.
//
//   node scripts/run-tests.mjs [substring...]   only test files whose path contains a substring
//   TINKER_TEST_TIMEOUT_MS      per test (and per file) deadline, default 300000; a file may ask
//                               for more with a line `// run-tests: timeout-ms=N`
//   TINKER_TEST_RUN_TIMEOUT_MS  whole run, default 900000
//   TINKER_TEST_CONCURRENCY     test files run at once, default 2 (each file is its own process;
//                               tests take ports from the OS and temporary folders of their own)
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const reporter = fileURLToPath(new URL("./test-tally-reporter.mjs", import.meta.url));

function positiveEnv(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    console.error(`run-tests: ${name} must be a positive integer, got "${text}"`);
    process.exit(2);
  }
  return value;
}
const testTimeoutMs = positiveEnv("TINKER_TEST_TIMEOUT_MS", 300_000);
const runTimeoutMs = positiveEnv("TINKER_TEST_RUN_TIMEOUT_MS", 900_000);
// Node 20 runs one file at a time on a 2-core machine (cores - 1); most files wait on a server or
// a child process much of the time, so two at once use the machine better.
const concurrency = positiveEnv("TINKER_TEST_CONCURRENCY", 2);

function collect(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(collect(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const problems = [];
const packagesDir = join(root, "packages");
const packages = readdirSync(packagesDir)
  .filter((name) => existsSync(join(packagesDir, name, "package.json")))
  .sort();
/** package name (folder) -> its test files, absolute */
const filesByPackage = new Map();
for (const pkg of packages) {
  const testDir = join(packagesDir, pkg, "test");
  if (!existsSync(testDir)) {
    problems.push(`packages/${pkg} has no test/ folder`);
    continue;
  }
  const files = collect(testDir);
  if (files.length === 0) problems.push(`packages/${pkg}/test holds no *.test.ts file`);
  filesByPackage.set(pkg, files);
}

const filter = process.argv.slice(2);
let files = [...filesByPackage.values()].flat();
if (filter.length > 0) files = files.filter((f) => filter.some((x) => relative(root, f).includes(x)));
if (files.length === 0) problems.push(`no test file matches ${filter.map((x) => `"${x}"`).join(" ")}`);
if (problems.length > 0 && files.length === 0) fail(problems);

// A file may ask for a longer deadline than the default with a line `// run-tests: timeout-ms=N`
// (the demo's full default run is one): node --test has one timeout per invocation, so such files
// run in an invocation of their own, beside the main one, one file at a time.
const TIMEOUT_DIRECTIVE = /^\/\/ run-tests: timeout-ms=(\d+)$/m;
const groups = new Map(); // timeout -> files
for (const file of files) {
  const match = TIMEOUT_DIRECTIVE.exec(readFileSync(file, "utf8"));
  const timeout = match ? Number(match[1]) : testTimeoutMs;
  groups.set(timeout, [...(groups.get(timeout) ?? []), file]);
}

// The whole-run deadline covers the longest file deadline asked for.
const runDeadlineMs = Math.max(runTimeoutMs, ...[...groups.keys()].map((t) => t + 60_000));

const tallyDir = mkdtempSync(join(tmpdir(), "tinker-tests-"));
const children = [...groups].map(([timeout, groupFiles], i) => {
  const tallyFile = join(tallyDir, `tally-${i}.jsonl`);
  const child = spawn(
    process.execPath,
    [
      "--conditions=tinker-source",
      "--import",
      "tsx",
      "--test",
      `--test-timeout=${timeout}`,
      `--test-concurrency=${timeout === testTimeoutMs ? concurrency : 1}`,
      // A test that leaves a handle open (a server, a timer) must not keep the run alive.
      "--test-force-exit",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${devNull}`, // it writes TINKER_TALLY_FILE itself
      ...groupFiles,
    ],
    {
      cwd: root,
      stdio: "inherit",
      detached: process.platform !== "win32",
      env: { ...process.env, TINKER_TALLY_FILE: tallyFile },
    },
  );
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited, tallyFile, timeout };
});
let timedOut = false;
const watchdog = setTimeout(() => {
  timedOut = true;
  console.error(`run-tests: the run passed its ${runDeadlineMs} ms deadline; killing it`);
  for (const { child } of children) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
}, runDeadlineMs);
const forward = (signal) => () => {
  for (const { child } of children) child.kill(signal);
};
process.on("SIGINT", forward("SIGINT"));
process.on("SIGTERM", forward("SIGTERM"));

Promise.all(children.map((c) => c.exited)).then((exits) => {
  clearTimeout(watchdog);
  const records = children.flatMap((c) => readTally(c.tallyFile));
  rmSync(tallyDir, { recursive: true, force: true });
  if (timedOut) problems.push(`the run was killed after ${runDeadlineMs} ms`);
  exits.forEach(({ code, signal }, i) => {
    if (!timedOut && code !== 0) {
      const what = children.length > 1 ? ` (files with a ${children[i].timeout} ms deadline)` : "";
      problems.push(`node --test${what} exited with ${signal ?? code}`);
    }
  });
  summarise(records);
  if (problems.length > 0) fail(problems);
  console.log("run-tests: ok");
});

function readTally(tallyFile) {
  if (!existsSync(tallyFile)) return [];
  return readFileSync(tallyFile, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

function packageOf(file) {
  const parts = relative(packagesDir, file).split(sep);
  return parts[0] ?? "?";
}

function summarise(records) {
  const testsPerFile = new Map(files.map((f) => [f, 0]));
  const failedFiles = new Set();
  const counts = new Map();
  for (const record of records) {
    if (record.kind === "file" && record.outcome === "fail") failedFiles.add(record.file);
    if (record.kind !== "test") continue;
    const pkg = record.file === null ? "?" : packageOf(record.file);
    const c = counts.get(pkg) ?? { pass: 0, fail: 0, skip: 0, todo: 0 };
    c[record.outcome] += 1;
    counts.set(pkg, c);
    if (record.file !== null) testsPerFile.set(record.file, (testsPerFile.get(record.file) ?? 0) + 1);
    if (record.outcome === "skip" || record.outcome === "todo") {
      problems.push(`${record.outcome}: "${record.name}" in ${relative(root, record.file ?? "?")}`);
    }
  }
  if (!timedOut) {
    for (const [file, n] of testsPerFile) {
      // A file that failed as a whole (timed out, crashed on import) is already a failure.
      if (n === 0 && !failedFiles.has(file)) problems.push(`${relative(root, file)} defines no tests`);
    }
  }
  console.log("\ntests per package:");
  for (const pkg of new Set([...filesByPackage.keys(), ...counts.keys()])) {
    const c = counts.get(pkg) ?? { pass: 0, fail: 0, skip: 0, todo: 0 };
    const fileCount = files.filter((f) => packageOf(f) === pkg).length;
    console.log(
      `  ${pkg.padEnd(14)} ${String(c.pass).padStart(5)} passed, ${c.fail} failed, ${c.skip} skipped, ${c.todo} todo (${fileCount} files)`,
    );
  }
}

function fail(list) {
  console.error(`\nrun-tests: FAILED\n${list.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}
