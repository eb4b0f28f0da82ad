// `tinker billing usage START END [--csv PATH] [--sessions-csv PATH]`: usage in hourly buckets
// (contract 3.7, 4.16). START and END are RFC 3339 times on a UTC hour (2026-01-01T00:00:00Z) or
// dates (2026-01-01, midnight UTC). --csv writes the rows (event_info flattened into them) and
// --sessions-csv the per-session table, as the Python CLI does; `-` is stdout.

import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { BillingEventInfo, BillingUsageEvent } from "../api/rest-schemas.js";
import {
  type CommonOptions,
  formatTime,
  note,
  out,
  outputFormat,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { toCsv } from "./csv.js";
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

function rowJson(e: BillingUsageEvent) {
  return {
    bucket_start: e.bucketStart.toISOString(),
    bucket_end: e.bucketEnd.toISOString(),
    base_model: e.baseModel ?? null,
    user_id: e.userId ?? null,
    user_name: e.userName ?? null,
    session_id: e.sessionId ?? null,
    project_id: e.projectId ?? null,
  };
}

/** The envelope's columns, so an empty window still gets a header row. */
const ROW_COLUMNS = [
  "bucket_start",
  "bucket_end",
  "base_model",
  "user_id",
  "user_name",
  "session_id",
  "project_id",
];

function writeCsv(path: string, rows: Record<string, unknown>[], emptyHeader: string[]): void {
  const text = rows.length > 0 ? toCsv(rows) : `${emptyHeader.join(",")}\r\n`;
  if (path === "-") {
    process.stdout.write(text);
    return;
  }
  writeFileSync(path, text);
  note(`Wrote ${rows.length} row(s) to ${path}`);
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
      .argument("<end>", "e.g. 2026-01-08T00:00:00Z")
      .option("--csv <path>", "write the usage rows as CSV to PATH instead of printing them ('-': stdout)")
      .option(
        "--sessions-csv <path>",
        "also write the per-session table (session_id, user_metadata) as CSV to PATH ('-': stdout)",
      ),
  ).action(
    async (start: string, end: string, opts: CommonOptions & { csv?: string; sessionsCsv?: string }) => {
      const usage = await withClient(opts, (client) =>
        client.getBillingUsage({ startingOn: asTime(start), endingBefore: asTime(end) }),
      );
      const rows = usage.data.map((e) => ({ ...rowJson(e), ...infoJson(e.eventInfo) }));
      const sessionRows = Object.entries(usage.sessions).map(([id, s]) => ({
        session_id: id,
        user_metadata: s.userMetadata == null ? null : JSON.stringify(s.userMetadata),
      }));
      if (opts.sessionsCsv !== undefined)
        writeCsv(opts.sessionsCsv, sessionRows, ["session_id", "user_metadata"]);
      if (opts.csv !== undefined) writeCsv(opts.csv, rows, ROW_COLUMNS);
      if (opts.csv !== undefined || opts.sessionsCsv !== undefined) return;
      if (outputFormat(opts) === "json") {
        const sessions: Record<string, { user_metadata: Record<string, unknown> | null }> = {};
        for (const [id, s] of Object.entries(usage.sessions))
          sessions[id] = { user_metadata: s.userMetadata ?? null };
        printJson({
          data: usage.data.map((e) => ({ ...rowJson(e), event_info: infoJson(e.eventInfo) })),
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
    },
  );
}
