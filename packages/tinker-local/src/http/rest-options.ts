// Server options of the REST side (runs, checkpoints, archives, sessions, audit, billing), resolved
// once at start-up. Holds no credentials: admin keys are kept only as the user ids they map to.
import { ownerIdForKey } from "./auth.js";

/** How the archive endpoint answers a JSON request: a 302 redirect, or 200 with `{url, expires}`. */
export type ArchiveResponseMode = "redirect" | "json";

/** Lifetime of a signed checkpoint-archive URL, seconds (15 minutes). */
export const DEFAULT_ARCHIVE_URL_TTL_SECONDS = 15 * 60;
/** Lifetime of a signed trace-export URL, seconds (one hour). */
export const DEFAULT_TRACE_URL_TTL_SECONDS = 60 * 60;
/** `pending` answers a new trace export gives before it is `ready`, so clients' polling is exercised. */
export const DEFAULT_TRACE_EXPORT_PENDING_POLLS = 1;

/** Server options of the REST side: archives, trace exports, audit admins, checkpoint expiry. */
export interface RestServerOptions {
  /** Keys whose users may read `GET /api/v1/audit`. They are accepted as API keys too. */
  adminKeys?: readonly string[];
  /**
   * How the archive endpoint answers a request whose `Accept` is `application/json`: `redirect`
   * (the default) always answers 302 + `Location`; `json` answers 200 `{url, expires}`.
   */
  archiveResponse?: ArchiveResponseMode;
  /** Time an archive takes to "build": until then its endpoint answers 503. Default 0 (ready at once). */
  archiveBuildDelayMs?: number;
  /** Lifetime of signed archive URLs. Default 900 (15 min). */
  archiveUrlTtlSeconds?: number;
  /** `pending` answers of a new trace export before it is `ready`. Default 1. */
  traceExportPendingPolls?: number;
  /** How often expired checkpoints are deleted; 0 = only when read. Default 60000. */
  checkpointSweepIntervalMs?: number;
}

export interface ResolvedRestOptions {
  readonly adminUserIds: ReadonlySet<string>;
  readonly archiveResponse: ArchiveResponseMode;
  readonly archiveBuildDelayMs: number;
  readonly archiveUrlTtlSeconds: number;
  readonly traceExportPendingPolls: number;
  readonly checkpointSweepIntervalMs: number;
}

function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

export function resolveRestOptions(options: RestServerOptions): ResolvedRestOptions {
  const archiveResponse = options.archiveResponse ?? "redirect";
  if (archiveResponse !== "redirect" && archiveResponse !== "json") {
    throw new RangeError(`archiveResponse must be "redirect" or "json", got ${String(archiveResponse)}`);
  }
  const archiveUrlTtlSeconds = nonNegativeInteger(
    "archiveUrlTtlSeconds",
    options.archiveUrlTtlSeconds,
    DEFAULT_ARCHIVE_URL_TTL_SECONDS,
  );
  if (archiveUrlTtlSeconds === 0) throw new RangeError("archiveUrlTtlSeconds must be positive");
  return {
    adminUserIds: new Set((options.adminKeys ?? []).map(ownerIdForKey)),
    archiveResponse,
    archiveBuildDelayMs: nonNegativeInteger("archiveBuildDelayMs", options.archiveBuildDelayMs, 0),
    archiveUrlTtlSeconds,
    traceExportPendingPolls: nonNegativeInteger(
      "traceExportPendingPolls",
      options.traceExportPendingPolls,
      DEFAULT_TRACE_EXPORT_PENDING_POLLS,
    ),
    checkpointSweepIntervalMs: nonNegativeInteger(
      "checkpointSweepIntervalMs",
      options.checkpointSweepIntervalMs,
      60_000,
    ),
  };
}
