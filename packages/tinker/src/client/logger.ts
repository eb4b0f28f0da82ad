// Logging through an injectable logger. Whatever logger is used, the SDK wraps it so that messages
// below the configured level are dropped and every message and field is passed through `redact`
// first: no credential reaches a log sink, whoever wrote the sink.

import { redact } from "./redact.js";

/** Structured context of a log line (e.g. `{ url, attempt, error }`), redacted before it reaches a logger. */
export type LogFields = Record<string, unknown>;

/**
 * Where the SDK's log lines go (`ClientOptions.logger`). Any object with these four methods works,
 * e.g. `console` or a pino logger; the SDK filters by level and redacts credentials before calling it.
 */
export interface Logger {
  /** Detail for debugging (why a poll waits, a filled seq id gap, backpressure resubmits). */
  debug(message: string, fields?: LogFields): void;
  /** Progress worth knowing (a retry and its delay, an archive being built, a heartbeat recovered). */
  info(message: string, fields?: LogFields): void;
  /** Something may be wrong but the SDK carries on (e.g. heartbeats failing for minutes). */
  warn(message: string, fields?: LogFields): void;
  /** Something failed that the SDK could not handle (e.g. a listener that threw). */
  error(message: string, fields?: LogFields): void;
}

/** The least severe level that is logged; `off` logs nothing. Default `warn` (`TINKER_LOG`). */
export type LogLevel = "debug" | "info" | "warn" | "error" | "off";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };
type Method = Exclude<LogLevel, "off">;

/**
 * Reads a level as TINKER_LOG spells it (`debug|info|warning|error|off`, case-insensitive; `warn` and
 * `none` are accepted too). Returns undefined for anything else so the caller can fall back.
 */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  switch (value?.trim().toLowerCase()) {
    case "debug":
      return "debug";
    case "info":
      return "info";
    case "warn":
    case "warning":
      return "warn";
    case "error":
      return "error";
    case "off":
    case "none":
      return "off";
    default:
      return undefined;
  }
}

/** Makes a value safe and readable for a log line: errors become their name/message/status. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) {
    const status = (value as { status?: unknown }).status;
    return {
      name: value.name,
      message: redact(value.message),
      ...(typeof status === "number" ? { status } : {}),
    };
  }
  if (value === null || typeof value !== "object" || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
  return out;
}

/** Writes one line per message to stderr: `[tinker] WARN message {"field":...}`. */
export function createConsoleLogger(write: (line: string) => void = defaultWrite): Logger {
  const line = (level: string, message: string, fields?: LogFields) => {
    const suffix = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
    write(redact(`[tinker] ${level} ${message}${suffix}`));
  };
  return {
    debug: (m, f) => line("DEBUG", m, f),
    info: (m, f) => line("INFO", m, f),
    warn: (m, f) => line("WARN", m, f),
    error: (m, f) => line("ERROR", m, f),
  };
}

function defaultWrite(line: string): void {
  const stderr = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process?.stderr;
  if (stderr) stderr.write(`${line}\n`);
  else console.error(line);
}

/**
 * The logger the SDK actually calls: drops messages below `level`, redacts message and fields, and
 * never lets a throwing sink break the caller (a heartbeat must not die because a log sink did).
 */
export function wrapLogger(sink: Logger, level: LogLevel): Logger {
  const emit = (method: Method) => (message: string, fields?: LogFields) => {
    if (RANK[method] < RANK[level]) return;
    try {
      const safeFields = fields === undefined ? undefined : (scrub(fields) as LogFields);
      sink[method](redact(message), safeFields);
    } catch {
      // A broken log sink is not the SDK's failure to report.
    }
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
