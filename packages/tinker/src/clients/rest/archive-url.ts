// A checkpoint archive's signed download URL (contract 3.3). While the server answers 503 ("still
// building") the client waits and asks again, a bounded number of times; each attempt also has the
// HTTP layer's own retries. The answer is a redirect (Location, Expires) or JSON {url, expires}.

import * as rest from "../../api/rest.js";
import { type ArchiveUrl, archiveUrlBody } from "../../api/rest-schemas.js";
import {
  APIError,
  InternalServerError,
  makeAPIError,
  ResponseValidationError,
  ValidationError,
} from "../../client/errors.js";
import type { HttpClient } from "../../client/http.js";
import { parseResponse } from "../../client/response-schema.js";
import { abortableSleep, sleep } from "../../client/wait.js";
import type { TinkerPath } from "../../paths/tinker-path.js";
import type { ArchiveUrlOptions, RestCallOptions } from "./types.js";

/** Wait between attempts while the archive is being built. */
export const DEFAULT_ARCHIVE_WAIT_MS = 30_000;
/** Attempts in all (contract 3.3). */
export const DEFAULT_ARCHIVE_MAX_PASSES = 6;
const ARCHIVE_URL_FALLBACK_TTL_MS = 15 * 60_000;

/** The archive URL of the checkpoint at `ref` (`path` is its text, for messages), waiting while it is built. */
export async function waitForArchiveUrl(
  http: HttpClient,
  path: string,
  ref: TinkerPath,
  options: ArchiveUrlOptions,
): Promise<ArchiveUrl> {
  const { archiveWaitMs, archiveMaxPasses, onWait, ...call } = options;
  const waitMs = archiveWaitMs ?? DEFAULT_ARCHIVE_WAIT_MS;
  const maxPasses = archiveMaxPasses ?? DEFAULT_ARCHIVE_MAX_PASSES;
  const started = http.clock.now();
  for (let pass = 1; ; pass++) {
    try {
      return await archiveUrlOnce(http, ref, call);
    } catch (error) {
      if (!(error instanceof InternalServerError) || error.status !== 503) throw error;
      const elapsedMs = http.clock.now() - started;
      if (pass >= maxPasses) {
        throw makeAPIError(503, error.body, error.headers, {
          method: error.method,
          path: error.path,
          message:
            `The archive of ${path} was still being built after ${maxPasses} attempts ` +
            `(${Math.round(elapsedMs / 1000)} s); try again later. Server: ${APIError.detailOf(error.body) || "503"}`,
        });
      }
      if (pass === 1) http.logger.info(`The archive of ${path} is being built; this may take a while`);
      else if (pass === 5) http.logger.warn(`The archive of ${path} is still being built`);
      onWait?.({ pass, maxPasses, waitMs, elapsedMs });
      await abortableSleep((ms, signal) => sleep(http.clock, ms, signal), waitMs, call.signal);
    }
  }
}

/** Checks the wait options of `getCheckpointArchiveUrl` (before anything is sent). */
export function checkArchiveWaitOptions(options: ArchiveUrlOptions): void {
  const waitMs = options.archiveWaitMs ?? DEFAULT_ARCHIVE_WAIT_MS;
  const maxPasses = options.archiveMaxPasses ?? DEFAULT_ARCHIVE_MAX_PASSES;
  if (!Number.isFinite(waitMs) || waitMs < 0)
    throw new ValidationError("archiveWaitMs must be >= 0", "archiveWaitMs");
  if (!Number.isSafeInteger(maxPasses) || maxPasses < 1) {
    throw new ValidationError("archiveMaxPasses must be a whole number >= 1", "archiveMaxPasses");
  }
}

async function archiveUrlOnce(http: HttpClient, ref: TinkerPath, call: RestCallOptions): Promise<ArchiveUrl> {
  const res = await rest.requestCheckpointArchive(http, ref, call);
  const response = res.data;
  const where = `GET .../checkpoints/${ref.checkpointId}/archive`;
  if (res.status >= 300 && res.status < 400) {
    await response.body?.cancel().catch(() => {});
    const location = res.headers.get("location");
    if (!location) {
      throw new ResponseValidationError(
        `The server answered ${res.status} without a Location header (${where})`,
      );
    }
    const url = new URL(location, http.url("/")).toString();
    const expiresHeader = res.headers.get("expires");
    const parsed = expiresHeader ? Date.parse(expiresHeader) : Number.NaN;
    const expires = new Date(Number.isNaN(parsed) ? http.clock.now() + ARCHIVE_URL_FALLBACK_TTL_MS : parsed);
    return { url, expires };
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ResponseValidationError(
      `Expected JSON {url, expires} from ${where}, got: ${text.slice(0, 200)}`,
    );
  }
  const { url, expires } = parseResponse(archiveUrlBody, json, `Unexpected response from ${where}`);
  return { url, expires };
}
