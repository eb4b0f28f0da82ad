// `tinker checkpoint info PATH`: the checkpoint (found in its run's list) and its run.

import type { Command } from "commander";
import { parseTinkerPath } from "../paths/tinker-path.js";
import { type CommonOptions, out, outputFormat, printJson, withClient, withCommonOptions } from "./common.js";
import { checkpointDetails, checkpointJson, trainingRunJson } from "./render.js";

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("info")
      .description("Show one checkpoint and its training run")
      .argument("<path>", "tinker:// path"),
  ).action(async (path: string, opts: CommonOptions) => {
    const { runId } = parseTinkerPath(path);
    const { checkpoint, run } = await withClient(opts, async (client) => ({
      checkpoint: await client.getCheckpoint(path),
      run: await client.getTrainingRun(runId, { accessScope: "accessible" }),
    }));
    if (outputFormat(opts) === "json")
      printJson({ ...checkpointJson(checkpoint), training_run: trainingRunJson(run) });
    else out(checkpointDetails(checkpoint, run));
  });
}
