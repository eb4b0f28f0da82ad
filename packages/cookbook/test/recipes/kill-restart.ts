// Test helpers for resume tests: run a program as a child process against a tinker-local started
// by the test, SIGKILL it when its stdout shows a chosen line, and read what it saved.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LOCAL_API_KEY, type LocalServer, ownerIdForKey } from "tinker-local";
import { downloadCheckpoint } from "tinker-ts";
import type { ResumeRecord } from "../../src/index.js";

/** The repository root. */
export const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** What a child run printed, and whether it was killed. */
export interface ChildRun {
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `script args` to its end, or SIGKILLs it once stdout holds `killOn`. */
export function runChild(
  server: LocalServer,
  script: string,
  args: string[],
  killOn?: string,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TINKER_BASE_URL: server.url,
      TINKER_API_KEY: DEFAULT_LOCAL_API_KEY,
    };
    delete env.TINKER_CREDENTIAL_CMD;
    delete env.TINKER_BASE_MODEL;
    const proc: ChildProcess = spawn(
      process.execPath,
      ["--conditions=tinker-source", "--import", "tsx", script, ...args],
      {
        cwd: root,
        env,
      },
    );
    let stdout = "";
    let stderr = "";
    proc.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killOn !== undefined && stdout.includes(killOn)) proc.kill("SIGKILL");
    });
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve({ killed: true, stdout, stderr });
      else if (code === 0) resolve({ killed: false, stdout, stderr });
      else reject(new Error(`child exited ${code}\n${stdout}\n${stderr}`));
    });
  });
}

/** The run folder's resume record, or undefined when none was written yet. */
export function recordOf(runDir: string): ResumeRecord | undefined {
  const path = join(runDir, "checkpoint.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ResumeRecord) : undefined;
}

/**
 * The adapter's tensors as saved: the safetensors header without its `__metadata__` (tinker-local
 * writes the run's LoRA config there, and a run created from a checkpoint does not carry the
 * original `seed` into it) and the raw tensor bytes.
 */
export async function adapterOf(
  server: LocalServer,
  statePath: string,
  target: string,
): Promise<{ header: unknown; tensors: Buffer }> {
  await downloadCheckpoint(statePath, target, {
    clientOptions: { baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY },
  });
  const bytes = readFileSync(join(target, "adapter_model.safetensors"));
  const length = Number(bytes.readBigUInt64LE(0));
  const { __metadata__: _, ...header } = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8"));
  return { header, tensors: bytes.subarray(8 + length) };
}

/** Token counts of the forward_backward calls of one training run, in the order they ran. */
export function trainedBatches(server: LocalServer, runId: string): number[] {
  return server.store.usage
    .listByOwner(ownerIdForKey(DEFAULT_LOCAL_API_KEY), 0, Number.MAX_SAFE_INTEGER)
    .filter((e) => e.modelId === runId && e.operation === "forward_backward")
    .sort((a, b) => a.at - b.at)
    .map((e) => e.tokenCount ?? -1);
}
