// Runs an ES module body in a fresh node process with the SDK's sources (tsx, the tinker-source
// condition), from packages/tinker so `./src/...` and `tinker-ts` resolve. For tests about what a
// process loads: the test's own process has loaded far more than the code under test would.
import { execFile } from "node:child_process";
import { join } from "node:path";

export interface ChildModuleOptions {
  /** Node flags placed before `--input-type=module`, e.g. ["--import", hook]. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default 60 s. */
  timeoutMs?: number;
}

/** Its stdout and stderr; rejects (with stderr in the message) when it exits non-zero. */
export function runModule(
  code: string,
  options: ChildModuleOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const args = [
    "--conditions=tinker-source",
    "--import",
    "tsx",
    ...(options.nodeArgs ?? []),
    "--input-type=module",
    "-e",
    code,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: join(import.meta.dirname, "..", ".."),
        timeout: options.timeoutMs ?? 60_000,
        ...(options.env ? { env: options.env } : {}),
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}
