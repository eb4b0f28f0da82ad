// Loaded with --import into every process scripts/run-tests.mjs starts (node --test passes its
// --import flags on to the process of each test file). In a test file's process it keeps a record
// of its own, independent of the reporters, that the runner compares with what the reporters
// received: a test file whose last verdicts never reached the parent, or whose process ended before
// all its tests had run, then fails the run instead of shrinking the count silently.
//
// The record is one JSON line per event, appended synchronously (so it survives process.exit) to
// TINKER_PROBE_DIR/<pid>.jsonl:
//   begin {file}        the process started, before the test file is imported
//   start/end {name}    a test (at any depth, not a suite or a skipped test) began / finished,
//                       from node:test's own beforeEach/afterEach hooks on the root
//   done                every test and hook of the file has finished (the root's after hook)
//   leak {resources}    handles still kept the process alive TINKER_TEST_EXIT_GRACE_MS after done
//   exit {code, cpuMs, childCpuMs}
//                       the process exits; its own user + system CPU, and its children's
//
// It also replaces --test-force-exit, which on Linux ends a test file's process before its
// report has gone through the pipe to the parent (nodejs/node#64833): a file that leaves a server
// or a timer open is ended here, after its report is flushed, with the open handles named.
import { appendFileSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const dir = process.env.TINKER_PROBE_DIR;
const file = process.argv[1];
// Only a test file's own process: not node --test itself (it has --test), and not a program a test
// spawns with the same flags (its script is not a test file).
const isTestFile =
  dir !== undefined &&
  dir !== "" &&
  !process.execArgv.includes("--test") &&
  file !== undefined &&
  /\.test\.[cm]?[jt]s$/.test(file);

// CPU of the programs the test file ran and waited for (a spawned CLI, a server, an example), from
// Linux's /proc (cutime + cstime, in clock ticks of 10 ms); null where there is no /proc.
function childCpuMs() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

if (isTestFile) {
  const out = join(dir, `${process.pid}.jsonl`);
  const record = (kind, fields = {}) =>
    appendFileSync(out, `${JSON.stringify({ kind, file: resolve(file), at: Date.now(), ...fields })}\n`);
  const graceText = process.env.TINKER_TEST_EXIT_GRACE_MS;
  const graceMs = graceText ? Number(graceText) : 20_000;

  record("begin");
  process.on("exit", (code) => {
    const cpu = process.cpuUsage();
    record("exit", { code, cpuMs: Math.round((cpu.user + cpu.system) / 1000), childCpuMs: childCpuMs() });
  });

  const { after, afterEach, beforeEach } = await import("node:test");
  beforeEach((t) => record("start", { name: t.name }));
  afterEach((t) => record("end", { name: t.name }));
  after(() => {
    record("done");
    // Unref'd: a process with nothing left open exits on its own and never sees this timer.
    setTimeout(() => {
      const resources = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap");
      record("leak", { resources });
      process.stderr.write(
        `run-tests: ${file} still had open handles ${graceMs} ms after its last test ` +
          `(${resources.join(", ")}); ending it\n`,
      );
      process.exitCode = 1;
      // An empty write's callback runs once every earlier write (the report) has gone out.
      process.stdout.write("", () => process.exit(1));
    }, graceMs).unref();
  });
}
