// The telemetry endpoint (contract 3.8): one POST of a batch of events. Retries are the telemetry
// queue's business (it resends a batch after 1 s), so the HTTP layer makes one attempt.

import * as v from "valibot";
import type { HttpClient } from "../client/http.js";

export const TELEMETRY_PATH = "/api/v1/telemetry";

/** The contract's TelemetrySendRequest. */
export interface TelemetrySendRequest {
  events: unknown[];
  platform: string;
  sdk_version: string;
  session_id: string;
  process_uuid: string;
}

const accepted = v.object({ status: v.literal("accepted") });

export async function sendTelemetry(
  http: HttpClient,
  body: TelemetrySendRequest,
  options: { signal?: AbortSignal; timeout?: number } = {},
): Promise<void> {
  await http.request({
    method: "POST",
    path: TELEMETRY_PATH,
    body,
    schema: accepted,
    timeout: options.timeout ?? 5_000,
    maxRetries: 0,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
