// What every example shares (examples/lib): --help prints the usage on stdout and exits 2 (the
// example did not run), an unknown flag prints the usage on stderr and exits 2, neither with a
// stack trace, and TINKER_BASE_URL pointing at a tinker-local (no TINKER_API_KEY) is recognised
// from the server's capabilities and used.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { describeRun, runExample } from "./helpers/run-example.js";

const EXAMPLES = [
  "quickstart.ts",
  "sft-demo.ts",
  "rl-loop.ts",
  "rl-arithmetic.ts",
  "resume-from-checkpoint.ts",
  "download-checkpoint.ts",
  "chat-sft.ts",
];

describe("example flags", () => {
  for (const example of EXAMPLES) {
    it(`${example}: an unknown flag and --help both print the usage and exit 2 (did not run), no stack trace`, async () => {
      const bad = await runExample(example, ["--no-such-flag"]);
      assert.equal(bad.code, 2, describeRun(bad));
      assert.match(bad.stderr, /Unknown option '--no-such-flag'/);
      assert.match(bad.stderr, /^usage: /m);
      assert.doesNotMatch(bad.stderr, /^\s+at /m, "no stack trace");
      assert.equal(bad.stdout, "");
      const help = await runExample(example, ["--help"]);
      assert.equal(help.code, 2, describeRun(help));
      assert.match(help.stdout, /^usage: /m);
      assert.match(help.stdout, /^Exit status: 0 finished, 1 failed, 2 did not run/m);
      assert.doesNotMatch(`${help.stdout}${help.stderr}`, /^\s+at /m, "no stack trace");
      assert.equal(help.stderr, "");
      for (const flag of ["--model", "--tokenizer", "--data-dir", "--help"])
        assert.match(help.stdout, new RegExp(flag));
    });
  }
});

describe("examples against TINKER_BASE_URL = a tinker-local", () => {
  let server: LocalServer;
  const dataDir = mkdtempSync(join(tmpdir(), "tinker-examples-url-"));
  before(async () => {
    server = await startServer({ port: 0, dataDir });
  });
  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("resume-from-checkpoint runs there with tinker-local's defaults and no key", async () => {
    const run = await runExample(
      "resume-from-checkpoint.ts",
      ["--model", "tinker-local/tiny", "--steps-before", "2", "--steps-after", "2", "--batch", "2"],
      120_000,
      { TINKER_BASE_URL: server.url },
    );
    assert.equal(run.code, 0, describeRun(run));
    assert.doesNotMatch(run.stdout, /tinker-local started in this process/);
    assert.ok(server.requests().some((r) => r.path === "/api/v1/get_server_capabilities"));
    assert.ok(server.requests().some((r) => r.path === "/api/v1/forward_backward"));
  });

  it("the quick start runs there too, on the default model", async () => {
    server.clearRequests();
    const run = await runExample("quickstart.ts", [], 180_000, {
      TINKER_BASE_URL: server.url,
      TINKER_BASE_MODEL: "tinker-local/tiny",
    });
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /^loss:sum \d/m);
    assert.ok(server.requests().some((r) => r.path === "/api/v1/optim_step"));
  });
});
