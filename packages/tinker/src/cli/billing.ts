// `tinker billing usage START END`: usage in hourly buckets (contract 3.7, 4.16). START and END are
// RFC 3339 times on a UTC hour (2026-01-01T00:00:00Z) or dates (2026-01-01, midnight UTC).

import type { Command } from "commander";
import type { BillingEventInfo } from "../api/rest-schemas.js";
import {
  type CommonOptions,
  formatTime,
  out,
  outputFormat,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { table } from "./render.js";

function asTime(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
}

function infoJson(e: BillingEventInfo): Record<string, unknown> {
  switch (e.type) {
    case "training":
    case "sampling_sample":
      return { type: e.type, token_count: e.tokenCount };
    case "sampling_prefill":
      return { type: e.type, cached: e.cached, token_count: e.tokenCount };
    case "checkpoint":
      return { type: e.type, count: e.count };
    case "storage":
      return { type: e.type, gigabyte_hours: e.gigabyteHours };
  }
}

function amount(e: BillingEventInfo): string {
  switch (e.type) {
    case "training":
    case "sampling_sample":
      return `${e.tokenCount} tokens`;
    case "sampling_prefill":
      return `${e.tokenCount} tokens${e.cached ? " (cached)" : ""}`;
    case "checkpoint":
      return `${e.count} checkpoint(s)`;
    case "storage":
      return `${e.gigabyteHours} GB-h`;
  }
}

export function register(program: Command): void {
  const group = program.command("billing").description("Billing");
  withCommonOptions(
    group
      .command("usage")
      .description("Usage between START (inclusive) and END (exclusive), at most 14 days, on UTC hours")
      .argument("<start>", "e.g. 2026-01-01 or 2026-01-01T00:00:00Z")
      .argument("<end>", "e.g. 2026-01-08T00:00:00Z"),
  ).action(async (start: string, end: string, opts: CommonOptions) => {
    const usage = await withClient(opts, (client) =>
      client.getBillingUsage({ startingOn: asTime(start), endingBefore: asTime(end) }),
    );
    if (outputFormat(opts) === "json") {
      const sessions: Record<string, { user_metadata: Record<string, unknown> | null }> = {};
      for (const [id, s] of Object.entries(usage.sessions))
        sessions[id] = { user_metadata: s.userMetadata ?? null };
      printJson({
        data: usage.data.map((e) => ({
          bucket_start: e.bucketStart.toISOString(),
          bucket_end: e.bucketEnd.toISOString(),
          base_model: e.baseModel ?? null,
          user_id: e.userId ?? null,
          user_name: e.userName ?? null,
          session_id: e.sessionId ?? null,
          project_id: e.projectId ?? null,
          event_info: infoJson(e.eventInfo),
        })),
        sessions,
      });
      return;
    }
    out(
      usage.data.length === 0
        ? "No usage in that range."
        : table(
            ["Hour (UTC)", "Session", "Base model", "Type", "Amount"],
            usage.data.map((e) => [
              formatTime(e.bucketStart),
              e.sessionId ?? "-",
              e.baseModel ?? "-",
              e.eventInfo.type,
              amount(e.eventInfo),
            ]),
          ),
    );
  });
}
