// A session's trace export (contract 3.5): start (or reuse) the server-side export and poll until
// it is ready. No overall deadline: the caller's signal stops it.

import * as rest from "../../api/rest.js";
import { ResponseValidationError, TinkerError, ValidationError } from "../../client/errors.js";
import type { HttpClient } from "../../client/http.js";
import { abortableSleep, sleep } from "../../client/wait.js";
import type { TraceExportOptions } from "./types.js";

/** Pause between polls while the export is pending. */
export const DEFAULT_TRACE_POLL_MS = 5_000;

/** The server reported that a session trace export failed. */
export class TraceExportFailedError extends TinkerError {
  override name = "TraceExportFailedError";
  /** The session whose trace could not be exported. */
  readonly sessionId: string;
  /** The server's reason, when it gave one. */
  readonly detail: string | undefined;
  /** The message names the session and includes `detail`. */
  constructor(sessionId: string, detail: string | undefined) {
    super(`The trace export of session ${sessionId} failed${detail ? `: ${detail}` : ""}`);
    this.sessionId = sessionId;
    this.detail = detail;
  }
}

/** The poll interval of `options`, checked (before anything is sent). */
export function checkTracePollInterval(options: TraceExportOptions): number {
  const interval = options.pollIntervalMs ?? DEFAULT_TRACE_POLL_MS;
  if (!Number.isFinite(interval) || interval < 0) {
    throw new ValidationError("pollIntervalMs must be >= 0", "pollIntervalMs");
  }
  return interval;
}

/**
 * Polls the export of session `id` every `pollIntervalMs` (checked with checkTracePollInterval)
 * until ready; returns the trace's signed URL.
 */
export async function pollTraceExport(
  http: HttpClient,
  id: string,
  options: TraceExportOptions,
): Promise<string> {
  const { pollIntervalMs, onPending, ...call } = options;
  const interval = pollIntervalMs ?? DEFAULT_TRACE_POLL_MS;
  for (let polls = 1; ; polls++) {
    const answer = await rest.pollTraceExport(http, id, call);
    if (answer.status === "ready") {
      if (!answer.url) {
        throw new ResponseValidationError(`The trace export of session ${id} is ready but has no url`);
      }
      return answer.url;
    }
    if (answer.status === "failed") throw new TraceExportFailedError(id, answer.error);
    onPending?.(polls);
    await abortableSleep((ms, signal) => sleep(http.clock, ms, signal), interval, call.signal);
  }
}
