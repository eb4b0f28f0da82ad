// `tinker run info RUN_ID`: one training run (RUN_ID may also be a tinker path of its checkpoints).

import type { Command } from "commander";
import { type CommonOptions, out, outputFormat, printJson, withClient, withCommonOptions } from "./common.js";
import { runDetails, trainingRunJson } from "./render.js";

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("info")
      .description("Show one training run")
      .argument("<run_id>", "run id or tinker:// path"),
  ).action(async (runId: string, opts: CommonOptions) => {
    const run = await withClient(opts, (client) => client.getTrainingRun(runId));
    if (outputFormat(opts) === "json") printJson(trainingRunJson(run));
    else out(runDetails(run));
  });
}
