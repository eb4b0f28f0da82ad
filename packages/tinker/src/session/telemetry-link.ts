// Starts the telemetry of a session or session-less connection on its HTTP client: the one place
// that knows both the telemetry queue and the endpoint it sends to.

import { sendTelemetry } from "../api/telemetry.js";
import type { HttpClient } from "../client/http.js";
import type { ResolvedOptions } from "../client/options.js";
import { sleep } from "../client/wait.js";
import { Telemetry } from "../telemetry/telemetry.js";

/** A running Telemetry for `sessionId` (undefined: session-less, sent as `sessionless-<uuid>`). */
export function openTelemetry(
  http: HttpClient,
  sessionId: string | undefined,
  options: Pick<ResolvedOptions, "clock" | "logger">,
): Telemetry {
  return new Telemetry({
    sessionId,
    send: (body) => sendTelemetry(http, body),
    clock: options.clock,
    logger: options.logger,
    sleep: (ms, signal) => sleep(options.clock, ms, signal, { background: true }),
  });
}
