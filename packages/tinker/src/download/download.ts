// Downloading a checkpoint archive from its signed URL (contract 3.3): a plain GET with no
// credentials (the URL itself is the permission; an API key must never travel to a storage host),
// streamed through the safe extractor into a staging directory, checked for completeness, and only
// then moved into the target directory.

import { resolve } from "node:path";
import { clearTimeout as clearTimer, setTimeout as setTimer } from "node:timers";
import { watchAbort } from "../client/abort-watch.js";
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  makeAPIError,
  TinkerError,
} from "../client/errors.js";
import { redact } from "../client/redact.js";
import { ArchiveError, extractTar } from "./extract.js";
import { makeStagingDir, placeStaged, removeQuietly, targetState } from "./target.js";

/** What `onProgress` is told while an archive downloads. */
export interface DownloadProgress {
  /** Bytes received so far. */
  receivedBytes: number;
  /** From Content-Length; undefined when the server did not say. */
  totalBytes: number | undefined;
}

/**
 * Options of a checkpoint-archive download: `RestClient.downloadCheckpoint` and
 * `tinker checkpoint download`.
 */
export interface ArchiveDownloadOptions {
  /** Aborts the download; the target directory is left as it was. */
  signal?: AbortSignal;
  /** Called as bytes arrive (once per received chunk, and once at the start). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Replace an existing non-empty target directory. Default false. */
  force?: boolean;
  /** Fail when no bytes arrive for this long, ms. Default 60 000 (contract 1.8). */
  idleTimeout?: number;
  /** Files that must be in the archive's top level; each entry lists acceptable alternatives. */
  requiredFiles?: readonly (readonly string[])[];
  /** The fetch used for the signed URL (no credentials are added). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** A finished download: where the files are. */
export interface DownloadResult {
  /** The absolute target directory. */
  dir: string;
  /** Relative paths of the files written. */
  files: string[];
  /** Bytes received over the wire (the archive's size). */
  archiveBytes: number;
}

/** What a checkpoint archive must hold (the official CLI also accepts a .bin adapter). */
export const CHECKPOINT_FILES: readonly (readonly string[])[] = [
  ["adapter_config.json"],
  ["adapter_model.safetensors", "adapter_model.bin"],
];

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

function describeUrl(url: string): string {
  // Signed URLs carry their token in the query: never print it.
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

type Cause = "user" | "idle" | "extract";

/** Downloads the tar at `url` and extracts it into `dir`; atomic (see target.ts). */
export async function downloadArchive(
  url: string,
  dir: string,
  options: ArchiveDownloadOptions = {},
): Promise<DownloadResult> {
  const force = options.force ?? false;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const idleMs = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS;
  const where = describeUrl(url);
  if (options.signal?.aborted) throw new APIUserAbortError();
  await targetState(dir, force);

  const controller = new AbortController();
  let cause: Cause | undefined;
  const stop = (why: Cause) => {
    cause ??= why;
    controller.abort();
  };
  const onUserAbort = () => stop("user");
  const unwatchUser = watchAbort(options.signal, onUserAbort);
  let idle: ReturnType<typeof setTimeout> | undefined;
  const armIdle = () => {
    if (idle !== undefined) clearTimer(idle);
    idle = setTimer(() => stop("idle"), idleMs);
    idle.unref();
  };
  const transportError = (error: unknown): TinkerError => {
    if (cause === "user") return new APIUserAbortError(undefined, { cause: error });
    if (cause === "idle") {
      return new APITimeoutError(`The archive download stalled: no data for ${idleMs} ms (${where})`, {
        cause: error,
      });
    }
    const inner = (error as { cause?: unknown })?.cause;
    const detail =
      inner instanceof Error ? inner.message : error instanceof Error ? error.message : String(error);
    return new APIConnectionError(`The archive download failed (${where}): ${detail}`, { cause: error });
  };

  let staging: string | undefined;
  try {
    armIdle();
    let res: Response;
    try {
      // No headers at all: the signed URL is the credential.
      res = await fetchImpl(url, { method: "GET", signal: controller.signal, redirect: "follow" });
    } catch (error) {
      throw transportError(error);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      throw makeAPIError(res.status, redact(text), res.headers, {
        message: `Downloading the archive failed with status ${res.status} (${where})${text ? `: ${redact(text).slice(0, 300)}` : ""}`,
      });
    }
    const lengthHeader = res.headers.get("content-length");
    const encoded = (res.headers.get("content-encoding") ?? "identity") !== "identity";
    const totalBytes =
      lengthHeader !== null && !encoded && /^\d+$/.test(lengthHeader.trim())
        ? Number(lengthHeader)
        : undefined;
    let receivedBytes = 0;
    options.onProgress?.({ receivedBytes, totalBytes });

    const body = res.body;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      if (!body) return;
      try {
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
          armIdle();
          receivedBytes += chunk.byteLength;
          if (totalBytes !== undefined && receivedBytes > totalBytes) {
            throw new ArchiveError(
              `The server sent more than the ${totalBytes} bytes it announced (${where})`,
            );
          }
          options.onProgress?.({ receivedBytes, totalBytes });
          yield chunk;
        }
      } catch (error) {
        if (error instanceof TinkerError) throw error;
        throw transportError(error);
      }
      if (totalBytes !== undefined && receivedBytes !== totalBytes) {
        throw new ArchiveError(
          `The download ended after ${receivedBytes} of ${totalBytes} bytes (${where}); try again`,
        );
      }
    }

    staging = await makeStagingDir(dir);
    const extracted = await extractTar(chunks(), staging, { cancelSource: () => stop("extract") });
    if (cause === "user") throw new APIUserAbortError();
    checkRequiredFiles(extracted.files, options.requiredFiles ?? []);
    await placeStaged(staging, dir, force);
    staging = undefined;
    return { dir: resolve(dir), files: extracted.files, archiveBytes: receivedBytes };
  } catch (error) {
    if (cause === "user" && !(error instanceof APIUserAbortError)) {
      throw new APIUserAbortError(undefined, { cause: error });
    }
    throw error;
  } finally {
    if (idle !== undefined) clearTimer(idle);
    unwatchUser();
    if (staging !== undefined) await removeQuietly(staging);
  }
}

function checkRequiredFiles(files: string[], required: readonly (readonly string[])[]): void {
  const present = new Set(files);
  const missing = required.filter((alternatives) => !alternatives.some((f) => present.has(f)));
  if (missing.length === 0) return;
  const names = missing.map((alts) => alts.join(" or ")).join(", ");
  const held = files.length > 0 ? files.join(", ") : "no files";
  throw new ArchiveError(
    `The archive is not a checkpoint: it is missing ${names} (it holds ${held}). Nothing was written.`,
  );
}
