// Option and parameter types of RestClient (types only; public through src/index.ts).

import type { AccessScope } from "../../api/rest-schemas.js";
import type { CallOptions } from "../../api/service.js";
import type { ArchiveDownloadOptions } from "../../download/download.js";

/** Per-call options of every RestClient method: an AbortSignal, a timeout, extra headers. */
export type RestCallOptions = CallOptions;

/** Paging and filters of `RestClient.listTrainingRuns`. */
export interface ListTrainingRunsParams {
  /** Page size. Default 20 (contract). */
  limit?: number;
  /** Runs to skip before the first page. Default 0. */
  offset?: number;
  /** Default "owned". */
  accessScope?: AccessScope;
  /** Only runs whose session is in this project. */
  projectId?: string;
}

/** Paging of `RestClient.listUserCheckpoints`. */
export interface ListUserCheckpointsParams {
  /** Page size. Default 100 (contract). */
  limit?: number;
  /** Checkpoints to skip before the first page. Default 0. */
  offset?: number;
}

/** Paging and scope of `RestClient.listSessions`. */
export interface ListSessionsParams {
  /** Page size. Default 20 (contract). */
  limit?: number;
  /** Sessions to skip before the first page. Default 0. */
  offset?: number;
  /** Default "owned". */
  accessScope?: AccessScope;
}

/** What `onWait` is told while a checkpoint archive is still being built (HTTP 503). */
export interface ArchiveWaitInfo {
  /** The attempt that was answered "still building" (1-based). */
  pass: number;
  /** Attempts allowed in all (`archiveMaxPasses`). */
  maxPasses: number;
  /** How long the client waits now before asking again. */
  waitMs: number;
  /** Time since the first attempt. */
  elapsedMs: number;
}

/** Options of `RestClient.getCheckpointArchiveUrl`: how long to wait for an archive being built. */
export interface ArchiveUrlOptions extends RestCallOptions {
  /** Wait between attempts while the server answers 503 "still building". Default 30 000 ms. */
  archiveWaitMs?: number;
  /** Attempts in all before giving up. Default 6 (contract 3.3). */
  archiveMaxPasses?: number;
  /** Called before each wait. */
  onWait?: (info: ArchiveWaitInfo) => void;
}

/** Options of `RestClient.downloadCheckpoint`. */
export interface DownloadCheckpointOptions extends ArchiveUrlOptions {
  /** Called as bytes arrive (once at the start, then once per received chunk). */
  onProgress?: ArchiveDownloadOptions["onProgress"];
  /** Replace a non-empty target directory. Default false. */
  force?: boolean;
  /** Fail the download when no bytes arrive for this long. Default 60 000 ms. */
  idleTimeout?: number;
  /** fetch for the signed URL (no credentials are ever added). Default globalThis.fetch. */
  fetch?: typeof fetch;
}

/** Options of `RestClient.exportSessionTrace`. */
export interface TraceExportOptions extends RestCallOptions {
  /** Pause between polls while the export is pending. Default 5000 ms. */
  pollIntervalMs?: number;
  /** Called after each "pending" answer. */
  onPending?: (polls: number) => void;
}

/** The time range of `RestClient.getBillingUsage`: whole UTC hours, at most 14 days. */
export interface BillingRange {
  /** Inclusive start: a Date or RFC 3339 text, on a UTC hour. */
  startingOn: Date | string;
  /** Exclusive end: on a UTC hour, later than the start, at most 14 days after it. */
  endingBefore: Date | string;
}
