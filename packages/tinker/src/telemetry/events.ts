// The telemetry events of contract 4.15, built the way the Python SDK builds them: session start
// and end, an exception (class, message, stack), and a generic named event. A user error (a 4xx
// other than 408, or a failure the server put in the "user" category) is reported as the generic
// `user_error` event at WARNING, not as an exception. Nothing here reads request payloads, and
// every string passes through the secret redaction before it is queued.

import { APIError, RequestFailedError } from "../client/errors.js";
import { redact } from "../client/redact.js";

/** Severity of a telemetry event (contract 4.15). */
export type TelemetrySeverity = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

interface EventBase {
  /** A fresh UUID. */
  event_id: string;
  /** 0, 1, 2, … in the order this session's events were made. */
  event_session_index: number;
  severity: TelemetrySeverity;
  /** UTC, ISO 8601. */
  timestamp: string;
}

/** One telemetry event as sent (contract 4.15). */
export type TelemetryEvent =
  | (EventBase & {
      /** The session was opened. */
      event: "SESSION_START";
    })
  | (EventBase & {
      /** The session was closed. */
      event: "SESSION_END";
      /** How long the session lasted, as Python's timedelta text (`H:MM:SS.ffffff`). */
      duration: string;
    })
  | (EventBase & {
      /** An exception that was not the user's fault ended a call. */
      event: "UNHANDLED_EXCEPTION";
      /** The error's class name, e.g. `InternalServerError`. */
      error_type: string;
      /** The error's message, redacted. */
      error_message: string;
      /** The stack trace, redacted, when there is one. */
      traceback?: string;
    })
  | (EventBase & {
      /** Anything else, named by `event_name` (e.g. `user_error`). */
      event: "GENERIC_EVENT";
      /** What happened, e.g. `user_error`. */
      event_name: string;
      /** The event's details (redacted strings). */
      event_data: Record<string, unknown>;
    });

/** The error (or a cause of it) that makes a failure the user's, if there is one. */
export function userErrorOf(error: unknown, seen = new Set<unknown>()): unknown {
  if (error === null || typeof error !== "object" || seen.has(error)) return undefined;
  seen.add(error);
  if (error instanceof RequestFailedError && error.category === "user") return error;
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500 && status !== 408) return error;
  return userErrorOf((error as { cause?: unknown }).cause, seen);
}

/**
 * Python's timedelta text (`H:MM:SS.ffffff`), which is what the official SDK sends as a session's
 * duration (contract 4.15 notes the mismatch with its documented ISO 8601 form).
 */
export function pythonDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms * 1000)); // microseconds
  const micros = total % 1_000_000;
  const seconds = Math.floor(total / 1_000_000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const frac = micros === 0 ? "" : `.${String(micros).padStart(6, "0")}`;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}${frac}`;
}

/** Makes events for one session: numbers them and stamps them. */
export class EventFactory {
  #index = 0;
  constructor(private readonly now: () => number) {}

  #base(severity: TelemetrySeverity, at = this.now()): EventBase {
    return {
      event_id: crypto.randomUUID(),
      event_session_index: this.#index++,
      severity,
      timestamp: new Date(at).toISOString(),
    };
  }

  sessionStart(at: number): TelemetryEvent {
    return { event: "SESSION_START", ...this.#base("INFO", at) };
  }

  sessionEnd(startedAt: number): TelemetryEvent {
    const at = this.now();
    return { event: "SESSION_END", ...this.#base("INFO", at), duration: pythonDuration(at - startedAt) };
  }

  generic(name: string, data: Record<string, unknown>, severity: TelemetrySeverity): TelemetryEvent {
    return { event: "GENERIC_EVENT", ...this.#base(severity), event_name: name, event_data: data };
  }

  /** `user_error` (WARNING) for a user's failure, else UNHANDLED_EXCEPTION at `severity`. */
  exception(error: unknown, severity: TelemetrySeverity): TelemetryEvent {
    const type = errorType(error);
    const message = redact(errorMessage(error));
    const user = userErrorOf(error);
    if (user !== undefined) {
      const data: Record<string, unknown> = { error_type: type };
      if (message) data.message = message;
      const status = (user as { status?: unknown }).status;
      if (typeof status === "number") data.status_code = status;
      // The server's error body (what it said, not what was sent), as the Python SDK reports it.
      if (user instanceof APIError && user.body !== undefined && user.body !== "") {
        data.body =
          typeof user.body === "string" ? redact(user.body) : JSON.parse(redact(JSON.stringify(user.body)));
      }
      return this.generic("user_error", data, "WARNING");
    }
    const stack = error instanceof Error && typeof error.stack === "string" ? redact(error.stack) : undefined;
    return {
      event: "UNHANDLED_EXCEPTION",
      ...this.#base(severity),
      error_type: type,
      error_message: message,
      ...(stack !== undefined ? { traceback: stack } : {}),
    };
  }
}

function errorType(error: unknown): string {
  if (error instanceof Error) return error.name || error.constructor.name;
  return typeof error;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return "";
  }
}
