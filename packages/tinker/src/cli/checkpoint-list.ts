// `tinker checkpoint list [--run-id ID] [--limit 20]`: one run's checkpoints (unpaged), or all of
// yours across runs, newest first, fetched in pages of 1000. --limit 0 shows all.

import type { Command } from "commander";
import {
  type CommonOptions,
  out,
  outputFormat,
  parseWhole,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { checkpointJson, checkpointsTable } from "./render.js";

const BATCH = 1000;

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("list")
      .description("List checkpoints of one run, or all of yours")
      .option("--run-id <id>", "only this training run's checkpoints")
      .option("--limit <n>", "how many checkpoints to show; 0 shows all", "20"),
  ).action(async (opts: CommonOptions & { runId?: string; limit: string }) => {
    const limit = parseWhole(opts.limit, "--limit");
    const checkpoints = await withClient(opts, async (client) => {
      const pages =
        opts.runId !== undefined
          ? client.listCheckpoints(opts.runId)
          : client.listUserCheckpoints({ limit: limit === 0 ? BATCH : Math.min(limit, BATCH) });
      return limit === 0 ? pages.toArray({ limit: Number.POSITIVE_INFINITY }) : pages.take(limit);
    });
    if (outputFormat(opts) === "json") printJson({ checkpoints: checkpoints.map(checkpointJson) });
    else out(checkpoints.length === 0 ? "No checkpoints." : checkpointsTable(checkpoints));
  });
}
