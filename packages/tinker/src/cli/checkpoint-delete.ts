// `tinker checkpoint delete PATH... [-y]` or `tinker checkpoint delete --run-id RUN [--type T]
// [--before D] [--after D] [-y]` (the Python CLI's filters). Every path is checked before anything
// is deleted. Without -y it shows what will go (with sizes and times for a run) and asks on a
// terminal, and refuses (exit 2) when nobody can answer. Each checkpoint is deleted on its own; a
// failure is reported and the rest still go, and the exit code is that of the first failure.

import type { Command } from "commander";
import type { Checkpoint } from "../api/rest-schemas.js";
import { ValidationError } from "../client/errors.js";
import type { RestClient } from "../clients/rest/rest-client.js";
import { parseTinkerPath } from "../paths/tinker-path.js";
import { filterCheckpoints, parseCheckpointType, parseUtcDate } from "./checkpoint-filters.js";
import {
  type CommonOptions,
  formatBytes,
  formatTime,
  note,
  out,
  outputFormat,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { exitCodeFor } from "./exit-codes.js";
import { canPrompt, confirm } from "./prompt.js";

interface DeleteOptions extends CommonOptions {
  yes?: boolean;
  runId?: string;
  type?: string;
  before?: string;
  after?: string;
}

const EXAMPLES =
  "e.g. tinker checkpoint delete tinker://RUN/weights/0001, or tinker checkpoint delete --run-id RUN --type weights --before 2024-06-01";

/** Checks the flags together before anything is asked of the server. */
function checkArguments(paths: string[], opts: DeleteOptions): void {
  const filtered = opts.type !== undefined || opts.before !== undefined || opts.after !== undefined;
  if (paths.length === 0 && opts.runId === undefined) {
    throw new ValidationError(`give checkpoint paths or --run-id; ${EXAMPLES}`, "paths");
  }
  if (paths.length > 0 && opts.runId !== undefined) {
    throw new ValidationError("give either checkpoint paths or --run-id (with filters), not both", "runId");
  }
  if (filtered && opts.runId === undefined) {
    throw new ValidationError(`--type, --before and --after need --run-id; ${EXAMPLES}`, "runId");
  }
  for (const [i, p] of paths.entries()) parseTinkerPath(p, paths.length > 1 ? `path ${i + 1}` : "path");
}

async function ask(summary: string, count: number): Promise<boolean> {
  if (!canPrompt()) {
    throw new ValidationError(
      "Refusing to delete without confirmation: not a terminal; pass -y (--yes) to delete",
      "yes",
    );
  }
  note(`${summary}\nWARNING: this is permanent and cannot be undone.`);
  return confirm(`Delete ${count} checkpoint(s)?`);
}

function runSummary(checkpoints: readonly Checkpoint[]): string {
  const total = checkpoints.reduce((n, c) => n + (c.sizeBytes ?? 0), 0);
  const lines = checkpoints.map(
    (c) => `  - ${c.tinkerPath} (${formatBytes(c.sizeBytes)}, created ${formatTime(c.time)})`,
  );
  return `Will delete ${checkpoints.length} checkpoint(s):\n${lines.join("\n")}\nTotal size: ${formatBytes(total)}`;
}

/** Deletes up to 8 at a time (the Python CLI uses 32 threads); results keep the input order. */
async function deleteAll(client: RestClient, paths: readonly string[]) {
  const outcome: ({ ok: true } | { ok: false; error: unknown })[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      try {
        await client.deleteCheckpoint(paths[i]!);
        outcome[i] = { ok: true };
      } catch (error) {
        outcome[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, paths.length) }, worker));
  return outcome;
}

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("delete")
      .description("Delete checkpoints by path, or a run's checkpoints by filter (asks first unless -y)")
      .argument("[paths...]", "tinker:// paths")
      .option("--run-id <id>", "delete the checkpoints of this training run (with the filters below)")
      .option("--type <type>", "only weights or sampler_weights (needs --run-id)")
      .option("--before <date>", "only those saved before this UTC date/time, ISO 8601 (needs --run-id)")
      .option("--after <date>", "only those saved after this UTC date/time, ISO 8601 (needs --run-id)")
      .option("-y, --yes", "do not ask for confirmation"),
  ).action(async (paths: string[], opts: DeleteOptions) => {
    checkArguments(paths, opts);
    const filter = {
      ...(opts.type !== undefined ? { type: parseCheckpointType(opts.type) } : {}),
      ...(opts.before !== undefined ? { before: parseUtcDate(opts.before, "--before") } : {}),
      ...(opts.after !== undefined ? { after: parseUtcDate(opts.after, "--after") } : {}),
    };
    const json = outputFormat(opts) === "json";
    const deleted: string[] = [];
    const failed: { tinker_path: string; error: string }[] = [];
    let firstError: unknown;
    let cancelled = false;
    await withClient(opts, async (client) => {
      let targets = [...new Set(paths)];
      let summary = `Will delete ${targets.length} checkpoint(s):\n  - ${targets.join("\n  - ")}`;
      if (opts.runId !== undefined) {
        const all = await client.listCheckpoints(opts.runId).toArray({ limit: Number.POSITIVE_INFINITY });
        const chosen = filterCheckpoints(all, filter);
        targets = chosen.map((c) => c.tinkerPath);
        summary = runSummary(chosen);
        if (targets.length === 0) {
          if (!json) out(`No checkpoints of run ${opts.runId} match the filters; nothing deleted.`);
          return;
        }
      }
      if (!opts.yes && !(await ask(summary, targets.length))) {
        cancelled = true;
        return;
      }
      const outcome = await deleteAll(client, targets);
      outcome.forEach((o, i) => {
        const path = targets[i]!;
        if (o.ok) {
          deleted.push(path);
          return;
        }
        firstError ??= o.error;
        const message = o.error instanceof Error ? o.error.message : String(o.error);
        failed.push({ tinker_path: path, error: message });
        note(`tinker: could not delete ${path}: ${message}`);
      });
    });
    if (cancelled) {
      note("Nothing deleted.");
      process.exitCode = 1;
      return;
    }
    if (json) printJson({ deleted, deleted_count: deleted.length, failed });
    else if (deleted.length > 0) out(deleted.map((p) => `Deleted ${p}`).join("\n"));
    if (firstError !== undefined) process.exitCode = exitCodeFor(firstError);
  });
}
