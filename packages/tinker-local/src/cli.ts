#!/usr/bin/env node
// The `tinker-local` command: runs the server until SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { DEFAULT_EPHEMERAL_TTL_SECONDS } from "./engine/training-runtime.js";
import { defaultWorkerCount } from "./engine/worker-pool.js";
import { DEFAULT_JWT_TTL_SECONDS, DEFAULT_SESSION_TTL_SECONDS, startServer } from "./http/server.js";
import { SERVER_VERSION } from "./index.js";
import type { LocalLogger } from "./log.js";
import { servedModels, UnknownModelError } from "./model/served.js";

const DEFAULT_CLI_PORT = 8765;
const DEFAULT_CLI_DATA_DIR = "./.tinker-local";

const USAGE = `Usage: tinker-local [options]

A Tinker-compatible server for one machine.

Options:
  --port N             port to listen on; 0 picks a free one (default ${DEFAULT_CLI_PORT})
  --host HOST          address to bind (default 127.0.0.1)
  --data-dir DIR       where the database and checkpoints live (default ${DEFAULT_CLI_DATA_DIR})
  --session-ttl SECS   expire sessions without a heartbeat for this long (default ${DEFAULT_SESSION_TTL_SECONDS})
  --ephemeral-ttl SECS delete unnamed sampler checkpoints (no ttl_seconds) after this long (default ${DEFAULT_EPHEMERAL_TTL_SECONDS})
  --workers N          worker threads running model work (default: one per core, here ${defaultWorkerCount()})
  --log-requests       print "METHOD PATH STATUS" for every request
  --api-key KEY        accept this API key (repeatable); each key is a separate user
  --keys-file PATH     accept the keys in this file, one per line, # for comments
  --jwt                JWT mode: clients exchange their key for a JWT at /api/v1/auth/token
  --jwt-ttl SECS       lifetime of issued JWTs (default ${DEFAULT_JWT_TTL_SECONDS})
  --admin-key KEY      accept this key as an admin user who may read /api/v1/audit (repeatable)
  --model NAME         serve the twin of this hosted model (repeatable), e.g. Qwen/Qwen3-4B-Instruct-2507;
                       default: every twin whose tokenizer data is installed (tinker-local/* always)
  --archive-response redirect|json
                       checkpoint archive answer to Accept: application/json clients (default redirect)
  --help               show this help
  --version            print the version

With no --api-key and no --keys-file, the local key "tml-local-dev" is accepted.
`;

class UsageError extends Error {}

interface CliOptions {
  port: number;
  host: string | undefined;
  dataDir: string;
  sessionTtlSeconds: number | undefined;
  ephemeralTtlSeconds: number | undefined;
  workers: number | undefined;
  logRequests: boolean;
  apiKeys: string[];
  keysFile: string | undefined;
  jwt: boolean;
  jwtTtlSeconds: number | undefined;
  adminKeys: string[];
  archiveResponse: "redirect" | "json" | undefined;
  /** Undefined: every installed twin. */
  models: string[] | undefined;
}

function parseInteger(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

type Parsed = { kind: "help" } | { kind: "version" } | { kind: "run"; options: CliOptions };

function parseCliArgs(argv: readonly string[]): Parsed {
  let values: ReturnType<typeof parse>["values"];
  function parse(args: string[]) {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "data-dir": { type: "string" },
        "session-ttl": { type: "string" },
        "ephemeral-ttl": { type: "string" },
        workers: { type: "string" },
        "log-requests": { type: "boolean" },
        "api-key": { type: "string", multiple: true },
        "keys-file": { type: "string" },
        jwt: { type: "boolean" },
        "jwt-ttl": { type: "string" },
        "admin-key": { type: "string", multiple: true },
        "archive-response": { type: "string" },
        model: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    });
  }
  try {
    values = parse([...argv]).values;
  } catch (error) {
    // parseArgs messages can quote the offending argument, which might be a key; keep only the kind.
    const code = (error as { code?: string }).code;
    throw new UsageError(
      code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
        ? `unknown option: ${firstUnknownFlag(argv) ?? "?"}`
        : code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
          ? "unexpected argument (tinker-local takes options only)"
          : code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"
            ? "an option is missing its value or was given one it does not take"
            : "invalid arguments",
    );
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const apiKeys = values["api-key"] ?? [];
  if (apiKeys.some((key) => key.trim() === "")) throw new UsageError("--api-key must not be empty");
  const adminKeys = values["admin-key"] ?? [];
  if (adminKeys.some((key) => key.trim() === "")) throw new UsageError("--admin-key must not be empty");
  const archiveResponse = values["archive-response"];
  if (archiveResponse !== undefined && archiveResponse !== "redirect" && archiveResponse !== "json") {
    throw new UsageError(`--archive-response must be "redirect" or "json", got "${archiveResponse}"`);
  }
  const models = values.model;
  if (models !== undefined) {
    try {
      servedModels(models);
    } catch (error) {
      if (error instanceof UnknownModelError) throw new UsageError(`--model: ${error.message}`);
      throw error;
    }
  }
  return {
    kind: "run",
    options: {
      port: parseInteger("--port", values.port, 0, 65_535) ?? DEFAULT_CLI_PORT,
      host: values.host,
      dataDir: values["data-dir"] ?? DEFAULT_CLI_DATA_DIR,
      sessionTtlSeconds: parseInteger("--session-ttl", values["session-ttl"], 1, 10 ** 9),
      ephemeralTtlSeconds: parseInteger("--ephemeral-ttl", values["ephemeral-ttl"], 1, 10 ** 9),
      workers: parseInteger("--workers", values.workers, 1, 256),
      logRequests: values["log-requests"] ?? false,
      apiKeys,
      keysFile: values["keys-file"],
      jwt: values.jwt ?? false,
      jwtTtlSeconds: parseInteger("--jwt-ttl", values["jwt-ttl"], 1, 10 ** 9),
      adminKeys,
      archiveResponse,
      models,
    },
  };
}

const KNOWN_FLAGS = new Set([
  "--port",
  "--host",
  "--data-dir",
  "--session-ttl",
  "--ephemeral-ttl",
  "--workers",
  "--log-requests",
  "--api-key",
  "--keys-file",
  "--jwt",
  "--jwt-ttl",
  "--admin-key",
  "--archive-response",
  "--model",
  "--help",
  "-h",
  "--version",
]);

function firstUnknownFlag(argv: readonly string[]): string | undefined {
  return argv
    .filter((arg) => arg.startsWith("-"))
    .map((arg) => arg.split("=")[0] ?? arg)
    .find((flag) => !KNOWN_FLAGS.has(flag));
}

const stderrLogger: LocalLogger = {
  info: (message) => process.stderr.write(`tinker-local: ${message}\n`),
  warn: (message) => process.stderr.write(`tinker-local: warning: ${message}\n`),
  error: (message) => process.stderr.write(`tinker-local: error: ${message}\n`),
};

async function main(argv: readonly string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tinker-local: ${error.message}\nRun tinker-local --help for usage.\n`);
    return 2;
  }
  if (parsed.kind === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === "version") {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return 0;
  }
  const { options } = parsed;
  // Handlers go in before anything is printed: a supervisor may signal us the moment it reads the
  // `listening on` line, and a signal that beats the handler would kill the process uncleanly.
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolveStop) => {
    requestStop = resolveStop;
  });
  process.once("SIGINT", () => requestStop());
  process.once("SIGTERM", () => requestStop());

  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      port: options.port,
      host: options.host,
      dataDir: options.dataDir,
      sessionTtlSeconds: options.sessionTtlSeconds,
      ephemeralTtlSeconds: options.ephemeralTtlSeconds,
      workers: options.workers,
      logRequests: options.logRequests,
      apiKeys: options.apiKeys,
      keysFile: options.keysFile,
      jwt: options.jwt,
      jwtTtlSeconds: options.jwtTtlSeconds,
      adminKeys: options.adminKeys,
      archiveResponse: options.archiveResponse,
      ...(options.models === undefined ? {} : { models: options.models }),
      logger: stderrLogger,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message =
      code === "EADDRINUSE"
        ? `port ${options.port} is already in use; pick another with --port (0 = any free port)`
        : (error as Error).message;
    process.stderr.write(`tinker-local: cannot start: ${message}\n`);
    return 1;
  }
  process.stdout.write(`listening on ${server.url}\n`);

  await stopRequested;
  // Closing stops accepting requests, abandons queued work, and waits for the model operations
  // already running in the workers (a save completes; checkpoint files are renamed into place
  // whole). A second signal does not wait: checkpoints are still whole or absent, never partial.
  const abandon = (): void => {
    process.stderr.write("tinker-local: second signal: exiting without waiting for running work\n");
    process.exit(1);
  };
  process.once("SIGINT", abandon);
  process.once("SIGTERM", abandon);
  try {
    await server.close();
    return 0;
  } catch (error) {
    process.stderr.write(`tinker-local: error while closing: ${(error as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tinker-local: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
