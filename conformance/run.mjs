#!/usr/bin/env node
// The official-client check (`npm run test:conformance`, part of `npm test`). Three steps, each
// bounded by its own deadline, each failing the run when it fails:
//   1. prepare Debian's python3 to import the unmodified official Python SDK (the shared folder's
//      conformance/setup.sh: apt packages, pydantic 2 wheels, two shims), and check that the golden
//      wire fixtures (conformance/golden/) are still what that SDK writes;
//   2. start a tinker-local and run the shared folder's official_flow.py against it (27 steps of
//      training, sampling and REST through the official client; its `N passed, M failed` line is
//      printed here), twice at once: byte tokens on tinker-local/tiny, and CONFORMANCE_TOKENS=wide
//      on the twin of Qwen/Qwen3-4B-Instruct-2507 (the real Qwen3 vocabulary);
//   3. the comparison tests (conformance/compare.test.ts): the same operations through the official
//      SDK and through tinker-ts against one tinker-local, compared bit for bit.
//
// The shared folder (read-only) is `../shared` beside the repository in CI; set TINKER_SHARED_DIR
// to use another one. Environment: CONFORMANCE_TOKENS / TINKER_BASE_MODEL pass through to the flow;
// TINKER_PYSHIM_DIR (default <tmp>/tinker-pyshim-<deps>) is where setup.sh puts its dependencies,
// PYSHIM_DEPS (default wheels) which kind (see setup.sh).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = "/usr/bin/python3";
const SETUP_TIMEOUT_MS = 600_000; // apt-get update + install on a fresh machine, then pip from local wheels
const FLOW_TIMEOUT_MS = 420_000; // the flow's own total timeout is 300 s
const COMPARE_TIMEOUT_MS = 300_000;
const SERVER_START_TIMEOUT_MS = 60_000;
/** A twin of a hosted model (tinker-local serves every installed twin by default). */
const TWIN = "Qwen/Qwen3-4B-Instruct-2507";

function fail(message) {
  console.error(`conformance: FAILED: ${message}`);
  process.exit(1);
}

/** The shared folder: TINKER_SHARED_DIR, else `shared` beside the repository or one level up. */
export function findSharedDir() {
  const explicit = process.env.TINKER_SHARED_DIR;
  const candidates =
    explicit !== undefined && explicit !== ""
      ? [resolve(explicit)]
      : [resolve(root, "..", "shared"), resolve(root, "..", "..", "shared")];
  for (const dir of candidates) {
    if (
      existsSync(join(dir, "conformance", "official_flow.py")) &&
      existsSync(join(dir, "official-sdk", "src", "tinker", "__init__.py"))
    ) {
      return dir;
    }
  }
  fail(
    `no shared folder with conformance/official_flow.py and official-sdk/src/tinker; looked in ${candidates.join(", ")}. ` +
      "CI provides it as ../shared beside the repository; elsewhere set TINKER_SHARED_DIR.",
  );
}

/** Runs a command with inherited output; rejects on a non-zero exit or past `timeoutMs`. */
function run(what, command, args, { env, timeoutMs, capture = false }) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit",
      detached: true,
    });
    let out = "";
    if (capture) {
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (capture !== "quiet") process.stdout.write(chunk);
      });
    }
    const failWith = (message) => reject(Object.assign(new Error(message), { output: out }));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${error.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) failWith(`${what} passed its ${timeoutMs / 1000} s deadline and was killed`);
      else if (code !== 0) failWith(`${what} exited with ${signal ?? code}`);
      else resolvePromise(out);
    });
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

/** Starts `tinker-local --port 0` from source and resolves with its URL and a stop function. */
function startTinkerLocal(dataDir) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=tinker-source",
        "--import",
        "tsx",
        join(root, "packages", "tinker-local", "src", "cli.ts"),
        "--port",
        "0",
        "--data-dir",
        dataDir,
      ],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"], detached: true },
    );
    let out = "";
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`tinker-local did not print its address within ${SERVER_START_TIMEOUT_MS / 1000} s`));
    }, SERVER_START_TIMEOUT_MS);
    child.stdout.setEncoding("utf8");
    const onData = (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stdout.resume(); // keep draining so the server never blocks on a full pipe
      const stop = () =>
        new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once("exit", () => done());
          child.kill("SIGTERM");
          setTimeout(() => killGroup(child), 10_000).unref();
        });
      resolvePromise({ url: match[1], stop });
    };
    child.stdout.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tinker-local exited with ${code} before listening:\n${out}`));
    });
  });
}

async function main() {
  const shared = findSharedDir();
  if (!existsSync(PYTHON)) fail(`${PYTHON} not found: the official-client check needs Debian's python3`);
  // "wheels": every runtime dependency of the SDK from wheels (httpx 0.28, anyio 4, ...), as
  // `pip install tinker` gives a real user. Debian's older anyio/httpcore sometimes miss a completed
  // connect, so a request of the official client stalls 45 s until its timeout (seen here).
  const deps = process.env.PYSHIM_DEPS ?? "wheels";
  const pyEnv = {
    TINKER_PY_SRC: join(shared, "official-sdk", "src"),
    PYSHIM_DEPS: deps,
    PYSHIM_DIR: process.env.TINKER_PYSHIM_DIR ?? join(tmpdir(), `tinker-pyshim-${deps}`),
  };
  console.log(`conformance: shared folder ${shared}`);

  console.log("conformance: [1/3] preparing the official Python SDK (setup.sh)");
  await run("setup.sh", "bash", [join(shared, "conformance", "setup.sh")], {
    env: pyEnv,
    timeoutMs: SETUP_TIMEOUT_MS,
  });

  // The golden wire fixtures of packages/tinker/test/wire-golden.test.ts are bytes the official SDK
  // wrote; regenerating them must give the committed file, or they no longer say what the SDK sends.
  await run(
    "make_wire_fixtures.py --check",
    PYTHON,
    [join(root, "conformance", "golden", "make_wire_fixtures.py"), "--check"],
    {
      env: {
        ...pyEnv,
        PYTHONPATH: [
          join(pyEnv.PYSHIM_DIR, "site"),
          join(pyEnv.PYSHIM_DIR, "shims"),
          pyEnv.TINKER_PY_SRC,
        ].join(":"),
      },
      timeoutMs: 60_000,
    },
  );

  const dataDir = mkdtempSync(join(tmpdir(), "tinker-conformance-"));
  try {
    console.log("conformance: [2/3] official_flow.py against a fresh tinker-local");
    const server = await startTinkerLocal(dataDir);
    // Two flows at once, two sessions on one server: byte tokens on tinker-local's own first model,
    // and wide token ids (> 2000) on the twin of a hosted model with its real 151k vocabulary.
    const flows = [
      { name: "bytes", env: { CONFORMANCE_TOKENS: "bytes" } },
      { name: `wide on ${TWIN}`, env: { CONFORMANCE_TOKENS: "wide", TINKER_BASE_MODEL: TWIN } },
    ];
    let outcomes;
    try {
      outcomes = await Promise.allSettled(
        flows.map((flow) =>
          run(`official_flow.py (${flow.name})`, PYTHON, [join(shared, "conformance", "official_flow.py")], {
            env: {
              ...pyEnv,
              ...flow.env,
              TINKER_BASE_URL: server.url,
              TINKER_API_KEY: "tml-local-dev",
              CONFORMANCE_STEP_TIMEOUT: "90",
              CONFORMANCE_TOTAL_TIMEOUT: "300",
            },
            timeoutMs: FLOW_TIMEOUT_MS,
            capture: "quiet",
          }),
        ),
      );
    } finally {
      await server.stop();
    }
    const failures = [];
    flows.forEach((flow, i) => {
      const outcome = outcomes[i];
      const out = outcome.status === "fulfilled" ? outcome.value : (outcome.reason.output ?? "");
      console.log(`\n---- official_flow.py, ${flow.name} ----\n${out.trimEnd()}`);
      const summary = /^(\d+) passed, (\d+) failed$/m.exec(out);
      if (outcome.status === "rejected") failures.push(`${flow.name}: ${outcome.reason.message}`);
      else if (summary === null) failures.push(`${flow.name}: no \`N passed, M failed\` line`);
      else if (summary[2] !== "0" || Number(summary[1]) === 0) failures.push(`${flow.name}: ${summary[0]}`);
      else console.log(`conformance: official flow (${flow.name}): ${summary[0]}`);
    });
    if (failures.length > 0) fail(`official_flow.py: ${failures.join("; ")}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  console.log("conformance: [3/3] official SDK vs tinker-ts, bit for bit (conformance/compare.test.ts)");
  await run(
    "compare.test.ts",
    process.execPath,
    [
      "--conditions=tinker-source",
      "--import",
      "tsx",
      "--test",
      "--test-timeout=240000",
      "--test-force-exit",
      "--test-reporter=spec",
      join(root, "conformance", "compare.test.ts"),
    ],
    { env: { ...pyEnv, TINKER_SHARED_DIR: shared }, timeoutMs: COMPARE_TIMEOUT_MS },
  );
  console.log("conformance: ok");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
}
