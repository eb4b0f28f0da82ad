#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test with node:test + tsx, and refuses a run that could hide
// a problem: it fails when a package has no test folder (or no test files), when a test file defines
// no tests, when any test is skipped or todo, and when a test or the whole run goes past its
// deadline (a failed assertion that leaves a server open must not hang CI). It prints the count of
// tests per package, so a shrinking suite shows in the log, and the slowest files.
//
// It cannot shrink silently either: each test file's process keeps a record of its own
// (scripts/test-file-probe.mjs: tests started and finished, all done, exit), and the run fails when
// a file's process ended before its tests finished, or when fewer verdicts reached the reporters than
// tests finished in the file's process. The probe also ends a file that leaves handles open after
// its last test (with the handles named), so --test-force-exit is not used: on Linux it ended file
// processes before their last verdicts had gone through the pipe (nodejs/node#64833).
//
// Node 20's test runner does not expand globs, so the files are listed here. Tests import workspace
// packages from source through the "tinker-source" export condition.
//
//   node scripts/run-tests.mjs [--timings] [substring...]
//                               only test files whose path contains a substring; --timings prints
//                               every file's wall and CPU time (by default the slowest ten)
//   TINKER_TEST_TIMEOUT_MS      per test (and per file) deadline, default 300000; a file may ask
//                               for more with a line `// run-tests: timeout-ms=N`
//   TINKER_TEST_RUN_TIMEOUT_MS  whole run, default 2400000 (a guard against a hang, above any file's own deadline)
//   TINKER_TEST_CONCURRENCY     test files run at once, default 3 (each file is its own process;
//                               tests take ports from the OS and temporary folders of their own)
//   TINKER_TEST_EXIT_GRACE_MS   how long a file's process may stay alive after its last test
//                               before it is ended as leaking handles, default 20000
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const reporter = fileURLToPath(new URL("./test-tally-reporter.mjs", import.meta.url));
const probe = pathToFileURL(fileURLToPath(new URL("./test-file-probe.mjs", import.meta.url))).href;

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
const runTimeoutMs = positiveEnv("TINKER_TEST_RUN_TIMEOUT_MS", 2_400_000);
// Node 20 runs one file at a time on a 2-core machine (cores - 1); most files wait on a server or
// a child process much of the time: at two at once, the unit run used about half of a quiet 2-core
// machine (830 s of CPU in 14 min), so three at once, beside the files with deadlines of their own.
const concurrency = positiveEnv("TINKER_TEST_CONCURRENCY", 3);
positiveEnv("TINKER_TEST_EXIT_GRACE_MS", 20_000); // read by the probe; checked here

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

const args = process.argv.slice(2);
const showAllTimings = args.includes("--timings");
const filter = args.filter((a) => a !== "--timings");
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
const probeDir = join(tallyDir, "probe");
mkdirSync(probeDir);
const children = [...groups].map(([timeout, groupFiles], i) => {
  const tallyFile = join(tallyDir, `tally-${i}.jsonl`);
  const child = spawn(
    process.execPath,
    [
      "--conditions=tinker-source",
      "--import",
      "tsx",
      `--import=${probe}`,
      "--test",
      `--test-timeout=${timeout}`,
      `--test-concurrency=${timeout === testTimeoutMs ? concurrency : 1}`,
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
      env: { ...process.env, TINKER_TALLY_FILE: tallyFile, TINKER_PROBE_DIR: probeDir },
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
  const probes = readdirSync(probeDir).flatMap((name) => readTally(join(probeDir, name)));
  rmSync(tallyDir, { recursive: true, force: true });
  if (timedOut) problems.push(`the run was killed after ${runDeadlineMs} ms`);
  exits.forEach(({ code, signal }, i) => {
    if (!timedOut && code !== 0) {
      const what = children.length > 1 ? ` (files with a ${children[i].timeout} ms deadline)` : "";
      problems.push(`node --test${what} exited with ${signal ?? code}`);
    }
  });
  summarise(records);
  if (!timedOut) compareWithProbes(records, probes);
  printTimings(probes);
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

/** The probe's records, by test file: what happened in each file's own process. */
function probesByFile(probes) {
  const byFile = new Map();
  for (const r of probes) {
    const p = byFile.get(r.file) ?? {
      begin: null,
      exit: null,
      done: false,
      started: [],
      ended: 0,
      leak: null,
    };
    if (r.kind === "begin") p.begin = r.at;
    else if (r.kind === "exit") p.exit = r;
    else if (r.kind === "done") p.done = true;
    else if (r.kind === "start") p.started.push(r.name);
    else if (r.kind === "end") p.ended += 1;
    else if (r.kind === "leak") p.leak = r.resources;
    byFile.set(r.file, p);
  }
  return byFile;
}

// The reporters' tally against each file's own record: a file whose process ended before its tests
// finished, or whose finished tests did not all reach the reporters, fails the run.
function compareWithProbes(records, probes) {
  const byFile = probesByFile(probes);
  const received = new Map(files.map((f) => [f, 0]));
  for (const r of records) {
    if (r.kind === "test" && r.outcome !== "skip" && r.file !== null) {
      received.set(r.file, (received.get(r.file) ?? 0) + 1);
    }
  }
  for (const file of files) {
    const name = relative(root, file);
    const p = byFile.get(file);
    if (p === undefined) {
      problems.push(`${name}: its process left no record (scripts/test-file-probe.mjs did not run in it)`);
      continue;
    }
    if (p.leak !== null) {
      problems.push(
        `${name}: handles stayed open after its last test (${p.leak.join(", ") || "?"}); close them in finally/after`,
      );
    }
    if (p.done && p.exit === null) {
      problems.push(
        `${name}: its process was killed after its last test had finished (something kept it alive)`,
      );
    }
    if (!p.done) {
      const last = p.started.at(-1);
      const how = p.exit === null ? "was killed" : `exited with ${p.exit.code}`;
      problems.push(
        `${name}: its process ${how} before all its tests had finished (${p.ended} finished` +
          `${last === undefined ? "" : `, the last one started: "${last}"`})`,
      );
    }
    if (p.started.length !== p.ended) {
      problems.push(`${name}: ${p.started.length} tests started in its process but ${p.ended} finished`);
    }
    const got = received.get(file) ?? 0;
    if (got < p.ended) {
      problems.push(
        `${name}: ${p.ended} tests finished in its process but the reporters received ${got} ` +
          "(verdicts lost between the file's process and the runner)",
      );
    }
  }
}

// Wall time from the probe's start to the process's exit, and CPU: the process's own, and that of
// the programs it ran and waited for (a spawned CLI, a server process, an example).
function printTimings(probes) {
  const rows = [...probesByFile(probes)]
    .filter(([, p]) => p.begin !== null && p.exit !== null)
    .map(([file, p]) => ({
      name: relative(root, file),
      wallMs: p.exit.at - p.begin,
      cpuMs: p.exit.cpuMs,
      childCpuMs: p.exit.childCpuMs ?? 0,
    }))
    .sort((a, b) => b.wallMs - a.wallMs);
  if (rows.length === 0) return;
  const shown = showAllTimings ? rows : rows.slice(0, 10);
  const sum = (key) => rows.reduce((n, r) => n + r[key], 0);
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`.padStart(8);
  console.log(
    `\n${showAllTimings ? "every file" : "slowest files"} (wall, own CPU, its children's CPU; ` +
      `all ${rows.length} files: ${s(sum("wallMs")).trim()} wall, ${s(sum("cpuMs")).trim()} + ` +
      `${s(sum("childCpuMs")).trim()} CPU):`,
  );
  for (const r of shown) console.log(`  ${s(r.wallMs)} ${s(r.cpuMs)} ${s(r.childCpuMs)}  ${r.name}`);
}

function fail(list) {
  console.error(`\nrun-tests: FAILED\n${list.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}
