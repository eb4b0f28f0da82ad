// `tinker checkpoint download PATH [-o PARENT | --dir DIR] [--force]`: asks for the archive URL
// (waiting while the server builds it), downloads it without credentials, checks and extracts it,
// and moves it into place only when complete. As in the Python CLI, -o names the parent directory
// (created if needed) and the checkpoint goes into PARENT/<run>_<kind>_<name>; --dir names the
// directory itself. Progress goes to stderr on a terminal.

import { join } from "node:path";
import type { Command } from "commander";
import { ValidationError } from "../client/errors.js";
import { parseTinkerPath } from "../paths/tinker-path.js";
import {
  type CommonOptions,
  note,
  out,
  outputFormat,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { progressLine } from "./progress.js";

/** `<run id>_<kind>_<name>` with characters that are awkward in file names replaced. */
export function defaultDownloadDir(path: string): string {
  const { runId, kind, name } = parseTinkerPath(path);
  return `${runId}_${kind}_${name}`.replace(/[^\w.-]/g, "-");
}

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("download")
      .description("Download and extract a checkpoint (adapter_config.json, adapter_model.safetensors)")
      .argument("<path>", "tinker:// path")
      .option(
        "-o, --output <parent>",
        "parent directory: extract into PARENT/<run>_<kind>_<name> (default: .)",
      )
      .option("--dir <dir>", "the directory to extract into, exactly (instead of -o)")
      .option("--force", "replace the directory if it exists and is not empty"),
  ).action(async (path: string, opts: CommonOptions & { output?: string; dir?: string; force?: boolean }) => {
    if (opts.output !== undefined && opts.dir !== undefined) {
      throw new ValidationError(
        "give -o/--output (a parent directory) or --dir (the directory), not both",
        "dir",
      );
    }
    const dir = opts.dir ?? join(opts.output ?? ".", defaultDownloadDir(path));
    const progress = progressLine("Downloading");
    const result = await withClient(opts, (client) =>
      client
        .downloadCheckpoint(path, dir, {
          force: opts.force === true,
          onProgress: (p) => progress.update(p),
          onWait: (w) =>
            note(
              `The archive is still being built; asking again in ${Math.round(w.waitMs / 1000)} s ` +
                `(attempt ${w.pass} of ${w.maxPasses})`,
            ),
        })
        .finally(() => progress.done()),
    );
    if (outputFormat(opts) === "json") {
      printJson({
        tinker_path: path,
        dir: result.dir,
        files: result.files,
        archive_bytes: result.archiveBytes,
      });
    } else {
      out(`Downloaded ${path} to ${result.dir}\n  ${result.files.join("\n  ")}`);
    }
  });
}
