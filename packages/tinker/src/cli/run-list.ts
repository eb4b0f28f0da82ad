// `tinker run list [--limit 20] [--access-scope owned|accessible]`: fetched in pages of 100; 0 = all.

import type { Command } from "commander";
import type { AccessScope } from "../api/rest-schemas.js";
import {
  type CommonOptions,
  out,
  outputFormat,
  parseWhole,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { accessScopeOption, takeListed } from "./list-command.js";
import { runsTable, trainingRunJson } from "./render.js";

const BATCH = 100;

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("list")
      .description("List training runs, newest first")
      .option("--limit <n>", "how many runs to show; 0 shows all", "20")
      .addOption(accessScopeOption("owned runs, or all runs you can read")),
  ).action(async (opts: CommonOptions & { limit: string; accessScope: AccessScope }) => {
    const limit = parseWhole(opts.limit, "--limit");
    const runs = await withClient(opts, (client) =>
      takeListed(limit, BATCH, (pageSize) =>
        client.listTrainingRuns({ limit: pageSize, accessScope: opts.accessScope }),
      ),
    );
    if (outputFormat(opts) === "json") printJson({ training_runs: runs.map(trainingRunJson) });
    else out(runs.length === 0 ? "No training runs." : runsTable(runs));
  });
}
