// `tinker run list [--limit 20] [--access-scope owned|accessible] [--columns id,model,...]`: fetched
// in pages of 100; 0 = all. --columns picks the table's columns (run-columns.ts); JSON has every field.

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
import { table, trainingRunJson } from "./render.js";
import { parseRunColumns, RUN_COLUMNS } from "./run-columns.js";

const BATCH = 100;

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("list")
      .description("List training runs, newest first")
      .option("--limit <n>", "how many runs to show; 0 shows all", "20")
      .addOption(accessScopeOption("owned runs, or all runs you can read"))
      .option(
        "--columns <list>",
        `table columns, comma-separated (default: id,model,lora,updated,status); one of: ${Object.keys(RUN_COLUMNS).join(", ")}`,
      ),
  ).action(async (opts: CommonOptions & { limit: string; accessScope: AccessScope; columns?: string }) => {
    const limit = parseWhole(opts.limit, "--limit");
    const columns = parseRunColumns(opts.columns);
    const runs = await withClient(opts, (client) =>
      takeListed(limit, BATCH, (pageSize) =>
        client.listTrainingRuns({ limit: pageSize, accessScope: opts.accessScope }),
      ),
    );
    if (outputFormat(opts) === "json") printJson({ training_runs: runs.map(trainingRunJson) });
    else
      out(
        runs.length === 0
          ? "No training runs."
          : table(
              columns.map((c) => RUN_COLUMNS[c]!.header),
              runs.map((r) => columns.map((c) => RUN_COLUMNS[c]!.cell(r))),
            ),
      );
  });
}
