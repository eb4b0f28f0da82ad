// Pure checks of RestClient input (contract 3.3-3.7): access scopes, checkpoint paths, TTLs,
// project ids, audit days and billing ranges. Each throws a ValidationError naming the field
// before anything is sent. No I/O.

import type { AccessScope } from "../../api/rest-schemas.js";
import { APIError, ConflictError, ValidationError } from "../../client/errors.js";
import { parseTinkerPath, type TinkerPath } from "../../paths/tinker-path.js";
import type { BillingRange } from "./types.js";

const HOUR_MS = 3_600_000;
const MAX_BILLING_RANGE_MS = 14 * 24 * HOUR_MS;

/** `scope` or the default "owned"; anything else is refused. */
export function checkScope(scope: AccessScope | undefined): AccessScope {
  const value = scope ?? "owned";
  if (value !== "owned" && value !== "accessible") {
    throw new ValidationError(
      `accessScope must be "owned" or "accessible", got ${JSON.stringify(value)}`,
      "accessScope",
    );
  }
  return value;
}

/** A checkpoint's `tinker://` path, parsed. */
export function checkpointRef(path: string): TinkerPath {
  return parseTinkerPath(path, "path");
}

/** A project id: a non-empty string (optional when `required` is false). */
export function checkProjectId(projectId: string | undefined, required: boolean): void {
  if (!required && projectId === undefined) return;
  if (typeof projectId !== "string" || projectId === "") {
    throw new ValidationError(
      required ? "projectId must be a non-empty string" : "projectId must be a non-empty string when given",
      "projectId",
    );
  }
}

/** A checkpoint TTL: whole seconds > 0, or null to remove the expiry. */
export function checkCheckpointTtl(ttlSeconds: number | null): void {
  if (
    ttlSeconds !== null &&
    (typeof ttlSeconds !== "number" || !Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0)
  ) {
    throw new ValidationError(
      `ttlSeconds must be a whole number of seconds > 0, or null to remove the expiry; got ${String(ttlSeconds)}`,
      "ttlSeconds",
    );
  }
}

/** A 409 from publish/unpublish, re-worded to say what it means ("already public"). */
export function conflictWithMeaning(error: unknown, message: string): unknown {
  if (!(error instanceof ConflictError)) return error;
  const detail = APIError.detailOf(error.body);
  return new ConflictError(error.status, error.body, error.headers, {
    method: error.method,
    path: error.path,
    message: detail && !/already/i.test(detail) ? `${message} (server: ${detail})` : message,
  });
}

function toBillingTime(value: Date | string, field: string): number {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === "string" &&
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)
        ? Date.parse(value)
        : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(
      `${field} must be a Date or an RFC 3339 time with a zone, such as 2026-01-01T00:00:00Z; got ${JSON.stringify(
        value instanceof Date ? "Invalid Date" : value,
      )}`,
      field,
    );
  }
  if (ms % HOUR_MS !== 0) {
    throw new ValidationError(
      `${field} must be on a UTC hour (minutes and seconds zero), got ${new Date(ms).toISOString()}`,
      field,
    );
  }
  return ms;
}

/** Epoch milliseconds as RFC 3339 text, without zero milliseconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/**
 * A billing range as epoch milliseconds: both ends on a UTC hour, the end after the start, at most
 * 14 days apart. (Whether the start is in the future needs the client's clock: the caller checks.)
 */
export function checkBillingRange(range: BillingRange): { start: number; end: number } {
  const start = toBillingTime(range?.startingOn, "startingOn");
  const end = toBillingTime(range?.endingBefore, "endingBefore");
  if (end <= start) throw new ValidationError("endingBefore must be later than startingOn", "endingBefore");
  if (end - start > MAX_BILLING_RANGE_MS) {
    throw new ValidationError(
      `startingOn and endingBefore must be at most 14 days apart; they are ${((end - start) / (24 * HOUR_MS)).toFixed(1)} days apart`,
      "endingBefore",
    );
  }
  return { start, end };
}

/** An audit-log day as YYYY-MM-DD (a Date is taken in UTC); undefined means today. */
export function checkDay(day: string | Date | undefined): string | undefined {
  if (day === undefined) return undefined;
  if (day instanceof Date) {
    if (Number.isNaN(day.getTime())) throw new ValidationError("day is an invalid Date", "day");
    return day.toISOString().slice(0, 10);
  }
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  const ok = !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day;
  if (!ok) throw new ValidationError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day)}`, "day");
  return day;
}
