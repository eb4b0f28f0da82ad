// `GET /api/v1/billing/usage/events` (contract 3.7, 4.16): the caller's usage in hourly buckets.
// `event_info` carries exactly the contract's fields per type, since clients forbid extra ones.

import { badRequest } from "../errors.js";
import type { Store } from "../store/index.js";
import type { UsageRecord } from "../store/usage.js";
import { isoTime } from "./views.js";

const HOUR_MS = 3600_000;
export const MAX_BILLING_RANGE_MS = 14 * 24 * HOUR_MS;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export type EventInfo =
  | { type: "training"; token_count: number }
  | { type: "sampling_prefill"; cached: boolean; token_count: number }
  | { type: "sampling_sample"; token_count: number }
  | { type: "checkpoint"; count: number };

export interface BillingUsageEvent {
  bucket_start: string;
  bucket_end: string;
  base_model: string;
  user_id: string;
  session_id: string;
  project_id?: string;
  event_info: EventInfo;
}

function parseTime(name: string, text: string | undefined): number {
  if (text === undefined || text === "") {
    throw badRequest(
      `Query parameter '${name}' is required (RFC 3339 UTC time on the hour, e.g. 2026-01-01T00:00:00Z)`,
    );
  }
  const ms = RFC3339.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw badRequest(
      `Query parameter '${name}' must be an RFC 3339 time such as 2026-01-01T00:00:00Z, got '${text}'`,
    );
  }
  if (ms % HOUR_MS !== 0)
    throw badRequest(`Query parameter '${name}' must be on a UTC hour boundary, got '${text}'`);
  return ms;
}

/** Validates the range: hour-aligned, start before end, at most 14 days, not starting in the future. */
export function billingRange(startText: string | undefined, endText: string | undefined, now: number) {
  const start = parseTime("starting_on", startText);
  const end = parseTime("ending_before", endText);
  if (end <= start) throw badRequest("'ending_before' must be later than 'starting_on'");
  if (end - start > MAX_BILLING_RANGE_MS) {
    throw badRequest("'starting_on' and 'ending_before' must be at most 14 days apart");
  }
  if (start > now) throw badRequest(`'starting_on' must not be in the future (now is ${isoTime(now)})`);
  return { start, end };
}

function eventInfo(type: UsageRecord["type"], cached: boolean, amount: number): EventInfo {
  switch (type) {
    case "training":
      return { type, token_count: amount };
    case "sampling_prefill":
      return { type, cached, token_count: amount };
    case "sampling_sample":
      return { type, token_count: amount };
    case "checkpoint":
      return { type, count: amount };
  }
}

export function billingUsage(store: Store, owner: string, start: number, end: number) {
  const buckets = new Map<string, { record: UsageRecord; bucket: number; amount: number }>();
  for (const record of store.usage.listByOwner(owner, start, end)) {
    const bucket = Math.floor(record.at / HOUR_MS) * HOUR_MS;
    const key = [bucket, record.sessionId, record.baseModel, record.type, record.cached].join("\n");
    const amount = (record.type === "checkpoint" ? record.count : record.tokenCount) ?? 0;
    const existing = buckets.get(key);
    if (existing === undefined) buckets.set(key, { record, bucket, amount });
    else existing.amount += amount;
  }
  const data: BillingUsageEvent[] = [];
  const sessions: Record<string, { user_metadata?: Record<string, unknown> }> = {};
  for (const { record, bucket, amount } of buckets.values()) {
    const session = store.sessions.get(record.sessionId);
    const event: BillingUsageEvent = {
      bucket_start: isoTime(bucket),
      bucket_end: isoTime(bucket + HOUR_MS),
      base_model: record.baseModel,
      user_id: owner,
      session_id: record.sessionId,
      event_info: eventInfo(record.type, record.cached, amount),
    };
    if (session?.projectId) event.project_id = session.projectId;
    data.push(event);
    if (!(record.sessionId in sessions)) {
      sessions[record.sessionId] = session?.userMetadata ? { user_metadata: session.userMetadata } : {};
    }
  }
  return { data, sessions };
}
