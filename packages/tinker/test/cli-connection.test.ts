// The `tinker` command as a new user meets it: global options before and after the command name,
// a retry notice on stderr at the first retry (before the second attempt) naming the URL and the
// attempts left, a final connection error that names the URL and says what to check, a 401 that
// says which key source was used (never the key), and messages in flag words.
// Spawns the built binary (packages/tinker/dist/cli/main.js), as cli-rest.test.ts does.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type LocalServer, startServer } from "tinker-local";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO_ROOT, "packages/tinker/dist/cli/main.js");
const KEY = "tml-cli-connection-test-key-7";
const WRONG = "tml-not-a-key-of-this-server-1";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns tinker; `onStderrLine` sees each stderr line as it arrives. */
function tinker(
  args: string[],
  env: Record<string, string | undefined> = {},
  onStderrLine?: (l: string) => void,
) {
  return new Promise<Run>((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        TINKER_API_KEY: undefined,
        TINKER_BASE_URL: undefined,
        TINKER_LOG: undefined,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let pending = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => {
      stderr += d;
      pending += d;
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        onStderrLine?.(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
      }
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 90_000);
    proc.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("tinker: connection failures", () => {
  it("at the first retry, before the second attempt, says it is retrying (closed port, then a server)", async () => {
    // Nothing listens on the port for the first attempt (connection refused). When the notice
    // arrives the test starts tinker-local on that port: the command then succeeds through a later
    // attempt, and the server saw no request before the notice was printed.
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const events: string[] = [];
    let late: LocalServer | undefined;
    let starting: Promise<void> | undefined;
    const run = await tinker(
      ["--base-url", url, "--max-retries", "5", "--format", "json", "run", "list"],
      { TINKER_API_KEY: KEY },
      (line) => {
        if (!/retrying/.test(line) || starting) return;
        events.push(`notice (server requests so far: ${late ? late.requests().length : "not listening"})`);
        starting = startServer({ port, apiKeys: [KEY] }).then((s) => {
          late = s;
        });
      },
    );
    await starting;
    try {
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(events, ["notice (server requests so far: not listening)"]);
      const first = run.stderr.split("\n")[0]!;
      assert.match(
        first,
        new RegExp(
          `^tinker: POST ${url}/api/v1/client/config failed \\(connection error\\); retrying in [\\d.]+ s, 5 attempts left$`,
        ),
      );
      assert.ok((late?.requests().length ?? 0) > 0, "a later attempt reached the server");
      assert.deepEqual(JSON.parse(run.stdout), { training_runs: [] });
    } finally {
      await late?.close();
    }
  });

  it("a refused connection (closed port) says it is retrying, with the URL, before giving up", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await tinker(["--base-url", url, "--max-retries", "1", "checkpoint", "list"], {
      TINKER_API_KEY: KEY,
    });
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 2, run.stderr);
    assert.match(
      lines[0]!,
      new RegExp(`tinker: POST ${url}/\\S+ failed \\(connection error\\); retrying in .* 1 attempt left`),
    );
    assert.match(
      lines[1]!,
      new RegExp(`${url} could not be reached.*ECONNREFUSED.*Check that the server is running`),
    );
    assert.equal(run.code, 6);
  });
});

describe("tinker: global options and key sources against tinker-local", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY] });
  });
  after(() => server.close());

  it("accepts --base-url, --api-key and --format before the command name, after it, and mixed", async () => {
    for (const args of [
      ["--base-url", server.url, "--api-key", KEY, "--format", "json", "run", "list"],
      ["run", "list", "--base-url", server.url, "--api-key", KEY, "--format", "json"],
      ["--format", "json", "run", "--base-url", server.url, "list", "--api-key", KEY],
    ]) {
      const run = await tinker(args);
      assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
      assert.deepEqual(JSON.parse(run.stdout), { training_runs: [] }, args.join(" "));
      assert.ok(!run.stdout.includes(KEY) && !run.stderr.includes(KEY));
    }
  });

  it("the flag after the command name wins over the one before it", async () => {
    const run = await tinker(
      ["--format", "table", "run", "list", "--format", "json", "--base-url", server.url],
      {
        TINKER_API_KEY: KEY,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { training_runs: [] });
  });

  it("a 401 names the key source (flag, environment, credential command), never the key", async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--api-key", WRONG], {}, /from the --api-key flag \(401\)/],
      [[], { TINKER_API_KEY: WRONG }, /from the TINKER_API_KEY environment variable \(401\)/],
      [
        [],
        { TINKER_CREDENTIAL_CMD: `echo ${WRONG}` },
        /from the credential command \(TINKER_CREDENTIAL_CMD\) \(401\)/,
      ],
    ];
    for (const [flags, env, source] of cases) {
      const run = await tinker(["--base-url", server.url, ...flags, "run", "list"], env);
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, source);
      assert.match(run.stderr, new RegExp(`tinker: ${server.url} refused the API key`));
      assert.ok(!run.stderr.includes(WRONG) && !run.stdout.includes(WRONG), run.stderr);
    }
  });

  it("usage messages use flag names, not SDK option names", async () => {
    const noKey = await tinker(["--base-url", server.url, "run", "list"]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /--api-key/);
    assert.doesNotMatch(noKey.stderr, /\{ apiKey \}|ServiceClient/);
    const badRetries = await tinker(["run", "list", "--max-retries", "lots", "--base-url", server.url], {
      TINKER_API_KEY: KEY,
    });
    assert.equal(badRetries.code, 2);
    assert.match(badRetries.stderr, /--max-retries must be a whole number/);
  });
});
