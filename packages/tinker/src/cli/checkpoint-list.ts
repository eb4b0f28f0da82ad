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
import { takeListed } from "./list-command.js";
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
    const checkpoints = await withClient(opts, (client) =>
      takeListed(limit, BATCH, (pageSize) =>
        // One run's checkpoints come in a single response: no page size to ask for.
        opts.runId !== undefined
          ? client.listCheckpoints(opts.runId)
          : client.listUserCheckpoints({ limit: pageSize }),
      ),
    );
    if (outputFormat(opts) === "json") printJson({ checkpoints: checkpoints.map(checkpointJson) });
    else out(checkpoints.length === 0 ? "No checkpoints." : checkpointsTable(checkpoints));
  });
}
