// ClientOptions and their resolution: explicit arguments first, then the environment (contract 1.1),
// then defaults. Everything a person can get wrong here is reported as a ValidationError before any
// request is sent, and no message ever prints the key itself.

import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import { ValidationError } from "./errors.js";
import type { Logger, LogLevel } from "./logger.js";
import { createConsoleLogger, parseLogLevel, wrapLogger } from "./logger.js";
import { registerSecret } from "./redact.js";
import type { RetryEvent } from "./retry.js";
import { isNodeRuntime, type Transport } from "./transport.js";

export const DEFAULT_BASE_URL = "https://tinker.thinkingmachines.dev/services/tinker-prod";
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 10;

/** How the session heartbeat runs (`ClientOptions.heartbeat`); the defaults suit the hosted service. */
export interface HeartbeatOptions {
  /** Pause between the end of one beat and the start of the next. Default 10 000 ms. */
  intervalMs?: number;
  /** Deadline of one beat (no retries). Default 10 000 ms. */
  timeoutMs?: number;
  /** Warn once this long has passed without a successful beat. Default 120 000 ms. */
  warnAfterMs?: number;
  /** While still failing, repeat the warning at most this often. Default 30 000 ms. */
  warnRepeatMs?: number;
}

/**
 * Options of a ServiceClient (and a standalone RestClient). Every field is optional: most fall back
 * to a `TINKER_*` environment variable, then to a default. Unusable values throw `ValidationError`
 * from the constructor, before anything is sent.
 */
export interface ClientOptions {
  /** Tinker API key (`tml-…`) or a JWT (`eyJ…`). Default: TINKER_API_KEY. */
  apiKey?: string;
  /** Default: TINKER_BASE_URL, else the hosted service. A path prefix is kept. */
  baseUrl?: string;
  /** Session tags. Default: TINKER_TAGS split on commas. */
  tags?: string[];
  /** Project for new sessions. Default: TINKER_PROJECT_ID (empty means none). */
  projectId?: string;
  /** Free-form metadata stored with the session. */
  userMetadata?: Record<string, unknown>;
  /** Default: TINKER_LOG, else "warn". Applies to the default and to an injected logger. */
  logLevel?: LogLevel;
  /** Where log lines go. Default: one line per message on stderr. */
  logger?: Logger;
  /** Per-attempt request timeout in ms. Default 60 000. */
  timeout?: number;
  /** HTTP-layer retries per call. Default 10. */
  maxRetries?: number;
  /**
   * Called for every HTTP retry before its backoff sleep starts, with the URL, the attempts left
   * and the error (a command line prints "retrying" from it). Exceptions it throws are ignored.
   */
  onRetry?: (event: RetryEvent) => void;
  /** Extra headers sent on every request (X-API-Key is always set by the SDK). */
  defaultHeaders?: Record<string, string>;
  /**
   * Send every request through this fetch instead of the default transport. On Node the default is
   * node:http keep-alive pools (faster than Node's fetch); on Bun, Deno and in browsers it is the
   * runtime's own fetch, so this is only needed there for a custom one (a proxy, a test double).
   */
  fetch?: typeof fetch;
  /** Send every request through this transport; wins over `fetch`. For custom stacks and benchmarks. */
  transport?: Transport;
  /** Shell command whose stdout is the credential. Default: TINKER_CREDENTIAL_CMD. */
  credentialCmd?: string;
  /** Heartbeat interval, timeout and warning thresholds. */
  heartbeat?: HeartbeatOptions;
  /**
   * Send the Python SDK's telemetry events (session start/end, failures; no payloads, no keys) to
   * the server. Default: on unless TINKER_TELEMETRY is set to something other than 1/true/yes/on.
   */
  telemetry?: boolean;
  /** Time source and timers; for tests. */
  clock?: Clock;
}

export interface ResolvedHeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  warnAfterMs: number;
  warnRepeatMs: number;
}

export interface ResolvedOptions {
  apiKey: string | undefined;
  credentialCmd: string | undefined;
  /** Without a trailing slash. */
  baseUrl: string;
  tags: string[];
  projectId: string | undefined;
  userMetadata: Record<string, unknown>;
  logLevel: LogLevel;
  /** Already level-filtered and redacting. */
  logger: Logger;
  timeoutMs: number;
  maxRetries: number;
  onRetry: ((event: RetryEvent) => void) | undefined;
  defaultHeaders: Record<string, string>;
  /** The user's fetch; undefined means the default transport (see ClientOptions.fetch). */
  fetch: typeof fetch | undefined;
  transport: Transport | undefined;
  heartbeat: ResolvedHeartbeatOptions;
  telemetry: boolean;
  clock: Clock;
}

export type Env = Record<string, string | undefined>;

function processEnv(): Env {
  return (globalThis as { process?: { env?: Env } }).process?.env ?? {};
}

/** An environment value, with an empty string counting as unset. */
function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

/**
 * Splits a TINKER_TAGS value. Unlike the official client (which loses the order through a set and
 * turns "" into [""]), this keeps the first-seen order, trims each tag, and drops empty tags and
 * duplicates: "b, a,,b" gives ["b", "a"].
 */
export function parseTags(value: string | undefined): string[] {
  if (value === undefined) return [];
  return dedupe(value.split(",").map((t) => t.trim()));
}

function dedupe(tags: string[]): string[] {
  const out: string[] = [];
  for (const t of tags) if (t !== "" && !out.includes(t)) out.push(t);
  return out;
}

/** Throws a ValidationError unless the credential looks like a Tinker key or a JWT. */
export function checkCredentialFormat(credential: string, source: string): void {
  if (credential.startsWith("tml-") || credential.startsWith("eyJ")) return;
  throw new ValidationError(
    `The API key from ${source} is not valid: a Tinker API key starts with 'tml-' (or 'eyJ' for a JWT). ` +
      "Check that the whole key was copied.",
    "apiKey",
  );
}

function normalizeBaseUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`The base URL from ${source} is not a valid URL: ${raw}`, "baseUrl");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ValidationError(`The base URL from ${source} must start with http:// or https://`, "baseUrl");
  }
  return raw.replace(/\/+$/, "");
}

function nonNegativeInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new ValidationError(`${name} must be a whole number >= 0, got ${value}`, name);
  }
  return value;
}

function positiveMs(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new ValidationError(`${name} must be a positive number of milliseconds, got ${value}`, name);
  }
  return value;
}

/**
 * Whether TINKER_TELEMETRY leaves telemetry on: unset, `1`, `true`, `yes` or `on` (any case) is
 * on; any other value (e.g. `0`) is off (contract 1.2).
 */
function telemetryEnabledByEnv(value: string | undefined): boolean {
  return ["1", "true", "yes", "on"].includes((value ?? "1").toLowerCase());
}

/** Resolves options against the environment. Throws ValidationError on anything unusable. */
export function resolveOptions(options: ClientOptions = {}, env: Env = processEnv()): ResolvedOptions {
  const apiKey =
    options.apiKey !== undefined && options.apiKey !== "" ? options.apiKey : envValue(env, "TINKER_API_KEY");
  const keySource = options.apiKey ? "the apiKey option" : "TINKER_API_KEY";
  const credentialCmd = options.credentialCmd || envValue(env, "TINKER_CREDENTIAL_CMD");
  if (apiKey === undefined && credentialCmd === undefined) {
    throw new ValidationError(
      "No Tinker API key: set the TINKER_API_KEY environment variable, or pass { apiKey } to ServiceClient " +
        "(or set TINKER_CREDENTIAL_CMD to a command that prints one).",
      "apiKey",
    );
  }
  if (apiKey !== undefined) {
    registerSecret(apiKey);
    checkCredentialFormat(apiKey, keySource);
  }

  const baseUrl = options.baseUrl
    ? normalizeBaseUrl(options.baseUrl, "the baseUrl option")
    : normalizeBaseUrl(envValue(env, "TINKER_BASE_URL") ?? DEFAULT_BASE_URL, "TINKER_BASE_URL");

  const envLevel = env.TINKER_LOG;
  const logLevel = options.logLevel ?? parseLogLevel(envLevel) ?? "warn";
  if (options.logLevel !== undefined && parseLogLevel(options.logLevel) !== options.logLevel) {
    throw new ValidationError(
      `logLevel must be one of debug, info, warn, error, off; got ${String(options.logLevel)}`,
      "logLevel",
    );
  }
  const logger = wrapLogger(options.logger ?? createConsoleLogger(), logLevel);
  if (options.logLevel === undefined && envLevel && parseLogLevel(envLevel) === undefined) {
    logger.warn(`Ignoring TINKER_LOG=${envLevel}: expected debug, info, warning, error or off.`);
  }

  const defaultHeaders: Record<string, string> = {};
  const cfId = envValue(env, "CLOUDFLARE_ACCESS_CLIENT_ID");
  const cfSecret = envValue(env, "CLOUDFLARE_ACCESS_CLIENT_SECRET");
  if (cfId) defaultHeaders["CF-Access-Client-Id"] = cfId;
  if (cfSecret) {
    registerSecret(cfSecret);
    defaultHeaders["CF-Access-Client-Secret"] = cfSecret;
  }
  Object.assign(defaultHeaders, options.defaultHeaders);

  // On Node the default transport needs no fetch; elsewhere there must be one to fall back on.
  const hasFetch = typeof (globalThis.fetch as typeof fetch | undefined) === "function";
  if (!options.fetch && !options.transport && !isNodeRuntime() && !hasFetch)
    throw new ValidationError("No fetch implementation: pass { fetch } to ServiceClient", "fetch");

  const hb = options.heartbeat ?? {};
  return {
    apiKey,
    credentialCmd,
    baseUrl,
    tags: options.tags ? dedupe(options.tags) : parseTags(envValue(env, "TINKER_TAGS")),
    projectId: options.projectId || envValue(env, "TINKER_PROJECT_ID"),
    userMetadata: options.userMetadata ?? {},
    logLevel,
    logger,
    timeoutMs: positiveMs(options.timeout, "timeout", DEFAULT_TIMEOUT_MS),
    maxRetries: nonNegativeInt(options.maxRetries, "maxRetries", DEFAULT_MAX_RETRIES),
    onRetry: options.onRetry,
    defaultHeaders,
    fetch: options.fetch,
    transport: options.transport,
    heartbeat: {
      intervalMs: positiveMs(hb.intervalMs, "heartbeat.intervalMs", 10_000),
      timeoutMs: positiveMs(hb.timeoutMs, "heartbeat.timeoutMs", 10_000),
      warnAfterMs: positiveMs(hb.warnAfterMs, "heartbeat.warnAfterMs", 120_000),
      warnRepeatMs: positiveMs(hb.warnRepeatMs, "heartbeat.warnRepeatMs", 30_000),
    },
    telemetry: options.telemetry ?? telemetryEnabledByEnv(env.TINKER_TELEMETRY),
    clock: options.clock ?? systemClock,
  };
}
