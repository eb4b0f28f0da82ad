// `tinker probe`: checks that a server speaks the heartbeat of the contract. It opens a session, then
// sends one beat to /api/v1/session_heartbeat (must be 200) and one to /api/v1/heartbeat (a path the
// API does not have: must be 404), each once, without retries, and prints both statuses.

import type { Command } from "commander";
import { PATHS, rawHeartbeat } from "../api/service.js";
import { APIError } from "../client/errors.js";
import type { HttpClient } from "../client/http.js";
import type { ClientOptions } from "../client/options.js";
import { redact } from "../client/redact.js";
import { ServiceClient } from "../clients/service-client.js";
import { type CommonOptions, clientOptions, withCommonOptions } from "./common.js";

export interface ProbeResult {
  sessionId: string;
  sessionHeartbeat: number | string;
  heartbeat: number | string;
  ok: boolean;
}

async function statusOf(http: HttpClient, path: Parameters<typeof rawHeartbeat>[1], sessionId: string) {
  try {
    const res = await rawHeartbeat(http, path, sessionId);
    await res.data.body?.cancel();
    return res.status;
  } catch (error) {
    if (error instanceof APIError) return error.status;
    return `error (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Runs the probe; `options` are ServiceClient options (the key comes from the environment if absent). */
export async function runProbe(options: ClientOptions = {}): Promise<ProbeResult> {
  // A probe should answer quickly: a few retries, not the SDK's ten.
  const client = new ServiceClient({ logLevel: "error", maxRetries: 2, ...options });
  try {
    const session = await client.session();
    const sessionHeartbeat = await statusOf(session.http, PATHS.sessionHeartbeat, session.sessionId);
    const heartbeat = await statusOf(session.http, PATHS.legacyHeartbeat, session.sessionId);
    return {
      sessionId: session.sessionId,
      sessionHeartbeat,
      heartbeat,
      ok: sessionHeartbeat === 200 && heartbeat === 404,
    };
  } finally {
    await client.close();
  }
}

export function register(program: Command): void {
  withCommonOptions(
    program
      .command("probe")
      .description("Open a session and check the server's heartbeat endpoints (expects 200 and 404)"),
  ).action(async (opts: CommonOptions) => {
    // A probe should answer quickly: a few retries, not the SDK's ten, unless --max-retries says.
    const result = await runProbe({ maxRetries: 2, ...clientOptions(opts) });
    process.stdout.write(
      redact(`session_heartbeat: ${result.sessionHeartbeat}\nheartbeat: ${result.heartbeat}\n`),
    );
    process.exitCode = result.ok ? 0 : 1;
  });
}
