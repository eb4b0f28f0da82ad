// Downloading a signed URL (a session trace) to one file: a plain GET without credentials, written
// to a temporary file beside the target and renamed into place only when complete.

import { createWriteStream } from "node:fs";
import { lstat, mkdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  APIConnectionError,
  APIUserAbortError,
  makeAPIError,
  TinkerError,
  ValidationError,
} from "../client/errors.js";
import { redact } from "../client/redact.js";

export interface FileDownloadOptions {
  signal?: AbortSignal;
  /** Replace an existing file. Default false. */
  force?: boolean;
  fetch?: typeof fetch;
}

export async function downloadToFile(
  url: string,
  file: string,
  options: FileDownloadOptions = {},
): Promise<{ file: string; bytes: number }> {
  const target = resolve(file);
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new ValidationError(`${file} is a directory; give a file name`, "file");
  if (existing && !options.force) {
    throw new ValidationError(`${file} already exists; pass force (--force) to replace it`, "file");
  }
  await mkdir(dirname(target), { recursive: true });
  const fetchImpl = options.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await fetchImpl(url, { method: "GET", ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted) throw new APIUserAbortError(undefined, { cause: error });
    throw new APIConnectionError(
      `Download failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  if (!res.ok) {
    const text = redact(await res.text().catch(() => ""));
    throw makeAPIError(res.status, text, res.headers, {
      message: `Download failed with status ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`,
    });
  }
  const expected = res.headers.get("content-length");
  const temp = join(dirname(target), `.${basename(target)}.download-${process.pid}-${Date.now()}`);
  let bytes = 0;
  try {
    const outFile = createWriteStream(temp, { flags: "wx", mode: 0o644 });
    const closed = new Promise<void>((ok, fail) => {
      outFile.once("close", ok);
      outFile.once("error", fail);
    });
    try {
      for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        if (!outFile.write(chunk)) await new Promise<void>((ok) => outFile.once("drain", () => ok()));
      }
    } finally {
      outFile.end();
      await closed;
    }
    if (
      expected !== null &&
      /^\d+$/.test(expected) &&
      Number(expected) !== bytes &&
      !res.headers.get("content-encoding")
    ) {
      throw new TinkerError(`Download ended after ${bytes} of ${expected} bytes; try again`);
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    if (options.signal?.aborted && !(error instanceof APIUserAbortError))
      throw new APIUserAbortError(undefined, { cause: error });
    if (error instanceof TinkerError) throw error;
    throw new APIConnectionError(
      `Download failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return { file: target, bytes };
}
