// Runs one of the programs in examples/ as a user would: a child node process from the repository
// root, against the in-process tinker-local it starts (the hosted-service variables are removed,
// so a developer's environment cannot send a test run to a real account).

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface ExampleRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const HOSTED_VARIABLES = ["TINKER_BASE_URL", "TINKER_API_KEY", "TINKER_BASE_MODEL", "TINKER_CREDENTIAL_CMD"];

export function runExample(
  script: string,
  args: string[],
  timeoutMs = 60_000,
  extraEnv: Record<string, string> = {},
): Promise<ExampleRun> {
  const env = { ...process.env };
  for (const name of HOSTED_VARIABLES) delete env[name];
  Object.assign(env, extraEnv);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=tinker-source", "--import", "tsx", `examples/${script}`, ...args],
      { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Fails with the child's output attached, so a broken example explains itself in the test log. */
export function describeRun(run: ExampleRun): string {
  return `exit ${run.code} (signal ${run.signal})\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** The lines of stdout without the timing lines, which are allowed to differ between runs. */
export function withoutTiming(stdout: string): string[] {
  return stdout.split("\n").filter((line) => !line.startsWith("time"));
}
