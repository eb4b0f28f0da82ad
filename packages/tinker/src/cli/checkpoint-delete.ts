// `tinker checkpoint delete PATH... [-y]`. Every path is checked before anything is deleted. Without
// -y it asks on a terminal and refuses (exit 2) when nobody can answer. Each path is deleted on its
// own; a failure is reported and the rest still go, and the exit code is that of the first failure.

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
import { exitCodeFor } from "./exit-codes.js";
import { canPrompt, confirm } from "./prompt.js";

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("delete")
      .description("Delete checkpoints (asks first unless -y)")
      .argument("<paths...>", "tinker:// paths")
      .option("-y, --yes", "do not ask for confirmation"),
  ).action(async (paths: string[], opts: CommonOptions & { yes?: boolean }) => {
    for (const [i, p] of paths.entries()) parseTinkerPath(p, paths.length > 1 ? `path ${i + 1}` : "path");
    const unique = [...new Set(paths)];
    if (!opts.yes) {
      if (!canPrompt()) {
        throw new ValidationError(
          "Refusing to delete without confirmation: not a terminal; pass -y (--yes) to delete",
          "yes",
        );
      }
      note(`About to delete ${unique.length} checkpoint(s):\n  ${unique.join("\n  ")}`);
      if (!(await confirm("Delete them? This cannot be undone."))) {
        note("Nothing deleted.");
        process.exitCode = 1;
        return;
      }
    }
    const deleted: string[] = [];
    const failed: { tinker_path: string; error: string }[] = [];
    let firstError: unknown;
    await withClient(opts, async (client) => {
      for (const path of unique) {
        try {
          await client.deleteCheckpoint(path);
          deleted.push(path);
        } catch (error) {
          firstError ??= error;
          const message = error instanceof Error ? error.message : String(error);
          failed.push({ tinker_path: path, error: message });
          note(`tinker: could not delete ${path}: ${message}`);
        }
      }
    });
    if (outputFormat(opts) === "json") printJson({ deleted, failed });
    else if (deleted.length > 0) out(deleted.map((p) => `Deleted ${p}`).join("\n"));
    if (firstError !== undefined) process.exitCode = exitCodeFor(firstError);
  });
}
