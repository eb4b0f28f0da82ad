// Runs the real `tinker-local` CLI as a child process, from source, for tests that need a separate
// server process (e.g. one they can SIGSTOP to make it stop answering).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const CLI_PATH = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

export interface SpawnedTinkerLocal {
  /** `http://127.0.0.1:<port>` from the `listening on` line. */
  url: string;
  proc: ChildProcess;
  /** The data directory in use (created by the helper unless `--data-dir` was passed). */
  dataDir: string;
  /** stdout lines so far (the `listening on` line first, then `--log-requests` lines); grows live. */
  lines: string[];
  /** stderr lines so far; grows live. */
  errorLines: string[];
  /**
   * SIGCONT (in case the test stopped it), then SIGTERM; resolves with the exit code. After
   * `timeoutMs` (default 10 s) it SIGKILLs and resolves with -1. Removes a helper-made data dir.
   */
  stop(timeoutMs?: number): Promise<number>;
}

export interface SpawnOptions {
  /** How long to wait for `listening on`. Default 30 s (tsx compiles the sources on first start). */
  startTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

function hasFlag(args: readonly string[], flag: string): boolean {
  return args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
}

/**
 * Starts `tinker-local` with `args`. Adds `--port 0` unless a port is given, and a fresh temporary
 * `--data-dir` unless one is given.
 */
export async function spawnTinkerLocal(
  args: readonly string[] = [],
  options: SpawnOptions = {},
): Promise<SpawnedTinkerLocal> {
  const fullArgs = [...args];
  if (!hasFlag(fullArgs, "--port")) fullArgs.push("--port", "0");
  let ownDataDir: string | undefined;
  let dataDir: string;
  const dataDirIndex = fullArgs.findIndex((arg) => arg === "--data-dir" || arg.startsWith("--data-dir="));
  if (dataDirIndex === -1) {
    ownDataDir = mkdtempSync(join(tmpdir(), "tinker-local-spawn-"));
    dataDir = ownDataDir;
    fullArgs.push("--data-dir", dataDir);
  } else {
    const arg = fullArgs[dataDirIndex]!;
    dataDir = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : (fullArgs[dataDirIndex + 1] ?? "");
  }

  const proc = spawn(
    process.execPath,
    ["--conditions=tinker-source", "--import", "tsx", CLI_PATH, ...fullArgs],
    {
      cwd: REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  const errorLines: string[] = [];
  createInterface({ input: proc.stderr! }).on("line", (line) => errorLines.push(line));
  const exited = new Promise<number>((resolve) => {
    // A death by signal has no exit code; report it as -1.
    proc.once("exit", (code) => resolve(code ?? -1));
  });

  const cleanup = (): void => {
    if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
  };

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(
        new Error(
          `tinker-local did not start within ${startTimeoutMs} ms; stderr:\n${errorLines.join("\n")}`,
        ),
      );
    }, startTimeoutMs);
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      lines.push(line);
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(`tinker-local exited with ${code} before listening; stderr:\n${errorLines.join("\n")}`),
      );
    });
  }).catch((error: unknown) => {
    cleanup();
    throw error;
  });

  let stopping: Promise<number> | undefined;
  const stop = (timeoutMs = 10_000): Promise<number> => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGCONT");
        proc.kill("SIGTERM");
      }
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<number>((resolve) => {
          timer = setTimeout(() => {
            proc.kill("SIGKILL");
            resolve(-1);
          }, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      cleanup();
      return code;
    })();
    return stopping;
  };

  return { url, proc, dataDir, lines, errorLines, stop };
}
