// A SamplingClient as plain data, so it can cross to a worker_thread (postMessage) or another
// process (JSON) and be rebuilt there on the same session and sampler, as the Python SDK's
// pickling does. The descriptor holds no credential: the receiving side authenticates with its own
// TINKER_API_KEY (worker threads inherit the environment) or the options it is given.

import { ValidationError } from "../../client/errors.js";
import { type ClientOptions, resolveOptions } from "../../client/options.js";
import type { WireFormat } from "../../futures/poll.js";
import { connect } from "../../session/connection.js";
import { ClientContext, SessionCounters } from "../context.js";
import { type RetryConfig, resolveRetryConfig } from "./retry-config.js";

export const SAMPLING_DESCRIPTOR_KIND = "tinker-ts/sampling-client";

/**
 * What `SamplingClient.toDescriptor()` returns and `SamplingClient.fromDescriptor()` takes: JSON-
 * and structured-clone-safe, with no API key or token in it.
 */
export interface SamplingClientDescriptor {
  /** Always `"tinker-ts/sampling-client"`. */
  kind: typeof SAMPLING_DESCRIPTOR_KIND;
  /** Format version, 1. */
  version: 1;
  /** The server, without a trailing slash. */
  baseUrl: string;
  /** The session the sampler belongs to (the rebuilt client creates none). */
  sessionId: string;
  /** The sampler to sample from. */
  samplingSessionId: string;
  /** The base model, when known. */
  baseModel?: string;
  /** The sampling client's wire format. */
  wireFormat: WireFormat;
  /** Resubmits allowed per call; null stands for no limit (JSON has no Infinity). */
  maxResubmits: number | null;
  /** The stuck-detection timeout (retryConfig.progressTimeout), in ms. */
  stuckTimeoutMs: number;
  /**
   * The rest of the client's retryConfig; absent in descriptors of older versions. A custom
   * `isRetryable` is a function and does not travel: the rebuilt client uses the default rule.
   */
  retryConfig?: Omit<RetryConfig, "isRetryable" | "progressTimeout">;
}

/** Checks a descriptor that may have come from anywhere; a ValidationError names the bad field. */
export function checkDescriptor(value: unknown): SamplingClientDescriptor {
  const d = value as Partial<SamplingClientDescriptor> | null;
  const bad = (field: string, want: string) =>
    new ValidationError(`not a SamplingClient descriptor: ${field} must be ${want}`, `descriptor.${field}`);
  if (d === null || typeof d !== "object" || d.kind !== SAMPLING_DESCRIPTOR_KIND) {
    throw bad("kind", `"${SAMPLING_DESCRIPTOR_KIND}" (make one with samplingClient.toDescriptor())`);
  }
  if (d.version !== 1) throw bad("version", "1");
  for (const field of ["baseUrl", "sessionId", "samplingSessionId"] as const) {
    if (typeof d[field] !== "string" || d[field] === "") throw bad(field, "a non-empty string");
  }
  if (d.baseModel !== undefined && typeof d.baseModel !== "string") throw bad("baseModel", "a string");
  if (d.wireFormat !== "proto" && d.wireFormat !== "json") throw bad("wireFormat", '"proto" or "json"');
  if (d.maxResubmits !== null && !(typeof d.maxResubmits === "number" && d.maxResubmits >= 0)) {
    throw bad("maxResubmits", "a number >= 0 or null");
  }
  if (!(typeof d.stuckTimeoutMs === "number" && d.stuckTimeoutMs > 0))
    throw bad("stuckTimeoutMs", "a number > 0");
  if (d.retryConfig !== undefined) {
    if (typeof d.retryConfig !== "object" || d.retryConfig === null) throw bad("retryConfig", "an object");
    if ("isRetryable" in d.retryConfig || "progressTimeout" in d.retryConfig)
      throw bad("retryConfig", "plain settings without isRetryable or progressTimeout");
    resolveRetryConfig(d.retryConfig);
  }
  return d as SamplingClientDescriptor;
}

/**
 * The context a rebuilt SamplingClient runs in: its own session-less connection to the server
 * (client/config, the JWT exchange when the server wants it, dynamic config), bound to the
 * descriptor's session id. Unlike Python's shadow holders it does not reuse the parent's configs
 * and token (they would have to travel with the descriptor, the token being a credential), and it
 * sends no heartbeat: the session stays alive while the process that opened it beats.
 */
export async function openDescriptorContext(
  descriptor: SamplingClientDescriptor,
  options: ClientOptions,
): Promise<{ ctx: ClientContext; close: () => void }> {
  const resolved = resolveOptions({ baseUrl: descriptor.baseUrl, ...options });
  const lifetime = new AbortController();
  const conn = await connect(resolved, { signal: lifetime.signal });
  const ctx = new ClientContext({
    http: conn.http,
    config: conn.config,
    sessionId: descriptor.sessionId,
    counters: new SessionCounters(),
    signal: lifetime.signal,
  });
  return {
    ctx,
    close: () => {
      lifetime.abort();
      conn.close();
    },
  };
}
