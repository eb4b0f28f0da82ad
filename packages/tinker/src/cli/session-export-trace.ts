// `tinker session export-trace ID [-o FILE] [--url-only] [--force]`: asks the server for a trace
// export, polls every 5 s while it is pending, then downloads the trace (or only prints its URL).

import type { Command } from "commander";
import { downloadToFile } from "../download/file.js";
import { pathSegment } from "../paths/segments.js";
import {
  type CommonOptions,
  note,
  out,
  outputFormat,
  outVerbatim,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";

/** The file name the URL's path ends in, or `<session>.pftrace`. */
export function defaultTraceFile(sessionId: string, url: string): string {
  try {
    const last = new URL(url).pathname.split("/").pop() ?? "";
    if (/^[\w.:-]+\.[A-Za-z0-9]+$/.test(last)) return last.replace(/:/g, "-");
  } catch {
    // fall through
  }
  return `${sessionId.replace(/[^\w.-]/g, "-")}.pftrace`;
}

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("export-trace")
      .description("Export a session's trace (Perfetto) and download it")
      .argument("<session_id>")
      .option("-o, --output <file>", "where to write the trace (default: the name the server gives)")
      .option("--url-only", "print the signed URL instead of downloading")
      .option("--force", "replace the output file if it exists"),
  ).action(
    async (
      sessionId: string,
      opts: CommonOptions & { output?: string; urlOnly?: boolean; force?: boolean },
    ) => {
      pathSegment(sessionId, "session_id");
      let told = false;
      const url = await withClient(opts, (client) =>
        client.exportSessionTrace(sessionId, {
          onPending: () => {
            if (!told) note("The trace export is being prepared; polling every 5 s...");
            told = true;
          },
        }),
      );
      const json = outputFormat(opts) === "json";
      if (opts.urlOnly) {
        outVerbatim(json ? JSON.stringify({ session_id: sessionId, url }, null, 2) : url, opts);
        return;
      }
      const saved = await downloadToFile(url, opts.output ?? defaultTraceFile(sessionId, url), {
        force: opts.force === true,
      });
      if (json) printJson({ session_id: sessionId, file: saved.file, bytes: saved.bytes });
      else out(`Wrote the trace of ${sessionId} to ${saved.file} (${saved.bytes} bytes)`);
    },
  );
}
