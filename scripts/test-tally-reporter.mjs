// A node:test reporter for scripts/run-tests.mjs: one JSON line per finished test or file, so the
// runner can count tests per package and refuse a run that skipped, left a todo, or ran a file that
// defines no tests. The human-readable output comes from the spec reporter beside it.
//
// Lines are appended synchronously to the file in TINKER_TALLY_FILE, not yielded to a reporter
// destination, so that nothing read here waits on a stream that the process could end before it
// is flushed. What each test file's own process saw is recorded beside this by
// scripts/test-file-probe.mjs, and the runner compares the two.
import { appendFileSync } from "node:fs";

/** @param {AsyncIterable<{type: string, data: any}>} source */
export default async function* tally(source) {
  const out = process.env.TINKER_TALLY_FILE;
  if (!out) throw new Error("test-tally-reporter: set TINKER_TALLY_FILE to the file to append to");
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { data } = event;
    let outcome = event.type === "test:pass" ? "pass" : "fail";
    if (data.skip !== undefined && data.skip !== false) outcome = "skip";
    else if (data.todo !== undefined && data.todo !== false) outcome = "todo";
    // Each file runs in its own process and is reported as a test named by its path; a suite
    // (describe) is reported like a test with details.type "suite". Neither is a test of its own.
    const kind = data.name === data.file ? "file" : data.details?.type === "suite" ? "suite" : "test";
    appendFileSync(out, `${JSON.stringify({ file: data.file ?? null, name: data.name, kind, outcome })}\n`);
  }
  yield "";
}
