// The built `tinker` binary (packages/tinker/dist/cli/main.js) as the CLI tests run it: spawned the
// way a user runs it, against a tinker-local, with an API key that must never reach its output;
// the checks every such test makes on a result; and the runs and checkpoints they seed in the
// server's store.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LocalServer } from "tinker-local";
import { ServiceClient } from "tinker-ts";
import { REPO_ROOT } from "./run-example.js";

export const CLI_BIN = join(REPO_ROOT, "packages/tinker/dist/cli/main.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliCall {
  /** The API key put in TINKER_API_KEY; the call fails if it shows up in stdout or stderr. */
  key: string;
  baseUrl: string;
  cwd: string;
  /** More variables, or `undefined` to remove one (TINKER_API_KEY: undefined runs without a key). */
  env?: Record<string, string | undefined>;
}

/** A CLI call that has not ended by then is killed (and its test fails on the exit code). */
const CLI_TIMEOUT_MS = 60_000;

/** Runs the binary with `args`; resolves when it has exited, after checking the key is not printed. */
export function runCli(args: string[], call: CliCall): Promise<CliResult> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: call.cwd,
      env: {
        ...process.env,
        TINKER_API_KEY: call.key,
        TINKER_BASE_URL: call.baseUrl,
        TINKER_LOG: undefined,
        ...call.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), CLI_TIMEOUT_MS);
    proc.on("close", (code) => {
      clearTimeout(timer);
      assert.ok(
        !stdout.includes(call.key) && !stderr.includes(call.key),
        `the API key was printed by: tinker ${args.join(" ")}`,
      );
      resolve({ code, stdout, stderr });
    });
  });
}

/** Succeeded (exit 0): its stdout. */
export function ok(r: CliResult): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Succeeded with a JSON object on stdout. */
export function json(r: CliResult): Record<string, unknown> {
  return JSON.parse(ok(r)) as Record<string, unknown>;
}

/** Failed with exit `code`, nothing on stdout, and (if given) a message matching `pattern`. */
export function fails(r: CliResult, code: number, pattern?: RegExp): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, "", "no data on stdout when a command fails");
  if (pattern) assert.match(r.stderr, pattern);
}

// Outside dist/ (never packed), one per checkout.
const LOCK = join(
  tmpdir(),
  `tinker-cli-test-build-${createHash("sha256").update(REPO_ROOT).digest("hex").slice(0, 12)}.lock`,
);
const LOCK_STALE_MS = 300_000;

/**
 * Builds the binary the way it ships (tsc, incremental: nothing to do when dist/ is current; tsc
 * emits even if some unrelated file is mid-edit). Two CLI test files run at once would otherwise
 * write dist/ together, one reading files the other is rewriting, so the build holds a lock file.
 */
export async function buildCli(): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      closeSync(openSync(LOCK, "wx"));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock older than any build is left over from a killed run.
      if (Date.now() - started > LOCK_STALE_MS) rmSync(LOCK, { force: true });
      await sleep(200);
    }
  }
  try {
    const build = spawnSync(
      process.execPath,
      [join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", "packages/tinker/tsconfig.build.json"],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    assert.ok(existsSync(CLI_BIN), `build failed:\n${build.stdout}${build.stderr}`);
  } finally {
    rmSync(LOCK, { force: true });
  }
}

let runs = 0;

/** A training run of `owner` in the server's store (as a create_model would leave it); its id. */
/** Opens a session on `server` with `key` (no telemetry) and returns its id, for seeding runs. */
export async function openSessionOn(server: LocalServer, key: string): Promise<string> {
  const service = new ServiceClient({ apiKey: key, baseUrl: server.url, logLevel: "off", telemetry: false });
  try {
    return await service.openSession();
  } finally {
    await service.close();
  }
}

export function seedRun(
  server: LocalServer,
  owner: string,
  sessionId: string,
  userMetadata: Record<string, string> = {},
): string {
  const id = `${sessionId}:train:${runs++}`;
  server.store.runs.create({
    id,
    owner,
    sessionId,
    baseModel: "tinker-local/tiny",
    isLora: true,
    loraRank: 4,
    trainMlp: true,
    trainAttn: true,
    trainUnembed: true,
    userMetadata,
  });
  return id;
}

export interface SeededCheckpoint {
  owner: string;
  runId: string;
  /** `weights/…` is a training checkpoint, anything else a sampler one. */
  checkpointId: string;
  /** The checkpoint's files (a LoRA's adapter_model.safetensors and adapter_config.json). */
  files: Record<string, Uint8Array>;
  /** Its time in ms; the store's clock when left out. */
  createdAt?: number;
}

/** A saved checkpoint in the server's store; its tinker:// path. */
export function seedCheckpoint(server: LocalServer, c: SeededCheckpoint): string {
  return server.store.checkpoints.save(
    {
      runId: c.runId,
      checkpointId: c.checkpointId,
      kind: c.checkpointId.startsWith("weights/") ? "training" : "sampler",
      owner: c.owner,
      expiresAt: null,
      createdAt: c.createdAt,
    },
    c.files,
  ).tinkerPath;
}
