// What every REST command shares: the connection options (--base-url, --api-key, --format,
// --max-retries), the client they build, and output. Data goes to stdout; progress and diagnostics
// to stderr. Output is a table on a terminal and JSON otherwise, unless --format says which.
// The connection options are global: accepted before the command (`tinker --format json run list`)
// and after it (`tinker run list --format json`); see mergeGlobalOptions.

import { type Command, Option } from "commander";
import { ValidationError } from "../client/errors.js";
import { type ClientOptions, DEFAULT_BASE_URL } from "../client/options.js";
import { redact } from "../client/redact.js";
import type { RetryEvent } from "../client/retry.js";
import { RestClient } from "../clients/rest/rest-client.js";

export type OutputFormat = "table" | "json";

export interface CommonOptions {
  baseUrl?: string;
  apiKey?: string;
  format?: OutputFormat;
  maxRetries?: string;
}

/** The global option names, as Commander stores them. */
const GLOBAL_KEYS = ["baseUrl", "apiKey", "format", "maxRetries"] as const;

/** Adds --base-url, --api-key, -f/--format and --max-retries to a command (the program or a command). */
export function withCommonOptions(command: Command): Command {
  return command
    .option("--base-url <url>", "server base URL (default: TINKER_BASE_URL, else the hosted service)")
    .option(
      "--api-key <key>",
      "API key (default: TINKER_API_KEY; prefer the variable, arguments are visible to other users)",
    )
    .addOption(
      new Option(
        "-f, --format <format>",
        "output format (default: table on a terminal, json otherwise)",
      ).choices(["table", "json"]),
    )
    .option("--max-retries <n>", "retries per request on connection errors, 429 and 5xx (default: 10)");
}

/**
 * Copies global options given before the command name onto the command that runs, unless the
 * command got its own (after its name, which wins). Install as the program's preAction hook.
 */
export function mergeGlobalOptions(actionCommand: Command): void {
  for (const key of GLOBAL_KEYS) {
    if (actionCommand.getOptionValue(key) !== undefined) continue;
    // The nearest parent that has it set: `tinker run --format json list` and `tinker --format json run list`.
    for (let c = actionCommand.parent; c; c = c.parent) {
      const value = c.getOptionValue(key);
      if (value !== undefined) {
        actionCommand.setOptionValueWithSource(key, value, "cli");
        break;
      }
    }
  }
}

/** Which credential the command uses, in words for messages; never the credential itself. */
export function keySource(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.apiKey) return "the --api-key flag";
  if (env.TINKER_API_KEY) return "the TINKER_API_KEY environment variable";
  if (env.TINKER_CREDENTIAL_CMD) return "the credential command (TINKER_CREDENTIAL_CMD)";
  return "no key (none was given)";
}

/** The server the command talks to, as the SDK will resolve it (for messages). */
export function serverUrl(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env): string {
  return (opts.baseUrl || env.TINKER_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, "");
}

/**
 * Prints, on stderr, that a request failed and will be retried, with how many attempts remain and
 * the URL: written before the backoff sleep, so it appears before the next attempt is made.
 */
export function retryNotice(event: RetryEvent): void {
  const seconds = (event.delayMs / 1000).toFixed(1);
  const attempts = event.attemptsLeft === 1 ? "1 attempt" : `${event.attemptsLeft} attempts`;
  note(
    `tinker: ${event.method} ${event.url} failed (${event.reason}); retrying in ${seconds} s, ${attempts} left`,
  );
}

export function outputFormat(opts: CommonOptions): OutputFormat {
  return opts.format ?? (process.stdout.isTTY ? "table" : "json");
}

export function clientOptions(opts: CommonOptions): ClientOptions {
  return {
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
    ...(opts.maxRetries !== undefined ? { maxRetries: parseWhole(opts.maxRetries, "--max-retries") } : {}),
    onRetry: retryNotice,
  };
}

/** Runs `fn` with a RestClient for these options and closes it afterwards. */
export async function withClient<T>(opts: CommonOptions, fn: (client: RestClient) => Promise<T>): Promise<T> {
  const client = new RestClient(clientOptions(opts));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Writes data to stdout, passed through redact as a last line of defence. */
export function out(text: string): void {
  process.stdout.write(redact(text.endsWith("\n") ? text : `${text}\n`));
}

/** Writes a diagnostic line to stderr. */
export function note(text: string): void {
  process.stderr.write(redact(`${text}\n`));
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/**
 * Writes data that legitimately looks like a token (a signed download URL the user asked for),
 * which `redact`'s patterns would mask. Only this command's own credential is removed.
 */
export function outVerbatim(text: string, opts: CommonOptions): void {
  const key = opts.apiKey || process.env.TINKER_API_KEY;
  const safe = key && key.length >= 8 ? text.split(key).join("[REDACTED]") : text;
  process.stdout.write(safe.endsWith("\n") ? safe : `${safe}\n`);
}

/** A whole number >= `min` from an option value; ValidationError (exit 2) otherwise. */
export function parseWhole(value: string, name: string, min = 0): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ValidationError(`${name} must be a whole number >= ${min}, got '${value}'`, name);
  }
  return n;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, or "-" when absent. */
export function formatTime(value: Date | null | undefined): string {
  if (!value) return "-";
  return `${value.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

export function formatBytes(value: number | undefined): string {
  if (value === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return unit === 0 ? `${v} B` : `${v.toFixed(1)} ${units[unit]}`;
}

export function isoOrNull(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}
